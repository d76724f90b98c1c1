"""Lines of work: git_branches, git_create_branch, git_switch, git_delete_branch."""

from __future__ import annotations

from typing import Annotated

from llmos.servers.common import ADDITIVE, DESTRUCTIVE, READ_ONLY, ToolError, cap
from llmos.servers.git.arguments import RepoArg, arg
from llmos.servers.git.models import Branch, Branches, BranchChange
from llmos.servers.git.repository import LIST_LIMIT, GitContext, open_repo, unknown
from llmos.servers.git.runner import clean
from llmos.servers.tooling import Tool, facts

_FIELDS = ("refname", "refname:short", "objectname", "upstream:short", "upstream:track,nobracket", "HEAD")


def git_branches(
    ctx: GitContext,
    repo: RepoArg = None,
    remote: Annotated[bool, arg("Also list remote-tracking branches (e.g. origin/main).")] = False,
) -> Branches:
    """List branches, marking the current one, with each branch's upstream and ahead/behind counts."""
    r = open_repo(ctx, repo)
    out = r.git("for-each-ref", "--format=" + "%1f".join(f"%({f})" for f in _FIELDS), "refs/heads",
                *(["refs/remotes"] if remote else []))
    found = []
    for line in out.splitlines():
        full, name, sha, upstream, track, star = line.split("\x1f")
        if not full.endswith("/HEAD"):  # origin/HEAD is an alias, not a branch
            found.append(Branch(name=name, sha=sha, current=star == "*", upstream=upstream or None,
                                remote=full.startswith("refs/remotes/"), track=track))
    branch = r.branch()
    shown, more = cap(found, LIST_LIMIT)
    return Branches(repo=r.cwd, branch=branch, detached=branch is None, branches=shown, more=more)


def git_create_branch(
    ctx: GitContext,
    name: Annotated[str, arg("Name of the new branch, e.g. 'fix-login'.")],
    repo: RepoArg = None,
    start: Annotated[str | None, arg("Branch, tag or commit to start from (default: HEAD).")] = None,
    switch: Annotated[bool, arg("Also switch to the new branch.")] = False,
) -> BranchChange:
    """Create a new branch (from HEAD or a given start point), optionally switching to it."""
    r = open_repo(ctx, repo, write=True)
    if name.startswith("-") or r.run("check-ref-format", "--branch", name)[0] != 0:
        raise ToolError(f"'{name}' is not a valid branch name (no spaces, '..', '~', '^', ':', '?').")
    if name in r.names("refs/heads"):
        raise ToolError(f"A branch called '{name}' already exists in {r.cwd}; git_switch goes to it.")
    sha = r.resolve(start or "HEAD")
    r.git("branch", name, sha)
    if switch:
        r.git("switch", name)
    return BranchChange(repo=r.cwd, branch=name, sha=sha, current_branch=r.branch(),
                        note=f"Created {name} at {sha[:7]}{' and switched to it' if switch else ''}.")


def git_switch(
    ctx: GitContext,
    branch: Annotated[str, arg("Branch to switch to.")],
    repo: RepoArg = None,
) -> BranchChange:
    """Switch the working tree to another existing branch (refused if local changes would be lost)."""
    r = open_repo(ctx, repo, write=True)
    local = r.names("refs/heads")
    # A name that only exists on a remote (origin/topic) makes a local tracking branch, as git does.
    remote = [n.split("/", 1)[1] for n in r.names("refs/remotes") if "/" in n]
    if branch not in local and branch not in remote:
        raise unknown("branch", branch, r.cwd, local + [n for n in remote if n not in local])
    note = f"Already on {branch}."
    if r.branch() != branch:
        status, _, err = r.run("switch", "--end-of-options", branch)
        if status != 0:
            hint = " Commit them or git_stash_push them first." if "overwritten" in err else ""
            raise ToolError(clean(err) + hint)
        note = f"Switched to {branch}." + (f" {clean(err)}" if "leaving" in err else "")
    current, sha = r.head()
    return BranchChange(repo=r.cwd, branch=branch, sha=sha or "", current_branch=current, note=note)


def git_delete_branch(
    ctx: GitContext,
    name: Annotated[str, arg("Branch to delete.")],
    repo: RepoArg = None,
    force: Annotated[bool, arg("Delete even if its commits are merged nowhere (they would be lost).")] = False,
) -> BranchChange:
    """Delete a local branch; refuses when that would lose unmerged commits unless force=true."""
    r = open_repo(ctx, repo, write=True)
    current, local = r.branch(), r.names("refs/heads")
    if name not in local:
        raise unknown("branch", name, r.cwd, local)
    if name == current:
        raise ToolError(f"'{name}' is the current branch; git_switch to another before deleting it.")
    sha = r.git("rev-parse", f"refs/heads/{name}").strip()
    status, _, err = r.run("branch", "-D" if force else "-d", "--", name)
    if status != 0 and "not fully merged" in err:
        raise ToolError(f"Branch '{name}' has commits that are not merged into {current or 'HEAD'}; "
                        "deleting it would lose them. Pass force=true to delete it anyway.")
    if status != 0:
        raise ToolError(clean(err))
    return BranchChange(repo=r.cwd, branch=name, sha=sha, current_branch=current,
                        note=f"Deleted {name} (was {sha[:7]}). To undo: git_create_branch name={name} "
                             f"start={sha}.")


# Not destructive: git refuses to switch when uncommitted changes would be overwritten.
TOOLS = [
    Tool(git_branches, READ_ONLY, facts(paths=["repo"])),
    Tool(git_create_branch, ADDITIVE, facts(paths=["repo"])),
    Tool(git_switch, ADDITIVE, facts(paths=["repo"])),
    Tool(git_delete_branch, DESTRUCTIVE, facts(paths=["repo"])),
]
