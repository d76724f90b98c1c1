"""What happened: git_log and git_show."""

from __future__ import annotations

from typing import Annotated

from llmos.servers.common import READ_ONLY, cap
from llmos.servers.git.arguments import MaxBytes, RepoArg, arg
from llmos.servers.git.models import Commit, FileChange, Log, Shown
from llmos.servers.git.repository import LIST_LIMIT, GitContext, Repo, open_repo
from llmos.servers.git.runner import lines
from llmos.servers.git.secrets import Withholding, exclusions, withheld_note
from llmos.servers.git.status import CHANGES, cap_text
from llmos.servers.tooling import Tool, facts

COMMIT_FORMAT = "--format=%H%x1f%h%x1f%an%x1f%ae%x1f%aI%x1f%s%x1e"
_COMMIT_KEYS = ("sha", "short_sha", "author", "email", "date", "subject")


def git_log(
    ctx: GitContext,
    repo: RepoArg = None,
    max_count: Annotated[int, arg("At most this many commits, newest first.", ge=1, le=500)] = 20,
    author: Annotated[str | None, arg("Only commits whose author name or e-mail contains this.")] = None,
    since: Annotated[str | None, arg("Only commits after this date: '2024-05-01', '2 weeks ago'.")] = None,
    path: Annotated[str | None, arg("Only commits touching this file or folder.")] = None,
    ref: Annotated[str | None, arg("Start from this branch, tag or commit (default: HEAD).")] = None,
) -> Log:
    """List commits (newest first), optionally filtered by author, date or path."""
    r = open_repo(ctx, repo)
    branch, head = r.head()
    if head is None and not ref:
        return Log(repo=r.cwd, branch=branch, commits=[], more=0, note="No commits yet.")
    start = r.resolve(ref) if ref else "HEAD"
    filters = ([f"--author={author}"] if author else []) + ([f"--since={since}"] if since else [])
    spec = ["--", path] if path else []
    # --no-show-signature: verifying a signature would run the gpg program.
    out = r.git("log", "--no-show-signature", COMMIT_FORMAT, f"-n{max_count + 1}", *filters, start, *spec)
    commits = [Commit(**dict(zip(_COMMIT_KEYS, record.strip("\n").split("\x1f"), strict=True)))
               for record in out.split("\x1e") if record.strip()]
    more = 0
    if len(commits) > max_count:  # only then is the exact count worth a second command
        more = int(r.git("rev-list", "--count", *filters, start, *spec)) - max_count
        commits = commits[:max_count]
    note = f"{more} older matching commits not shown." if more else ""
    if not commits:
        note = "No commits match."
    return Log(repo=r.cwd, branch=branch, commits=commits, more=more, note=note)


def _changed_files(r: Repo, sha: str) -> list[FileChange]:
    tokens, files = iter(lines(r.git("show", "--no-show-signature", "--format=", "--name-status", "-z", sha))), []
    for code in tokens:  # "M\0path", or "R100\0old\0new" for renames and copies
        letter = code.strip()[:1]
        old = next(tokens, "") if letter in ("R", "C") else None
        files.append(FileChange(path=next(tokens, ""), change=CHANGES.get(letter, letter), old_path=old))
    return files


def git_show(
    ctx: GitContext,
    repo: RepoArg = None,
    ref: Annotated[str, arg("The commit: a sha, branch or tag (default: HEAD).")] = "HEAD",
    max_bytes: MaxBytes = 20_000,
) -> Shown:
    """Show one commit: its author, date, full message, changed files and patch."""
    r = open_repo(ctx, repo)
    sha = r.resolve(ref)
    meta = r.git("show", "--no-show-signature", "-s", "--format=%H%x1f%h%x1f%an%x1f%ae%x1f%aI%x1f%P%x1f%B", sha)
    full, short, author, email, date, parents, message = meta.split("\x1f", 6)
    files = _changed_files(r, sha)
    withholding = Withholding(ctx.sandbox, r.cwd)
    secret = withholding.secrets([[f.old_path, f.path] if f.old_path else [f.path] for f in files])
    spec = ["--", *exclusions(secret)] if secret else []
    patch, dropped = withholding.filter_patch(r.git("show", "--no-show-signature", "--format=", "--no-color",
                                                    "--no-ext-diff", "--patch", sha, *spec).lstrip("\n"))
    patch, size, truncated = cap_text(patch, max_bytes)
    return Shown(repo=r.cwd, sha=full, short_sha=short, author=author, email=email, date=date,
                 subject=message.split("\n", 1)[0], message=message.strip(), parents=parents.split(),
                 files=cap(files, LIST_LIMIT)[0], patch=patch, bytes=size, truncated=truncated,
                 note=withheld_note(max(len(secret), dropped)))


TOOLS = [
    Tool(git_log, READ_ONLY, facts(paths=["repo"])),
    Tool(git_show, READ_ONLY, facts(paths=["repo"], content=True), defaults={"max_bytes": "max_diff_bytes"}),
]
