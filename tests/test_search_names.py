"""search_files reads a name pattern the ways people and small models write one, through the real
filesystem server (MCP, in memory)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.mcp_helpers import call, memory_client


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "user"
    for name in ("documents/scans/passport.pdf", "documents/cv.pdf", "work/contracts/lease.PDF", "work/readme.txt",
                 "letters/acme.txt"):
        (home / name).parent.mkdir(parents=True, exist_ok=True)
        (home / name).write_text("x")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(home)
    return home


def search(pattern: str) -> dict[str, Any]:
    async def go() -> Any:
        async with memory_client("filesystem") as client:
            return await call(client, "search_files", pattern=pattern)
    return asyncio.run(go())


def test_a_plain_word_is_found_anywhere_in_a_name(home: Path) -> None:
    """Measured: "do I have a scan of my passport somewhere?" → search_files(pattern="passport"): an exact
    match found nothing, and the 0.5B said so."""
    assert search("passport")["paths"] == ["~/documents/scans/passport.pdf"]


def test_a_regular_expression_is_read_as_one(home: Path) -> None:
    """Measured: "find all my pdfs" → search_files(pattern=".*pdf$") found nothing."""
    assert search(".*pdf$")["paths"] == ["~/documents/cv.pdf", "~/documents/scans/passport.pdf",
                                         "~/work/contracts/lease.PDF"]
    assert search("*.pdf")["paths"] == search(".*pdf$")["paths"]  # the glob as before


def test_words_that_are_no_file_name_point_to_search_content(home: Path) -> None:
    """Measured: "which of my files mentions invoice 4471?" → search_files(pattern="invoice 4471")."""
    found = search("invoice 4471")
    assert found["paths"] == [] and "search_content" in found["note"]
