"""git tools read "~/file" as the file in the home folder, through the real git server (MCP, in memory)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.mcp_helpers import call, memory_client
from tests.test_server_git import make_repo, roots


def test_a_home_path_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Measured: "throw away my changes to settings.py" → git_restore(paths=["~/settings.py"]) in a repository
    at the home folder was refused: "No tracked file matches ~/settings.py"."""
    repo = make_repo(tmp_path / "home")
    monkeypatch.setenv("HOME", str(repo))
    monkeypatch.chdir(repo)
    (repo / "a.txt").write_text("edited\n")

    async def scenario() -> dict:
        async with memory_client("git", roots(tmp_path)) as client:
            return await call(client, "git_restore", paths=["~/a.txt"])
    assert asyncio.run(scenario())["files"] == ["a.txt"]
    assert (repo / "a.txt").read_text() == "one\ntwo\nthree\n"
