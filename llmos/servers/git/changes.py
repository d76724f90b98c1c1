"""Recording and discarding work: git_add, git_commit, git_restore, git_reset_hard."""

from __future__ import annotations

from typing import Annotated, Any

from llmos.servers.common import ADDITIVE, DESTRUCTIVE, ToolError, cap
from llmos.servers.git.arguments import Paths, RepoArg, arg
from llmos.servers.git.models import Committed, Files, Reset
from llmos.servers.git.repository import LIST_LIMIT, GitContext, Repo, open_repo
from llmos.servers.git.runner import lines
from llmos.servers.git.secrets import Withholding, exclusions
from llmos.servers.git.status import parse_status
from llmos.servers.tooling import Tool, facts


def git_add(ctx: GitContext, paths: Paths, repo: RepoArg = None) -> Files:
    """Stage files or folders ('.' for everything) so that the next git_commit records them."""
    r = open_repo(ctx, repo, write=True)
    withholding = Withholding(ctx.sandbox, r.cwd)
    before = set(_staged_names(r))
    secret = withholding.secrets([[name] for name in _would_add(r, paths)])
    r.git("add", "--", *paths, *exclusions(secret))
    # The check after: whatever a pathspec missed is taken out of the index again.
    slipped = [n for n in _staged_names(r) if n not in before and withholding.is_secret(n)]
    if slipped:
        _unstage(r, slipped)
    staged = [c.path for c in parse_status(r)["staged"]]
    shown, more = cap(staged, LIST_LIMIT)
    note = f"{len(staged)} file(s) now staged." if staged else "Nothing is staged."
    withheld = sorted({*secret, *slipped})
    if withheld:
        note += (f" Not staged: {', '.join(withheld[:20])} — credentials (by name, folder or identity: a hard "
                 "link, a link into a credential folder) are never staged by llmos.")
    return Files(repo=r.cwd, branch=r.branch(), files=shown, more=more, note=note)


def _would_add(r: Repo, paths: list[str]) -> list[str]:
    """The files `git add -- paths` would record: untracked ones not ignored, and changed tracked ones."""
    untracked = lines(r.git("ls-files", "-z", "--others", "--exclude-standard", "--", *paths))
    changed = lines(r.git("ls-files", "-z", "--modified", "--", *paths))
    return [*untracked, *changed]


def _staged_names(r: Repo) -> list[str]:
    """Files whose staged content differs from HEAD, deletions left out (a removal records no content)."""
    if r.head()[1] is None:
        return lines(r.git("ls-files", "-z", "--cached"))
    return lines(r.git("diff", "--cached", "--name-only", "--diff-filter=d", "--no-renames", "-z"))


def _unstage(r: Repo, names: list[str]) -> None:
    specs = [f":(literal){n}" for n in names]
    if r.head()[1] is None:
        r.git("rm", "--cached", "-q", "--ignore-unmatch", "--", *specs)
    else:
        r.git("reset", "-q", "HEAD", "--", *specs)


def _refuse_secrets(ctx: GitContext, r: Repo, all: bool) -> None:
    """git_commit records no credential: not one already staged, not one `all` would stage."""
    withholding = Withholding(ctx.sandbox, r.cwd)
    staged = [n for n in _staged_names(r) if withholding.is_secret(n)]
    later = [n for n in lines(r.git("ls-files", "-z", "--modified")) if withholding.is_secret(n)] if all else []
    if staged or later:
        names = ", ".join(sorted({*staged, *later})[:20])
        how = (" Unstage it yourself (git restore --staged FILE)." if staged else
               " Commit without all=true, after git_add of the other files.")
        raise ToolError(f"Nothing was committed: {names} is a credential (by name, folder or identity: a hard "
                        f"link, a link into a credential folder); llmos never commits one.{how}")


def _names(changes: list[Any]) -> str:
    shown, more = cap([c if isinstance(c, str) else c.path for c in changes], 5)  # untracked: plain paths
    return ", ".join(shown) + (f" and {more} more" if more else "")


def _nothing_staged(r: Repo, all: bool) -> None:
    s = parse_status(r)
    if s["staged"] or (all and s["unstaged"]) or r.in_progress() == "merge":
        return
    # The files are named: told only "1 file(s) have unstaged changes", the 0.5B guessed git_add("src/app.py").
    hint = (f" Unstaged changes in {_names(s['unstaged'])}: git_add them, or pass all=true to commit them all."
            if s["unstaged"] else f" Untracked: {_names(s['untracked'])}; git_add them first."
            if s["untracked"] else " The working tree is clean.")
    raise ToolError(f"Nothing to commit in {r.cwd}: no changes are staged.{hint}")


def git_commit(
    ctx: GitContext,
    message: Annotated[str, arg("The commit message.", min_length=1)],
    repo: RepoArg = None,
    all: Annotated[bool, arg("First stage every change to already-tracked files (git commit -a); new files "
                             "still need git_add.")] = False,
) -> Committed:
    """Record the staged changes as a new commit; returns its sha."""
    r = open_repo(ctx, repo, write=True)
    if conflict := r.conflict_error("The last merge"):
        raise conflict
    _nothing_staged(r, all)
    _refuse_secrets(ctx, r, all)
    r.git("commit", "-q", *(["-a"] if all else []), "-m", message)
    branch, sha = r.branch(), r.resolve("HEAD")
    files, more = cap(lines(r.git("diff-tree", "--root", "--no-commit-id", "--name-only", "-r", "-z", "-m",
                                  "--first-parent", sha)), LIST_LIMIT)
    note = f"Committed {sha[:7]} on {branch}." if branch else (
        f"Committed {sha[:7]} on a detached HEAD: this commit is on no branch and will be hard to find after "
        "switching away. Keep it with git_create_branch (it starts from HEAD).")
    return Committed(repo=r.cwd, branch=branch, detached=branch is None, sha=sha, short_sha=sha[:7],
                     subject=message.strip().split("\n", 1)[0], files=files, more=more, note=note)


def git_restore(
    ctx: GitContext,
    paths: Paths,
    repo: RepoArg = None,
    staged: Annotated[bool, arg("Also discard staged changes (back to the last commit).")] = False,
) -> Files:
    """Discard uncommitted changes to files, putting them back as they were. The changes are lost."""
    r = open_repo(ctx, repo, write=True)
    base = [r.resolve("HEAD")] if staged else []
    # Exactly the files the restore will change, found before they are changed.
    changed = lines(r.git("diff", "--name-only", "-z", *base, "--", *paths))
    if not changed:
        if not r.git("ls-files", "--", *paths):
            raise ToolError(f"No tracked file matches {', '.join(paths)} in {r.cwd} (paths are relative to "
                            "the repository root; untracked files are never restored).")
        hint = "" if staged or not r.git("diff", "--cached", "--name-only", "--", *paths) else (
            " Its changes are staged: pass staged=true to discard those too.")
        raise ToolError(f"Nothing to restore: {', '.join(paths)} has no "
                        f"{'uncommitted' if staged else 'unstaged'} changes.{hint}")
    r.git("restore", *(["--staged", "--worktree"] if staged else []), "--", *paths)
    shown, more = cap(changed, LIST_LIMIT)
    return Files(repo=r.cwd, branch=r.branch(), files=shown, more=more,
                 note=f"Discarded the changes to {len(changed)} file(s).")


def git_reset_hard(
    ctx: GitContext,
    repo: RepoArg = None,
    ref: Annotated[str, arg("Branch, tag or commit to move the current branch to (default HEAD: only "
                            "discard uncommitted changes).")] = "HEAD",
) -> Reset:
    """Discard all uncommitted changes to tracked files and move the branch to ref (git reset --hard)."""
    r = open_repo(ctx, repo, write=True)
    old, new = r.head()[1], r.resolve(ref)
    s = parse_status(r)
    discarded = sorted({c.path for c in s["staged"] + s["unstaged"]} | set(s["conflicted"]))
    dropped = int(r.git("rev-list", "--count", f"{new}..{old}")) if old else 0
    r.git("reset", "-q", "--hard", new)
    note = f"Now at {new[:7]}; discarded changes to {len(discarded)} file(s)."
    if dropped:
        note += (f" {dropped} commit(s) are no longer on the branch; git_reset_hard ref={old} brings them back "
                 "(for a while).")
    shown, more = cap(discarded, LIST_LIMIT)
    return Reset(repo=r.cwd, branch=r.branch(), old_sha=old, new_sha=new, commits_dropped=dropped,
                 files=shown, more=more, note=note)


TOOLS = [
    Tool(git_add, ADDITIVE, facts(paths=["repo"])),
    Tool(git_commit, ADDITIVE, facts(paths=["repo"])),
]
DISCARDING = [
    Tool(git_restore, DESTRUCTIVE, facts(paths=["repo"])),
    Tool(git_reset_hard, DESTRUCTIVE, facts(paths=["repo"])),
]
