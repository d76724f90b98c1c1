"""Retrieval cases the task suite's 0.5B runs failed on, with the real tool list of the built-in servers."""

from __future__ import annotations

import pytest

from llmos.agent import retrieval
from tests.test_retrieval_corpus import BUDGET, live_tools


@pytest.fixture(scope="module")
def tools():
    return live_tools()


def first(tools, request: str) -> str:
    return retrieval.select(tools, request, BUDGET)[0].qualified


def test_a_request_about_one_page_offers_page_tools_first(tools) -> None:
    """Measured: "how much is the kettle on …/shop.html?" offered system disk_usage first; the 0.5B called
    it and answered with the disk's free space."""
    offered = [t.qualified for t in retrieval.select(tools, "how much is the kettle on http://127.0.0.1:8000/shop.html?",
                                                     BUDGET)]
    assert offered[0] in ("browser.fetch_page", "browser.search_page"), offered
    # a file named besides the URL keeps file tools in play
    both = [t.qualified for t in retrieval.select(tools, "save http://x.org/a.csv as notes.csv", BUDGET)]
    assert any(t.startswith("filesystem.") for t in both), both


def test_when_a_file_was_last_changed_is_stat_not_git(tools) -> None:
    """Measured: "when did I last change report.docx?" offered git_status first; the 0.5B called it three
    times on a folder that is no repository."""
    assert first(tools, "when did I last change report.docx?") == "filesystem.stat"


def test_what_hogs_the_memory_is_the_process_table(tools) -> None:
    assert first(tools, "what's hogging the memory right now?") == "system.top_processes"


@pytest.mark.parametrize("request_text", ["how are you doing today?", "how's it going?"])
def test_small_talk_offers_no_tool_by_its_conversational_words(tools, request_text: str) -> None:
    """Measured: "how are you doing today?" was offered process_details alone ("doing"), and the 0.5B
    called it with a made-up PID."""
    offered = [t.qualified for t in retrieval.select(tools, request_text, BUDGET)]
    assert offered == [], offered
