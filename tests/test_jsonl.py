"""The one JSON-lines writer: whole lines never glued onto a torn one, torn or foreign lines skipped on
reading, special files never opened, secrets redacted."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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


def test_a_record_after_a_torn_line_starts_on_its_own_line(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_bytes(b'{"n": 1}\n{"n": 2, "cu')  # a crash tore the last record
    jsonl.append(path, {"n": 3})
    assert [r["n"] for r in jsonl.read(path)] == [1, 3]
    assert [(line.number, line.problem) for line in jsonl.lines(path)] == [(1, None), (2, jsonl.TORN), (3, None)]
    assert jsonl.read_counted(path) == ([{"n": 1}, {"n": 3}], 1)


def test_a_pipe_or_folder_where_the_log_should_be_is_never_opened(tmp_path: Path) -> None:
    pipe, folder = tmp_path / "pipe.jsonl", tmp_path / "folder.jsonl"
    os.mkfifo(pipe)
    folder.mkdir()
    for path in (pipe, folder):
        with pytest.raises(OSError) as raised:
            jsonl.append(path, {"n": 1})  # opening the FIFO for writing would block without a reader
        assert raised.value.filename == str(path) and "not a file" in raised.value.strerror
        with pytest.raises(OSError):
            list(jsonl.read(path))
    assert not any(folder.iterdir())
