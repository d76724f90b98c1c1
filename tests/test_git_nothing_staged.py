"""git_commit with only untracked files says which: found by the task suite, where the 0.5B's
git_commit(all=true) in a home with untracked folders got "Error executing tool git_commit" (a crash in
the hint) and sent the same call until the loop guard stopped it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.mcp_helpers import call_error, memory_client
from tests.test_server_git import make_repo, roots


def test_only_untracked_files_are_named_in_the_refusal(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "proj")
    (repo / ".cache").mkdir()
    (repo / ".cache" / "x").write_text("1")

    async def scenario() -> str:
        async with memory_client("git", roots(tmp_path)) as client:
            return await call_error(client, "git_commit", repo=str(repo), message="Update", all=True)
    refusal = asyncio.run(scenario())
    assert "Nothing to commit" in refusal and "Untracked: .cache/" in refusal, refusal
