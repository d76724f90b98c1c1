"""What is changed: git_status and git_diff."""

from __future__ import annotations

from typing import Annotated, Any

from llmos.servers.common import READ_ONLY, cap
from llmos.servers.git.arguments import MaxBytes, RepoArg, arg
from llmos.servers.git.models import Diff, FileChange, Status
from llmos.servers.git.repository import LIST_LIMIT, GitContext, Repo, open_repo
from llmos.servers.git.secrets import Withholding, change_groups, exclusions, withheld_note
from llmos.servers.tooling import Tool, facts

CHANGES = {"M": "modified", "T": "type changed", "A": "added", "D": "deleted", "R": "renamed", "C": "copied"}


def parse_status(r: Repo) -> dict[str, Any]:
    """`git status --porcelain=v2`, parsed: branch headers, then one entry per changed path."""
    out = r.git("status", "--porcelain=v2", "--branch", "-z", "--untracked-files=normal")
    s: dict[str, Any] = {"oid": None, "head": None, "upstream": None, "ahead": 0, "behind": 0, "staged": [],
                         "unstaged": [], "untracked": [], "conflicted": []}
    tokens = iter(out.split("\0"))
    for entry in tokens:
        if entry.startswith("# "):
            _header(s, entry)
        elif entry[:1] in ("1", "2"):  # ordinary change; "2" (renamed/copied) is followed by the old path
            kind, codes = entry[:1], entry.split(" ")[1]
            path = entry.split(" ", 8 if kind == "1" else 9)[-1]
            old = next(tokens, None) if kind == "2" else None
            for code, bucket in ((codes[0], "staged"), (codes[1], "unstaged")):
                if code in CHANGES:
                    s[bucket].append(FileChange(path=path, change=CHANGES[code], old_path=old))
        elif entry[:1] == "u":
            s["conflicted"].append(entry.split(" ", 10)[-1])
        elif entry[:1] == "?":
            s["untracked"].append(entry[2:])
    return s


def _header(s: dict[str, Any], entry: str) -> None:
    words = entry.split(" ")
    if entry.startswith("# branch.oid "):
        s["oid"] = None if words[2] == "(initial)" else words[2]
    elif entry.startswith("# branch.head "):
        s["head"] = entry.split(" ", 2)[2]
    elif entry.startswith("# branch.upstream "):
        s["upstream"] = entry.split(" ", 2)[2]
    elif entry.startswith("# branch.ab "):
        s["ahead"], s["behind"] = int(words[2]), -int(words[3])


def cap_text(text: str, max_bytes: int) -> tuple[str, int, bool]:
    data = text.encode()
    if len(data) <= max_bytes:
        return text, len(data), False
    return data[:max_bytes].decode("utf-8", "ignore"), len(data), True


def git_status(ctx: GitContext, repo: RepoArg = None) -> Status:
    """Show the current branch and which files are staged, changed, untracked or in conflict."""
    r = open_repo(ctx, repo)
    s, busy = parse_status(r), r.in_progress()
    detached = s["head"] == "(detached)"
    clean = not (s["staged"] or s["unstaged"] or s["untracked"] or s["conflicted"])
    lists, more = {}, 0
    for key in ("staged", "unstaged", "untracked", "conflicted"):
        lists[key], left = cap(s[key], LIST_LIMIT)
        more += left
    return Status(repo=r.cwd, branch=None if detached else s["head"], detached=detached, head=s["oid"],
                  upstream=s["upstream"], ahead=s["ahead"], behind=s["behind"], in_progress=busy,
                  clean=clean, more=more, note=" ".join(_status_notes(r, s, busy, detached, clean)), **lists)


def _status_notes(r: Repo, s: dict[str, Any], busy: str | None, detached: bool, clean: bool) -> list[str]:
    notes = []
    if detached:
        sample = ", ".join(r.names("refs/heads")[:3]) or "a new branch"
        notes.append(f"HEAD is detached at {(s['oid'] or '?')[:7]} (not on any branch). Use git_switch to "
                     f"return to a branch ({sample}); to keep commits made here, git_create_branch first.")
    if s["conflicted"]:
        notes.append(f"Merge conflicts in: {', '.join(s['conflicted'][:20])}. Edit them, git_add them, then "
                     "git_commit.")
    if busy:
        notes.append(f"A {busy} is in progress.")
    if s["upstream"] and (s["ahead"] or s["behind"]):
        notes.append(f"{s['ahead']} commit(s) ahead of and {s['behind']} behind {s['upstream']}.")
    if clean:
        notes.append("Working tree clean.")
    if s["oid"] is None:
        notes.append("No commits yet.")
    return notes


def git_diff(
    ctx: GitContext,
    repo: RepoArg = None,
    staged: Annotated[bool, arg("Show staged changes (what git_commit would record) instead.")] = False,
    ref: Annotated[str | None, arg("Compare against this branch, tag or commit instead.")] = None,
    path: Annotated[str | None, arg("Only this file or folder (relative to the repo root).")] = None,
    max_bytes: MaxBytes = 20_000,
) -> Diff:
    """Show line-by-line changes: unstaged by default, staged with staged=true, or against a ref."""
    r = open_repo(ctx, repo)
    args = ["diff", "--no-color", "--no-ext-diff"] + (["--cached"] if staged else [])
    if ref:
        args.append(r.resolve(ref))
        against = f"{'staged files' if staged else 'working tree'} vs {ref}"
    else:
        against = "staged vs the last commit" if staged else "unstaged: working tree vs staged files"
    spec = ["--", path] if path else []
    groups = change_groups(r.git(*args, "--name-status", "-z", *spec))
    withholding = Withholding(ctx.sandbox, r.cwd)
    secret = withholding.secrets(groups)
    if secret:
        spec = ["--", *([path] if path else []), *exclusions(secret)]
    patch, dropped = withholding.filter_patch(r.git(*args, *spec))
    text, size, truncated = cap_text(patch, max_bytes)
    files, more = cap([g[-1] for g in groups], LIST_LIMIT)
    note = f"Cut at {max_bytes} of {size} bytes; pass path= to narrow it." if truncated else ""
    if not text:
        note = "No differences." if not groups else "No differences that may be shown."
        if not staged and not ref and r.git("diff", "--cached", "--name-only", *spec):
            note += " There are staged changes: use staged=true to see them."
    note += f" {more} more files changed." if more else ""
    note += " " + withheld_note(max(len(secret), dropped))
    return Diff(repo=r.cwd, branch=r.branch(), against=against, files=files, diff=text, bytes=size,
                truncated=truncated, note=note.strip())

TOOLS = [
    Tool(git_status, READ_ONLY, facts(paths=["repo"])),
    Tool(git_diff, READ_ONLY, facts(paths=["repo"], content=True), defaults={"max_bytes": "max_diff_bytes"}),
]
