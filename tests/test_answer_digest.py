"""The digest the answer step shows a small model, over real results of the built-in filesystem server:
what was found first (not the path the call was given), sizes a person reads, and "nothing found" said."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from llmos.agent import answer_step
from llmos.agent.host import ToolInfo
from llmos.agent.loop import ToolRun
from llmos.llm.messages import ToolCall
from tests.mcp_helpers import call, memory_client


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "user"
    (home / "Downloads").mkdir(parents=True)
    (home / "Downloads" / "a.bin").write_bytes(b"\0" * 600_000)
    (home / "Downloads" / "b.bin").write_bytes(b"\0" * 400_000)
    (home / "video.mp4").write_bytes(b"\0" * 2_500_000)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(home)
    return home


def said(tool: str, request: str, **arguments: Any) -> str:
    async def go() -> Any:
        async with memory_client("filesystem") as client:
            return await call(client, tool, **arguments)
    structured = asyncio.run(go())
    run = ToolRun(ToolCall("1", tool, arguments), None, "allow", "annotation", True, "", structured)
    return answer_step.digest(run, request)


def test_what_was_found_leads_not_the_path_the_call_was_given(home: Path) -> None:
    """Measured on the 0.5B: the digest began "path: ~; files: ~/ubuntu.iso", and the answer was "The file
    '~' is taking up the most space"."""
    text = said("find_largest", "which file in here is taking up the most space?", path=str(home))
    assert text.startswith("files: ~/video.mp4 (size 2.4 MB)"), text
    assert "path: ~" not in text


def test_sizes_read_as_a_person_reads_them(home: Path) -> None:
    """Measured: copying "total_bytes: 1000000" the 0.5B wrote "100,000 bytes", and "2500000" as "250,000"."""
    text = said("disk_usage", "how much space is my Downloads folder using?", path="Downloads")
    assert text.startswith("total: 977 KB"), text
    assert "1000000" not in text
    assert "2.4 MB" in said("disk_usage", "how big is video.mp4?", path="video.mp4")


def test_a_search_that_found_nothing_says_so(home: Path) -> None:
    """Measured: an empty search_files result was digested as "path: ~", and the answer described the path."""
    text = said("search_files", "find all my pdfs", pattern="*.pdf")
    assert text.startswith("nothing found (paths: none)"), text


def test_after_a_search_that_found_nothing_the_tools_stay_offered(home: Path) -> None:
    """Measured: "which of my files mentions invoice 4471?" → search_files(pattern="invoice 4471"), nothing;
    the next step had to answer, so the note pointing to search_content could not be followed."""
    async def go() -> Any:
        async with memory_client("filesystem") as client:
            return [await call(client, "search_files", pattern=p) for p in ("invoice 4471", "*.bin")]
    empty, found = asyncio.run(go())
    tool = ToolInfo("filesystem", "search_files", "search_files", "", {}, {"readOnlyHint": True}, True, True)
    runs = [ToolRun(ToolCall("1", "search_files", {}), tool, "allow", "annotation", True, "", r)
            for r in (empty, found)]
    request = "which of my files mentions invoice 4471?"
    assert not answer_step.answer_next([runs[0]], request, just_repeated=False)
    assert answer_step.answer_next([runs[1]], request, just_repeated=False)


def test_a_short_page_without_links_is_not_nothing() -> None:
    page = {"url": "http://127.0.0.1:8000/faq.html", "redirects": [], "title": "FAQ", "links": [],
            "text": "Returns: you can return any item within 30 days for a full refund."}
    run = ToolRun(ToolCall("1", "fetch_page", {"url": page["url"]}), None, "allow", "annotation", True, "", page)
    assert not answer_step.found_nothing(run)
    assert "30 days" in answer_step.digest(run, "does it say anything about refunds?")


def test_a_commit_in_a_log_names_its_author(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """"who made the last commit?" → git_log: the digest named each commit's subject only."""
    from tests.test_server_git import make_repo, roots

    repo = make_repo(tmp_path / "proj")
    monkeypatch.chdir(repo)

    async def go() -> Any:
        async with memory_client("git", roots(tmp_path)) as client:
            return await call(client, "git_log")
    run = ToolRun(ToolCall("1", "git_log", {}), None, "allow", "annotation", True, "", asyncio.run(go()))
    assert "author Ada Tester" in answer_step.digest(run, "who made the last commit?")


def test_a_process_without_children_is_not_nothing() -> None:
    """Measured: "tell me about process N" → process_details; its empty lists counted as "nothing found",
    the tools stayed offered, and the 0.5B called kill_process next (it ran, under --yes)."""
    import subprocess

    daemon = subprocess.Popen(["sleep", "30"])
    try:
        async def go() -> Any:
            async with memory_client("system") as client:
                return await call(client, "process_details", pid=daemon.pid)
        details = asyncio.run(go())
    finally:
        daemon.kill()
    run = ToolRun(ToolCall("1", "process_details", {"pid": daemon.pid}), None, "allow", "annotation", True, "",
                  details)
    assert not answer_step.found_nothing(run), details
