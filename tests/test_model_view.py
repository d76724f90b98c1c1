"""What the model reads of a tool (agent/model_view.py): real results of the real filesystem server written
compactly, schemas without generated titles, and the structured result kept beside the text for resume."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import pytest

from llmos.agent import model_view
from llmos.conversation.session import ChatSession
from llmos.conversation.store import SessionStore
from llmos.llm.messages import Message, ToolCall
from llmos.llm.providers.base import estimate_tokens
from tests.mcp_helpers import call, memory_client


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "user"
    (home / "Downloads").mkdir(parents=True)
    (home / "Downloads" / "ubuntu.iso").write_bytes(b"\0" * 2_500_000)
    (home / "Downloads" / "notes.txt").write_text("alpha\n")
    (home / "Downloads" / "tax-2025.pdf").write_bytes(b"%PDF-1.4\n" + b"\0" * 3000)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(home)
    return home / "Downloads"


def _real(tool: str, **arguments: object) -> dict:
    async def go() -> dict:
        async with memory_client("filesystem") as client:
            return await call(client, tool, **arguments)
    return asyncio.run(go())


def test_a_real_listing_keeps_every_fact_in_far_fewer_tokens(folder: Path) -> None:
    listing = _real("list_directory", path=str(folder))
    text = model_view.result(listing)
    lines = text.splitlines()
    assert lines[1] == "entries (3): name | type | size | modified"  # one header, no repeated keys
    row = next(line for line in lines if "ubuntu.iso" in line)
    assert row.split(" | ")[:3] == ["  ubuntu.iso", "file", "2.4 MB"]  # a size, not 2500000
    assert "notes.txt | file | 6 bytes" in text and "tax-2025.pdf" in text
    assert f"{folder.name}/ubuntu.iso" not in text  # each entry's path is its folder's path plus its name
    modified = time.localtime(os.path.getmtime(folder / "ubuntu.iso"))
    assert time.strftime("%Y-%m-%d %H:%M:%S", modified) in row
    assert "null" not in text and "\nnote" not in text  # a null says nothing
    as_json = json.dumps(listing, ensure_ascii=False)
    assert estimate_tokens(text) < 0.6 * estimate_tokens(as_json)  # measured: 57 against 113


def test_paths_that_are_not_the_folders_own_are_kept(folder: Path) -> None:
    found = _real("search_files", pattern="*.pdf", path=str(folder.parent))
    text = model_view.result(found)
    assert "Downloads/tax-2025.pdf" in text  # found in a subfolder: the path is the fact


def test_times_in_another_zone_keep_their_offset_and_text_stays_readable() -> None:
    local = model_view._local_offset()
    other = "+05:30" if local != "+05:30" else "+01:00"
    text = model_view.result({"when": f"2026-12-02T18:47:30{local}", "then": f"2026-12-02T18:47:30{other}",
                              "body": "line one\nline two", "tags": ["a, b", "c"], "empty": [],
                              "hidden": True, "nested": {"free_bytes": 3 * 2**30, "count": 3}})
    assert "when: 2026-12-02 18:47:30\n" in text
    assert f"then: 2026-12-02 18:47:30{other}" in text
    assert "body:\n  line one\n  line two" in text
    assert 'tags: ["a, b", "c"]' in text  # a comma inside an item: the list stays unambiguous
    assert "empty: (none)" in text and "hidden: true" in text
    assert "nested:\n  free_bytes: 3.0 GB\n  count: 3" in text


def test_schemas_lose_the_title_keyword_but_not_a_title_argument(folder: Path) -> None:
    async def go() -> list:
        async with memory_client("filesystem") as client:
            return (await client.list_tools()).tools
    tools = {t.name: t.input_schema for t in asyncio.run(go())}
    listing = model_view.schema(tools["list_directory"])
    assert "title" not in json.dumps(listing)
    assert listing["properties"]["sort"]["enum"] == ["name", "size", "time"]  # the rest is untouched
    assert listing["properties"]["path"]["default"] == "."
    with_title = {"type": "object", "title": "noteArguments", "required": ["title"],
                  "properties": {"title": {"type": "string", "title": "Title"},
                                 "tags": {"type": "array", "items": {"type": "string", "title": "Tag"}},
                                 "when": {"anyOf": [{"type": "string", "title": "W"}, {"type": "null"}]}}}
    assert model_view.schema(with_title) == {
        "type": "object", "required": ["title"],
        "properties": {"title": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}},
                       "when": {"anyOf": [{"type": "string"}, {"type": "null"}]}}}
    before = sum(estimate_tokens(json.dumps(s)) for s in tools.values())
    after = sum(estimate_tokens(json.dumps(model_view.schema(s))) for s in tools.values())
    assert after < before * 0.9


def test_a_resumed_session_still_knows_what_a_compact_result_showed(folder: Path, tmp_path: Path) -> None:
    """The model reads text; references read the structured result, which the session file keeps."""
    listing = _real("list_directory", path=str(folder), sort="size")
    store = SessionStore("s-view", directory=tmp_path / "sessions")
    call_ = ToolCall("c1", "list_directory", {"path": str(folder), "sort": "size"})
    for message in (Message("user", "what is in my downloads?"), Message("assistant", "", tool_calls=[call_]),
                    Message("tool", model_view.result(listing), tool_call_id="c1", name="list_directory",
                            data=listing),
                    Message("assistant", "ubuntu.iso, tax-2025.pdf and notes.txt.")):
        store.append(message)
    resumed = ChatSession.resume(SessionStore("s-view", directory=tmp_path / "sessions"))
    [first] = [r for r in resumed.resolve("delete the pdf") if not r.ambiguous]
    assert first.referents[0].value.endswith("tax-2025.pdf")
    [biggest] = [r for r in resumed.resolve("open the biggest one") if not r.ambiguous]
    assert biggest.referents[0].value.endswith("ubuntu.iso")
