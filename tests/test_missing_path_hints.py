"""What a "no such file" error tells a model that passed a path it made up, through the real filesystem
server (MCP, in memory)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.mcp_helpers import call_error, memory_client


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "user"
    (home / "junk").mkdir(parents=True)
    for name in ("a.jpg", "b.jpg", "notes.txt"):
        (home / name).write_text("x")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(home)
    return home


def error(tool: str, **arguments: str) -> str:
    async def go() -> str:
        async with memory_client("filesystem") as client:
            return await call_error(client, tool, **arguments)
    return asyncio.run(go())


def test_the_same_name_in_the_nearest_folder_is_suggested(home: Path) -> None:
    """Measured: "delete the empty junk folder" → delete("~/.Trash/junk"), sent again on the bare error."""
    assert error("delete", path=str(home / ".Trash" / "junk")).endswith("— did you mean ~/junk?")


def test_a_pattern_passed_as_a_path_lists_what_it_matches(home: Path) -> None:
    """Measured: "tidy up the jpgs into a folder named images" → move("~/images/*.jpg", "~/images")."""
    message = error("move", source=str(home / "images" / "*.jpg"), destination=str(home / "images"))
    assert "*.jpg is a pattern" in message and "~/a.jpg, ~/b.jpg" in message and "notes" not in message
    assert error("move", source=str(home / "*.png"), destination="x").endswith("this tool takes one path")
