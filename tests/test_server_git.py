"""The git server on real repositories made in tmp_path, with a real bare repository as the remote."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write_user_config
from tests.mcp_helpers import annotations_of, call, call_error, memory_client, stdio_client

READ_ONLY = {"git_status", "git_diff", "git_log", "git_show", "git_branches", "git_stash_list"}
DESTRUCTIVE = {"git_push", "git_reset_hard", "git_delete_branch", "git_restore", "git_pull", "git_stash_pop"}
ADDITIVE = {"git_create_branch", "git_switch", "git_add", "git_commit", "git_stash_push", "git_clone",
            "git_init"}
OLD = "2020-01-01T12:00:00+00:00"


def roots(tmp: Path, **settings: Any) -> dict[str, Any]:
    """servers.git settings with the filesystem server's roots at ``tmp``, which git obeys too."""
    return {"filesystem": {"roots": [str(tmp)]}, **settings}


def git(cwd: Path, *args: str, date: str | None = None) -> str:
    env = {**os.environ, **({"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date} if date else {})}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def configure(repo: Path, name: str = "Ada Tester") -> None:
    git(repo, "config", "user.name", name)
    git(repo, "config", "user.email", f"{name.split()[0].lower()}@example.com")
    git(repo, "config", "commit.gpgsign", "false")


def make_repo(path: Path) -> Path:
    """main with two commits: an old one by Old Timer (a.txt), a new one by Ada Tester (docs/b.md)."""
    git(path.parent, "init", "-q", "-b", "main", path.name)
    configure(path, "Old Timer")
    (path / "a.txt").write_text("one\ntwo\nthree\n")
    git(path, "add", "a.txt")
    git(path, "commit", "-qm", "Add a", date=OLD)
    configure(path)
    (path / "docs").mkdir()
    (path / "docs" / "b.md").write_text("# B\n")
    git(path, "add", "docs")
    git(path, "commit", "-qm", "Add docs\n\nWith a body line.")
    return path


def with_remote(repo: Path, tmp: Path) -> Path:
    remote = tmp / "remote.git"
    git(tmp, "init", "-q", "--bare", "-b", "main", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "-u", "origin", "main")
    return remote


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


def test_stdio_lists_tools_with_truthful_annotations_and_finds_repo_from_subfolder(
        tmp_path: Path, isolated_home: Path) -> None:
    repo = make_repo(tmp_path / "proj")
    write_user_config(isolated_home, f"servers:\n  filesystem:\n    roots: [{tmp_path}]\n")

    async def scenario() -> None:
        async with stdio_client("git", cwd=str(repo / "docs")) as client:
            tools = await client.list_tools()
            notes = annotations_of(tools)
            assert set(notes) == READ_ONLY | DESTRUCTIVE | ADDITIVE
            for name in READ_ONLY:
                assert notes[name]["readOnlyHint"] is True and notes[name]["destructiveHint"] is False, name
            for name in DESTRUCTIVE:
                assert notes[name]["readOnlyHint"] is False and notes[name]["destructiveHint"] is True, name
            for name in ADDITIVE:
                assert notes[name]["readOnlyHint"] is False and notes[name]["destructiveHint"] is False, name
            for name in ("git_push", "git_pull", "git_clone"):
                assert notes[name]["openWorldHint"] is True
            for tool in tools.tools:
                assert tool.output_schema and tool.description, tool.name
                assert "repo" in tool.input_schema["properties"] or tool.name == "git_clone"
            # No repo given: the server's current folder (a subfolder) leads up to the repository.
            status = await call(client, "git_status")
            assert status["repo"] == str(repo) and status["branch"] == "main" and status["clean"]
            log = await call(client, "git_log", max_count=1)
            assert log["commits"][0]["sha"] == head(repo) and log["more"] == 1

    asyncio.run(scenario())


def test_status_diff_log_show(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "proj")
    at = str(repo)
    first = git(repo, "rev-list", "--max-parents=0", "HEAD").strip()
    (repo / "big.txt").write_text("x\n")
    git(repo, "add", "big.txt")
    git(repo, "commit", "-qm", "Add big")
    (repo / "a.txt").write_text("one\nTWO\nthree\n")
    (repo / "docs" / "b.md").write_text("# B\nstaged line\n")
    git(repo, "add", "docs/b.md")
    (repo / "new file.txt").write_text("hello\n")
    (repo / "big.txt").write_text("".join(f"line {i} of a long change\n" for i in range(400)))

    async def scenario() -> None:
        async with memory_client("git", roots(tmp_path)) as client:
            s = await call(client, "git_status", repo=at)
            assert s["repo"] == at and s["branch"] == "main" and not s["detached"]
            assert s["head"] == head(repo) and not s["clean"]
            assert s["staged"] == [{"path": "docs/b.md", "change": "modified", "old_path": None}]
            assert {c["path"] for c in s["unstaged"]} == {"a.txt", "big.txt"}
            assert s["untracked"] == ["new file.txt"]

            d = await call(client, "git_diff", repo=at, path="a.txt")
            assert d["files"] == ["a.txt"] and "-two" in d["diff"] and "+TWO" in d["diff"]
            assert not d["truncated"]
            d = await call(client, "git_diff", repo=at, staged=True)
            assert d["files"] == ["docs/b.md"] and "+staged line" in d["diff"]
            d = await call(client, "git_diff", repo=at, ref=first, staged=True)
            assert set(d["files"]) == {"docs/b.md", "big.txt"} and first in d["against"]
            d = await call(client, "git_diff", repo=at, max_bytes=300)
            assert d["truncated"] and len(d["diff"].encode()) <= 300 < d["bytes"]
            assert "300" in d["note"] and set(d["files"]) == {"a.txt", "big.txt"}
            d = await call(client, "git_diff", repo=at, path="docs")
            assert d["diff"] == "" and "staged=true" in d["note"]
            assert "Did you mean main?" in await call_error(client, "git_diff", repo=at, ref="mian")

            log = await call(client, "git_log", repo=at)
            assert [c["subject"] for c in log["commits"]] == ["Add big", "Add docs", "Add a"]
            assert log["commits"][2]["sha"] == first and log["more"] == 0
            log = await call(client, "git_log", repo=at, max_count=1)
            assert len(log["commits"]) == 1 and log["more"] == 2
            log = await call(client, "git_log", repo=at, author="Old Timer")
            assert [(c["subject"], c["author"]) for c in log["commits"]] == [("Add a", "Old Timer")]
            log = await call(client, "git_log", repo=at, since="2021-01-01")
            assert [c["subject"] for c in log["commits"]] == ["Add big", "Add docs"]
            log = await call(client, "git_log", repo=at, path="docs")
            assert [c["subject"] for c in log["commits"]] == ["Add docs"]
            log = await call(client, "git_log", repo=at, author="nobody at all")
            assert log["commits"] == [] and log["note"] == "No commits match."

            shown = await call(client, "git_show", repo=at, ref="HEAD~1")
            assert shown["subject"] == "Add docs" and shown["message"] == "Add docs\n\nWith a body line."
            assert shown["files"] == [{"path": "docs/b.md", "change": "added", "old_path": None}]
            assert shown["parents"] == [first] and "+# B" in shown["patch"] and shown["repo"] == at
            big = await call(client, "git_show", repo=at, max_bytes=200)
            assert big["sha"] == head(repo) and big["files"][0]["path"] == "big.txt" and not big["truncated"]
            missing = await call_error(client, "git_show", repo=at, ref="HEAD~9")
            assert "no branch, tag or commit called 'HEAD~9'" in missing

    asyncio.run(scenario())


def test_branches_create_switch_delete(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "proj")
    at, main_sha = str(repo), head(repo)

    async def scenario() -> None:
        async with memory_client("git", roots(tmp_path)) as client:
            made = await call(client, "git_create_branch", repo=at, name="feature", switch=True)
            assert made == {"repo": at, "branch": "feature", "sha": main_sha, "current_branch": "feature",
                            "note": made["note"]}
            old = await call(client, "git_create_branch", repo=at, name="old", start="HEAD~1")
            assert old["sha"] == git(repo, "rev-parse", "HEAD~1").strip()
            assert old["current_branch"] == "feature"
            assert "already exists" in await call_error(client, "git_create_branch", repo=at, name="old")
            bad = await call_error(client, "git_create_branch", repo=at, name="bad name")
            assert "not a valid branch name" in bad

            (repo / "f.txt").write_text("feature work\n")
            git(repo, "add", "f.txt")
            git(repo, "commit", "-qm", "Feature work")
            listed = await call(client, "git_branches", repo=at)
            assert listed["branch"] == "feature" and not listed["detached"]
            assert {b["name"]: b["current"] for b in listed["branches"]} == {"feature": True, "main": False,
                                                                             "old": False}

            switched = await call(client, "git_switch", repo=at, branch="main")
            assert switched["current_branch"] == "main" and switched["sha"] == main_sha
            assert git(repo, "branch", "--show-current").strip() == "main" and not (repo / "f.txt").exists()
            assert "Did you mean feature?" in await call_error(client, "git_switch", repo=at, branch="featur")
            assert "current branch" in await call_error(client, "git_delete_branch", repo=at, name="main")
            refused = await call_error(client, "git_delete_branch", repo=at, name="feature")
            assert "not merged" in refused and "force=true" in refused
            assert "feature" in git(repo, "branch")
            gone = await call(client, "git_delete_branch", repo=at, name="feature", force=True)
            assert gone["branch"] == "feature" and gone["sha"] != main_sha
            assert "feature" not in git(repo, "branch")
            merged = await call(client, "git_delete_branch", repo=at, name="old")
            assert merged["current_branch"] == "main" and "old" not in git(repo, "branch")
            assert "Did you mean" in await call_error(client, "git_delete_branch", repo=at, name="mian")

            # Uncommitted changes that a switch would overwrite: git refuses, and nothing is lost.
            git(repo, "switch", "-q", "-c", "side")
            (repo / "a.txt").write_text("side\n")
            git(repo, "commit", "-qam", "side change")
            git(repo, "switch", "-q", "main")
            (repo / "a.txt").write_text("local edit\n")
            refusal = await call_error(client, "git_switch", repo=at, branch="side")
            assert "a.txt" in refusal and "stash" in refusal
            assert (repo / "a.txt").read_text() == "local edit\n"

    asyncio.run(scenario())


def test_add_commit_and_nothing_to_commit(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "proj")
    at = str(repo)

    async def scenario() -> None:
        async with memory_client("git", roots(tmp_path)) as client:
            clean = await call_error(client, "git_commit", repo=at, message="empty")
            assert "Nothing to commit" in clean and "clean" in clean
            (repo / "c.txt").write_text("".join(f"line {i}\n" for i in range(100)))
            (repo / "a.txt").write_text("changed\n")
            unstaged = await call_error(client, "git_commit", repo=at, message="x")
            assert "Nothing to commit" in unstaged and "Unstaged changes in a.txt:" in unstaged
            assert "all=true" in unstaged
            assert "did not match" in await call_error(client, "git_add", repo=at, paths=["nope.txt"])
            added = await call(client, "git_add", repo=at, paths=["c.txt"])
            assert added["files"] == ["c.txt"] and added["branch"] == "main"
            done = await call(client, "git_commit", repo=at, message="Add c\n\nbody")
            assert done["sha"] == head(repo) and done["short_sha"] == done["sha"][:7]
            assert done["files"] == ["c.txt"] and done["subject"] == "Add c"
            assert done["branch"] == "main" and not done["detached"]
            assert git(repo, "log", "-1", "--format=%B").strip() == "Add c\n\nbody"
            shown = await call(client, "git_show", repo=at, max_bytes=200)
            assert shown["sha"] == done["sha"] and shown["truncated"] and shown["bytes"] > 200
            assert len(shown["patch"].encode()) <= 200 and shown["patch"].startswith("diff --git a/c.txt")
            every = await call(client, "git_commit", repo=at, message="All tracked", all=True)
            assert every["files"] == ["a.txt"] and git(repo, "status", "--porcelain") == ""

    asyncio.run(scenario())


def test_detached_head_is_reported_and_commit_there_says_so(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "proj")
    at = str(repo)
    git(repo, "checkout", "-q", "--detach", "HEAD~1")
    detached_at = head(repo)

    async def scenario() -> None:
        async with memory_client("git", roots(tmp_path)) as client:
            s = await call(client, "git_status", repo=at)
            assert s["detached"] and s["branch"] is None and s["head"] == detached_at
            assert "detached" in s["note"] and "git_switch" in s["note"] and "main" in s["note"]
            listed = await call(client, "git_branches", repo=at)
            assert listed["detached"] and listed["branch"] is None
            (repo / "a.txt").write_text("detached work\n")
            done = await call(client, "git_commit", repo=at, message="On no branch", all=True)
            assert done["detached"] and done["branch"] is None and done["sha"] == head(repo)
            assert "detached" in done["note"] and "git_create_branch" in done["note"]
            assert "detached" in await call_error(client, "git_push", repo=at)
            assert "detached" in await call_error(client, "git_pull", repo=at)
            back = await call(client, "git_switch", repo=at, branch="main")
            assert back["current_branch"] == "main" and "leaving" in back["note"]

    asyncio.run(scenario())


def test_merge_conflicts_are_listed(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "proj")
    at = str(repo)
    git(repo, "switch", "-q", "-c", "other")
    (repo / "a.txt").write_text("other side\n")
    git(repo, "commit", "-qam", "other")
    git(repo, "switch", "-q", "main")
    (repo / "a.txt").write_text("main side\n")
    git(repo, "commit", "-qam", "main")
    merge = subprocess.run(["git", "merge", "-q", "other"], cwd=repo, capture_output=True, check=False)
    assert merge.returncode != 0

    async def scenario() -> None:
        async with memory_client("git", roots(tmp_path)) as client:
            s = await call(client, "git_status", repo=at)
            assert s["conflicted"] == ["a.txt"] and s["in_progress"] == "merge" and "a.txt" in s["note"]
            refused = await call_error(client, "git_commit", repo=at, message="merge")
            assert "conflicts in: a.txt" in refused
            reset = await call(client, "git_reset_hard", repo=at)
            assert reset["files"] == ["a.txt"] and reset["commits_dropped"] == 0
            s = await call(client, "git_status", repo=at)
            assert s["clean"] and s["conflicted"] == [] and s["in_progress"] is None

            # A stash whose changes clash with the branch: pop reports the conflict and keeps the stash.
            (repo / "a.txt").write_text("stashed edit\n")
            pushed = await call(client, "git_stash_push", repo=at, message="clash")
            assert pushed["stash"]["ref"] == "stash@{0}" and "clash" in pushed["stash"]["message"]
            (repo / "a.txt").write_text("committed meanwhile\n")
            git(repo, "commit", "-qam", "meanwhile")
            popped = await call_error(client, "git_stash_pop", repo=at)
            assert "conflicts in: a.txt" in popped and "kept" in popped
            assert len((await call(client, "git_stash_list", repo=at))["stashes"]) == 1

    asyncio.run(scenario())


def test_stash_restore_reset(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "proj")
    at, before = str(repo), head(repo)

    async def scenario() -> None:
        async with memory_client("git", roots(tmp_path)) as client:
            assert "no local changes" in await call_error(client, "git_stash_push", repo=at)
            assert "no stash@{0}" in await call_error(client, "git_stash_pop", repo=at)
            (repo / "a.txt").write_text("work in progress\n")
            (repo / "u.txt").write_text("untracked\n")
            pushed = await call(client, "git_stash_push", repo=at, message="wip", untracked=True)
            assert pushed["stash"]["sha"] == git(repo, "rev-parse", "stash@{0}").strip()
            assert (repo / "a.txt").read_text() == "one\ntwo\nthree\n" and not (repo / "u.txt").exists()
            listed = await call(client, "git_stash_list", repo=at)
            assert [s["ref"] for s in listed["stashes"]] == ["stash@{0}"]
            assert "wip" in listed["stashes"][0]["message"]
            popped = await call(client, "git_stash_pop", repo=at)
            assert popped["stash"]["ref"] == "stash@{0}" and git(repo, "stash", "list") == ""
            assert (repo / "a.txt").read_text() == "work in progress\n" and (repo / "u.txt").exists()

            restored = await call(client, "git_restore", repo=at, paths=["a.txt"])
            assert restored["files"] == ["a.txt"] and (repo / "a.txt").read_text() == "one\ntwo\nthree\n"
            assert "Nothing to restore" in await call_error(client, "git_restore", repo=at, paths=["a.txt"])
            assert "No tracked file" in await call_error(client, "git_restore", repo=at, paths=["u.txt"])
            (repo / "a.txt").write_text("staged edit\n")
            git(repo, "add", "a.txt")
            assert "staged=true" in await call_error(client, "git_restore", repo=at, paths=["a.txt"])
            await call(client, "git_restore", repo=at, paths=["a.txt"], staged=True)
            assert git(repo, "status", "--porcelain", "a.txt") == ""

            (repo / "docs" / "b.md").write_text("edited\n")
            reset = await call(client, "git_reset_hard", repo=at, ref="HEAD~1")
            assert reset["old_sha"] == before and reset["new_sha"] == head(repo) != before
            assert reset["commits_dropped"] == 1 and reset["files"] == ["docs/b.md"]
            assert before in reset["note"]  # how to get back
            assert not (repo / "docs" / "b.md").exists() and (repo / "u.txt").exists()  # untracked stays
            assert "Did you mean" in await call_error(client, "git_reset_hard", repo=at, ref="mainn")
            back = await call(client, "git_reset_hard", repo=at, ref=before)
            assert back["new_sha"] == before == head(repo)

    asyncio.run(scenario())


def test_clone_push_pull_with_a_bare_remote(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "proj")
    remote = with_remote(repo, tmp_path)
    copy = tmp_path / "copy"
    at, there = str(repo), str(copy)

    async def scenario() -> None:
        async with memory_client("git", roots(tmp_path, network_timeout=30)) as client:
            cloned = await call(client, "git_clone", url=str(remote), directory=there)
            assert cloned == {"repo": there, "branch": "main", "sha": head(repo), "url": str(remote),
                              "note": cloned["note"]}
            assert (copy / "docs" / "b.md").read_text() == "# B\n"
            assert "already exists" in await call_error(client, "git_clone", url=str(remote), directory=there)
            missing = await call_error(client, "git_clone", url=str(tmp_path / "missing.git"),
                                       directory=str(tmp_path / "x"))
            assert "missing.git" in missing and not (tmp_path / "x").exists()
            configure(copy, "Bo Cloner")

            # The clone pushes a new commit; the original pulls it (fast-forward).
            (copy / "c.txt").write_text("from the clone\n")
            git(copy, "add", "c.txt")
            git(copy, "commit", "-qm", "From clone")
            pushed = await call(client, "git_push", repo=there)
            assert (pushed["branch"], pushed["remote"], pushed["url"]) == ("main", "origin", str(remote))
            assert pushed["sha"] == head(copy) == git(remote, "rev-parse", "main").strip()
            assert not pushed["set_upstream"] and not pushed["forced"] and not pushed["up_to_date"]
            assert (await call(client, "git_push", repo=there))["up_to_date"]
            pulled = await call(client, "git_pull", repo=at)
            assert pulled["old_sha"] != pulled["new_sha"] == head(copy) and pulled["commits"] == 1
            assert pulled["files"] == ["c.txt"] and (repo / "c.txt").exists()
            assert (await call(client, "git_pull", repo=at))["note"] == "Already up to date."

            # A new branch gets its upstream on its first push; the original can then switch to it by name.
            git(copy, "switch", "-q", "-c", "topic")
            first = await call(client, "git_push", repo=there)
            assert first["set_upstream"] and first["remote_branch"] == "topic"
            assert git(copy, "rev-parse", "--abbrev-ref", "topic@{upstream}").strip() == "origin/topic"
            git(copy, "switch", "-q", "main")
            git(repo, "fetch", "-q", "origin")
            tracking = await call(client, "git_switch", repo=at, branch="topic")
            assert tracking["current_branch"] == "topic" and tracking["sha"] == head(copy)
            assert git(repo, "rev-parse", "--abbrev-ref", "topic@{upstream}").strip() == "origin/topic"
            git(repo, "switch", "-q", "main")

            # Both sides commit: push is rejected, pull refuses without merge, merge=true reports conflicts.
            (repo / "a.txt").write_text("original side\n")
            git(repo, "commit", "-qam", "Original side")
            (copy / "a.txt").write_text("clone side\n")
            git(copy, "commit", "-qam", "Clone side")
            await call(client, "git_push", repo=there)
            rejected = await call_error(client, "git_push", repo=at)
            assert "git_pull first" in rejected and "force=true" in rejected
            diverged = await call_error(client, "git_pull", repo=at)
            assert "diverged" in diverged and "merge=true" in diverged
            assert "conflicts in: a.txt" in await call_error(client, "git_pull", repo=at, merge=True)
            await call(client, "git_reset_hard", repo=at)

            forced = await call(client, "git_push", repo=at, force=True)
            assert forced["forced"] and git(remote, "rev-parse", "main").strip() == head(repo)
            wrong = await call_error(client, "git_push", repo=at, remote="upstream")
            assert "no remote called 'upstream'" in wrong and "origin" in wrong
            assert "no branch called 'nope'" in await call_error(client, "git_pull", repo=at, branch="nope")

    asyncio.run(scenario())


def test_network_timeout_gives_up_and_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # An ssh "connection" that never answers, like a host that drops packets.
    monkeypatch.setenv("GIT_SSH_COMMAND", "sleep 30;:")
    target = tmp_path / "never"

    async def scenario() -> None:
        async with memory_client("git", roots(tmp_path, network_timeout=1)) as client:
            started = time.monotonic()
            message = await call_error(client, "git_clone", url="ssh://example.invalid/x.git",
                                       directory=str(target))
            assert "gave up after 1 seconds" in message and time.monotonic() - started < 10
            assert not target.exists()

    asyncio.run(scenario())


def test_init_and_empty_repository(tmp_path: Path) -> None:
    target = tmp_path / "fresh" / "project"
    at = str(target)

    async def scenario() -> None:
        async with memory_client("git", roots(tmp_path)) as client:
            made = await call(client, "git_init", repo=at, initial_branch="trunk")
            assert made["repo"] == at and made["branch"] == "trunk" and made["sha"] is None
            assert (target / ".git").is_dir()
            assert "already a git repository" in await call_error(client, "git_init", repo=at)
            s = await call(client, "git_status", repo=at)
            assert s["branch"] == "trunk" and s["head"] is None and "No commits yet" in s["note"]
            log = await call(client, "git_log", repo=at)
            assert log["commits"] == [] and log["note"] == "No commits yet."
            assert "no commits yet" in await call_error(client, "git_show", repo=at)
            configure(target)
            (target / "readme").write_text("hi\n")
            await call(client, "git_add", repo=at, paths=["."])
            first = await call(client, "git_commit", repo=at, message="First")
            assert first["sha"] == head(target) and first["files"] == ["readme"]
            assert first["branch"] == "trunk"

    asyncio.run(scenario())


def test_not_a_git_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()

    async def scenario() -> None:
        async with memory_client("git", roots(tmp_path)) as client:
            for tool in ("git_status", "git_log", "git_diff", "git_push"):
                message = await call_error(client, tool, repo=str(plain))
                assert f"{plain} is not a git repository" in message, message
            assert "does not exist" in await call_error(client, "git_status", repo=str(tmp_path / "missing"))

    asyncio.run(scenario())
