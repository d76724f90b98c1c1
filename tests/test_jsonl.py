"""The one JSON-lines writer: whole lines, torn or foreign lines skipped on reading, secrets redacted."""

from __future__ import annotations

from pathlib import Path

from llmos import jsonl
from llmos.agent.audit import AuditLog


def test_append_creates_the_folder_and_reads_back_in_order(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "log.jsonl"
    jsonl.append(path, {"n": 1}, {"n": 2})
    jsonl.append(path, {"n": 3, "text": "naïve ✓"}, durable=True)
    assert [r["n"] for r in jsonl.read(path)] == [1, 2, 3]
    assert "naïve ✓" in path.read_text(encoding="utf-8")  # written as text, not escapes
    assert jsonl.tail(path, 2) == [{"n": 2}, {"n": 3, "text": "naïve ✓"}]


def test_a_torn_line_or_a_line_that_is_not_an_object_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_bytes(b'{"n": 1}\n[1, 2]\n"text"\n\xff\xfe\n{"n": 2}\n{"n": 3, "cut')
    assert [r["n"] for r in jsonl.read(path)] == [1, 2]
    assert list(jsonl.read(tmp_path / "absent.jsonl")) == []


def test_audit_records_are_redacted(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "plain-key-from-the-environment")
    log = AuditLog(tmp_path / "audit.jsonl")
    log.record(server="web", tool="fetch", arguments={"url": "https://x/?k=sk-abcdefghijkl", "token": "t0ps3cret",
                                                      "note": "plain-key-from-the-environment"},
               decision="allow", by="annotation", status="ok")
    text = (tmp_path / "audit.jsonl").read_text()
    assert "sk-abcdefghijkl" not in text and "t0ps3cret" not in text and "plain-key" not in text
    [record] = log.recent()
    assert record["arguments"]["token"] == "****" and record["status"] == "ok"
