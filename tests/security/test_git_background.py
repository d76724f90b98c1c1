"""git's work on the side: automatic gc and maintenance after a commit (with the pre-auto-gc hook they run),
gc in a local remote after a push, and git-lfs — a repository's `.lfsconfig` and `filter.lfs.*` settings that
would run a program or reach a URL on every checkout and add. Each attack is first shown to work with plain
git; through llmos's git tools no marker is left, no pack is made behind the tool's back, and nothing
reaches the loopback listener that `.lfsconfig` names."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.security.test_exfiltration import Listener
from tests.security.test_git_exec import Lab, attempt, git, hook, proven, tool


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return Lab(tmp_path)


def loose_objects(repo: Path, prefix: str = "17", count: int = 3) -> None:
    """Loose blobs enough for `gc --auto` with gc.auto=1: git estimates the count from objects/17/."""
    made, n = 0, 0
    while made < count:
        body = f"filler {n}\n".encode()
        n += 1
        if hashlib.sha1(b"blob %d\0" % len(body) + body).hexdigest().startswith(prefix):
            path = repo / f"filler-{n}.txt"
            path.write_bytes(body)
            git(repo, "hash-object", "-w", str(path))
            path.unlink()
            made += 1


def packs(repo_or_bare: Path) -> list[str]:
    objects = repo_or_bare / ".git" / "objects" if (repo_or_bare / ".git").exists() else repo_or_bare / "objects"
    return sorted(p.name for p in (objects / "pack").glob("*.pack"))


def commit_attacks(repo: Path, name: str) -> list:
    at = str(repo)
    return [tool("git_add", repo=at, paths=[name]), tool("git_commit", repo=at, message="more"),
            tool("git_status", repo=at), tool("git_log", repo=at)]


@pytest.mark.parametrize("variant", ["hooks_dir", "hooks_path"])
def test_auto_gc_after_a_commit_never_runs(lab: Lab, variant: str) -> None:
    """gc.auto=1 makes every commit start `gc --auto`, which runs the pre-auto-gc hook and repacks."""
    repo = lab.repo()
    program = lab.program("pre-auto-gc", "exit 0")
    git(repo, "config", "gc.auto", "1")
    git(repo, "config", "gc.autoDetach", "false")
    if variant == "hooks_dir":
        hook(repo / ".git", "pre-auto-gc", program)
    else:
        hook(lab.root / "hooks", "pre-auto-gc", program)
        git(repo, "config", "core.hooksPath", str(lab.root / "hooks" / "hooks"))
    loose_objects(repo)
    (repo / "b.txt").write_text("two\n")
    git(repo, "add", "b.txt")
    proven(lab, "commit", "-qm", "plain", cwd=repo, expect="pre-auto-gc")
    before = packs(repo)  # what plain git's gc packed
    loose_objects(repo, prefix="18")
    (repo / "c.txt").write_text("three\n")
    attempt(lab, commit_attacks(repo, "c.txt"))
    assert packs(repo) == before  # no gc ran at all, not only no hook
    assert git(repo, "log", "-1", "--format=%s").stdout.strip() == "more"  # the commit itself was made


def test_auto_maintenance_after_a_commit_never_runs(lab: Lab) -> None:
    """maintenance.auto with the loose-objects task: every commit would pack loose objects on the side."""
    repo = lab.repo()
    for key, value in (("maintenance.auto", "true"), ("maintenance.gc.enabled", "false"),
                       ("maintenance.loose-objects.enabled", "true"), ("maintenance.loose-objects.auto", "1")):
        git(repo, "config", key, value)
    loose_objects(repo)
    (repo / "b.txt").write_text("two\n")
    git(repo, "add", "b.txt")
    git(repo, "commit", "-qm", "plain")
    before = packs(repo)
    assert before, "plain git's auto maintenance did not pack: the attack is not real"
    loose_objects(repo, prefix="18")
    (repo / "c.txt").write_text("three\n")
    attempt(lab, commit_attacks(repo, "c.txt"))
    assert packs(repo) == before


def test_gc_in_a_local_remote_after_a_push_never_runs(lab: Lab) -> None:
    """receive.autogc (on by default) runs `gc --auto` in the remote, with the remote's pre-auto-gc hook."""
    repo = lab.repo()
    remote = lab.bare_remote(repo)
    program = lab.program("pre-auto-gc", "exit 0")
    git(remote, "config", "gc.auto", "1")
    git(remote, "config", "gc.autoDetach", "false")
    hook(remote, "pre-auto-gc", program)
    loose_objects(remote)
    (repo / "b.txt").write_text("two\n")
    git(repo, "add", "b.txt")
    git(repo, "commit", "-qm", "two")
    git(repo, "push", "-q", "origin", "main")
    assert "pre-auto-gc" in lab.fired(), "plain git push did not run the remote's gc: the attack is not real"
    lab.clear()
    before = packs(remote)
    loose_objects(remote, prefix="18")
    (repo / "c.txt").write_text("three\n")
    git(repo, "add", "c.txt")
    git(repo, "commit", "-qm", "three")
    attempt(lab, [tool("git_push", repo=str(repo))])
    assert packs(remote) == before
    assert git(remote, "log", "-1", "--format=%s", "main").stdout.strip() == "three"  # the push itself worked


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


def test_lfs_filters_and_lfsconfig_never_run_a_program_or_reach_a_url(lab: Lab, listener: Listener,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A repository set up as git-lfs would be, pointing everything at programs and a URL of its choosing:
    `.gitattributes` sends *.bin through the lfs filter, `.git/config` names the filter's programs (required),
    `.lfsconfig` names an lfs server on loopback, and a `git-lfs` on PATH stands in for the real one."""
    repo = lab.repo(files={"a.txt": "one\n", ".gitattributes": "*.bin filter=lfs diff=lfs merge=lfs -text\n"})
    shim = lab.program("git-lfs", "cat")
    monkeypatch.setenv("PATH", f"{Path(shim).parent}:{os.environ['PATH']}")
    url = f"http://127.0.0.1:{listener.port}/lfs"
    (repo / ".lfsconfig").write_text(f'[lfs]\n\turl = {url}\n[filter "lfs"]\n\tprocess = {lab.program("lfsconfig")}\n')
    git(repo, "add", ".lfsconfig")
    git(repo, "commit", "-qm", "lfs")
    git(repo, "switch", "-qc", "assets")
    for key, value in (("filter.lfs.clean", "git-lfs clean -- %f"), ("filter.lfs.smudge", "git-lfs smudge -- %f"),
                       ("filter.lfs.required", "true")):
        git(repo, "config", key, value)
    (repo / "big.bin").write_text("large file\n")
    proven(lab, "add", "big.bin", cwd=repo, expect="git-lfs")
    git(repo, "commit", "-qm", "asset")
    git(repo, "switch", "-q", "main")
    lab.clear()
    at = str(repo)
    (repo / "more.bin").write_text("another\n")
    attempt(lab, [tool("git_status", repo=at), tool("git_diff", repo=at), tool("git_add", repo=at, paths=["."]),
                  tool("git_commit", repo=at, message="more"), tool("git_switch", repo=at, branch="assets"),
                  tool("git_show", repo=at), tool("git_diff", repo=at, ref="main"),
                  tool("git_stash_push", repo=at, untracked=True), tool("git_switch", repo=at, branch="main"),
                  tool("git_clone", url=at, directory=str(lab.root / "copy"))])
    assert listener.received == []  # the .lfsconfig URL was never contacted
