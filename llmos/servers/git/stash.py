"""Work put aside: git_stash_list, git_stash_push, git_stash_pop."""

from __future__ import annotations

from typing import Annotated

from llmos.servers.common import ADDITIVE, DESTRUCTIVE, READ_ONLY, ToolError, cap
from llmos.servers.git.arguments import RepoArg, arg
from llmos.servers.git.models import Stash, Stashed, Stashes
from llmos.servers.git.repository import LIST_LIMIT, GitContext, Repo, open_repo
from llmos.servers.git.runner import clean, lines
from llmos.servers.git.secrets import Withholding
from llmos.servers.tooling import Tool, facts


def stashes(r: Repo) -> list[Stash]:
    out = r.git("stash", "list", "--format=%gd%x1f%H%x1f%gs%x1f%cI")
    return [Stash(**dict(zip(("ref", "sha", "message", "date"), line.split("\x1f"), strict=True)))
            for line in out.splitlines() if line]


def git_stash_list(ctx: GitContext, repo: RepoArg = None) -> Stashes:
    """List saved stashes, newest first (stash@{0})."""
    r = open_repo(ctx, repo)
    shown, more = cap(stashes(r), LIST_LIMIT)
    return Stashes(repo=r.cwd, branch=r.branch(), stashes=shown, more=more)


def git_stash_push(
    ctx: GitContext,
    repo: RepoArg = None,
    message: Annotated[str | None, arg("A note to recognise the stash by.")] = None,
    untracked: Annotated[bool, arg("Also stash untracked (new) files.")] = False,
) -> Stashed:
    """Put uncommitted changes aside (saved as stash@{0}), leaving a clean working tree."""
    r = open_repo(ctx, repo, write=True)
    r.resolve("HEAD")  # stashing needs a first commit
    _refuse_secrets(ctx, r, untracked)
    before = len(stashes(r))
    r.git("stash", "push", "-q", *(["--include-untracked"] if untracked else []),
          *(["-m", message] if message else []))
    after = stashes(r)
    if len(after) == before:
        raise ToolError(f"There are no local changes to stash in {r.cwd}.")
    return Stashed(repo=r.cwd, branch=r.branch(), stash=after[0],
                   note="Changes saved as stash@{0}; git_stash_pop brings them back.")


def _refuse_secrets(ctx: GitContext, r: Repo, untracked: bool) -> None:
    """A stash is a commit: it records no credential (a changed file that is a hard link to a key would be
    kept in it, and the working tree put back, so nothing left would show what it was)."""
    withholding = Withholding(ctx.sandbox, r.cwd)
    changed = lines(r.git("ls-files", "-z", "--modified"))
    if untracked:
        changed += lines(r.git("ls-files", "-z", "--others", "--exclude-standard"))
    secret = sorted({n for n in changed if withholding.is_secret(n)})
    if secret:
        raise ToolError(f"Nothing was stashed: {', '.join(secret[:20])} is a credential (by name, folder or "
                        "identity: a hard link, a link into a credential folder); llmos never records one in a "
                        "stash. Move it out of the repository first.")


def git_stash_pop(
    ctx: GitContext,
    repo: RepoArg = None,
    index: Annotated[int, arg("Which stash: 0 is the newest (stash@{0}).", ge=0)] = 0,
) -> Stashed:
    """Re-apply a stash to the working tree and drop it; may conflict with the current files."""
    r = open_repo(ctx, repo, write=True)
    ref, saved = f"stash@{{{index}}}", stashes(r)
    if index >= len(saved):
        raise ToolError(f"There is no {ref} in {r.cwd} ({len(saved)} stash(es) saved).")
    status, out, err = r.run("stash", "pop", "-q", ref)
    if conflict := r.conflict_error(f"Applying {ref} (which was kept)"):
        raise conflict
    if status != 0:
        raise ToolError(clean(err) or clean(out))
    return Stashed(repo=r.cwd, branch=r.branch(), stash=saved[index], note=f"Applied and dropped {ref}.")


# Pushing is not destructive: the changes are kept in the stash and git_stash_pop brings them back.
TOOLS = [
    Tool(git_stash_list, READ_ONLY, facts(paths=["repo"])),
    Tool(git_stash_push, ADDITIVE, facts(paths=["repo"])),
    Tool(git_stash_pop, DESTRUCTIVE, facts(paths=["repo"])),
]
