"""The git server: status, diffs, history, branches, commits, stashes and the remote round trip (clone, pull,
push). Every command runs the real `git` via GitPython, never prompts, and answers in structured fields."""

from __future__ import annotations

import difflib
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, Field

from llmos.servers import common
from llmos.servers.common import ADDITIVE, DESTRUCTIVE, READ_ONLY, WEB_ACTION, ToolError, cap

if TYPE_CHECKING:
    from git import Repo
    from mcp.server.mcpserver import MCPServer

LIST_LIMIT = 200
# Pull and push talk to another machine: destructive, and open-world too.
NETWORK_DESTRUCTIVE = DESTRUCTIVE.model_copy(update={"open_world_hint": True})
# No prompt may ever block a tool: no editor, no terminal prompt, no askpass helper (an empty GIT_ASKPASS
# also stops git falling back to SSH_ASKPASS); English messages so that failures can be recognised.
_QUIET_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "SSH_ASKPASS_REQUIRE": "never",
              "GIT_EDITOR": "true", "GIT_MERGE_AUTOEDIT": "no", "LC_ALL": "C"}
_CHANGES = {"M": "modified", "T": "type changed", "A": "added", "D": "deleted", "R": "renamed", "C": "copied"}
_COMMIT_FORMAT = "--format=%H%x1f%h%x1f%an%x1f%ae%x1f%aI%x1f%s%x1e"
_NO_GIT = "git is not installed (the git program was not found on PATH)."


def _arg(description: str, **constraints: Any) -> Any:
    return Field(description=description, **constraints)


RepoArg = Annotated[str | None, _arg("Path of the repository or any folder or file inside it. "
                                     "Default: the repository containing the current folder.")]
Paths = Annotated[list[str], _arg("File or folder paths relative to the repository root, e.g. "
                                  "['src/app.py'].", min_length=1)]
MaxBytes = Annotated[int, _arg("Cut the text after this many bytes.", ge=200, le=2_000_000)]
Ref = Annotated[str | None, _arg("A branch, tag or commit sha.")]


class FileChange(BaseModel):
    path: str
    change: str = Field(description="added, modified, deleted, renamed, copied or type changed")
    old_path: str | None = None


class Status(BaseModel):
    repo: str
    branch: str | None = Field(description="current branch; null when HEAD is detached")
    detached: bool
    head: str | None = Field(description="sha of the current commit; null before the first commit")
    upstream: str | None
    ahead: int
    behind: int
    in_progress: str | None = Field(description="merge, rebase, cherry-pick, revert or bisect, if underway")
    staged: list[FileChange]
    unstaged: list[FileChange]
    untracked: list[str]
    conflicted: list[str]
    clean: bool
    more: int = Field(description="entries left out of the lists above")
    note: str


class Diff(BaseModel):
    repo: str
    branch: str | None
    against: str
    files: list[str]
    diff: str
    bytes: int = Field(description="size of the whole diff")
    truncated: bool
    note: str


class Commit(BaseModel):
    sha: str
    short_sha: str
    author: str
    email: str
    date: str
    subject: str


class Log(BaseModel):
    repo: str
    branch: str | None
    commits: list[Commit]
    more: int = Field(description="matching commits left out")
    note: str


class Shown(Commit):
    repo: str
    message: str
    parents: list[str]
    files: list[FileChange]
    patch: str
    bytes: int
    truncated: bool


class Branch(BaseModel):
    name: str
    sha: str
    current: bool
    remote: bool
    upstream: str | None
    track: str = Field(description="e.g. 'ahead 1, behind 2', 'gone', or empty")


class Branches(BaseModel):
    repo: str
    branch: str | None
    detached: bool
    branches: list[Branch]
    more: int


class BranchChange(BaseModel):
    repo: str
    branch: str = Field(description="the branch acted on")
    sha: str
    current_branch: str | None
    note: str


class Files(BaseModel):
    repo: str
    branch: str | None
    files: list[str]
    more: int
    note: str


class Committed(Files):
    detached: bool
    sha: str
    short_sha: str
    subject: str


class Stash(BaseModel):
    ref: str = Field(description="e.g. stash@{0}")
    sha: str
    message: str
    date: str


class Stashes(BaseModel):
    repo: str
    branch: str | None
    stashes: list[Stash]
    more: int


class Stashed(BaseModel):
    repo: str
    branch: str | None
    stash: Stash
    note: str


class Reset(Files):
    old_sha: str | None
    new_sha: str
    commits_dropped: int


class Pulled(Files):
    remote: str
    url: str
    old_sha: str | None
    new_sha: str | None
    commits: int


class Pushed(BaseModel):
    repo: str
    branch: str
    remote: str
    url: str
    remote_branch: str
    sha: str
    forced: bool
    up_to_date: bool
    set_upstream: bool
    note: str


class NewRepo(BaseModel):
    repo: str
    branch: str | None
    sha: str | None
    url: str | None
    note: str


# ---- running git ----

def _exec(cwd: str | Path, args: list[str], timeout: float | None = None) -> tuple[int, str, str]:
    """Run git in ``cwd``: (exit status, stdout, stderr). Never raises for a failing git command."""
    try:
        from git import Git
        from git.exc import GitCommandNotFound
    except ImportError as exc:  # GitPython will not even import without a git program
        raise ToolError(_NO_GIT) from exc
    try:
        # A session of its own has no controlling terminal, so not even ssh can open /dev/tty to ask.
        status, out, err = Git(str(cwd)).execute(
            ["git", *args], with_extended_output=True, with_exceptions=False, stdout_as_string=False,
            kill_after_timeout=timeout, env=_QUIET_ENV, start_new_session=True)
    except GitCommandNotFound as exc:
        raise ToolError(_NO_GIT) from exc
    except OSError as exc:
        raise ToolError(common.sentence(exc, "Cannot run git")) from exc
    if err.startswith("Timeout:"):
        raise ToolError(f"git {args[0]} gave up after {timeout:g} seconds: the remote did not answer in "
                        "time.")
    return status, out.decode("utf-8", "replace"), err


def _clean(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("hint:")]
    return " ".join(ln.removeprefix("fatal: ").removeprefix("error: ") for ln in lines)[:800]


def _git(cwd: str | Path, *args: str, timeout: float | None = None) -> str:
    status, out, err = _exec(cwd, list(args), timeout)
    if status != 0:
        message = _clean(err) or _clean(out) or f"git {args[0]} failed (exit status {status})."
        if "tell me who you are" in message or "empty ident" in message:
            message = ("git does not know who you are: set a name and e-mail first (git config --global "
                       "user.name 'Your Name'; git config --global user.email you@example.com).")
        raise ToolError(message)
    return out


def _lines(out: str) -> list[str]:
    """The entries of a -z (NUL-separated) listing."""
    return [item for item in out.split("\0") if item]


def _open(repo: str | None) -> Repo:
    try:
        from git import InvalidGitRepositoryError, NoSuchPathError, Repo
    except ImportError as exc:
        raise ToolError(_NO_GIT) from exc
    path = Path(os.path.abspath(Path(repo).expanduser() if repo else Path.cwd()))
    if not path.exists():
        raise ToolError(f"{path} does not exist.")
    try:
        r = Repo(path.parent if path.is_file() else path, search_parent_directories=True)
    except (InvalidGitRepositoryError, NoSuchPathError):
        raise ToolError(f"{path} is not a git repository (nor is any folder above it). Pass the "
                        "repository's path as repo, or use git_init to make one.") from None
    if r.bare or not r.working_tree_dir:
        r.close()
        raise ToolError(f"{path} is a bare repository (it has no working files to work on).")
    return r


def _head(r: Repo) -> tuple[str | None, str | None]:
    """(current branch, or None when detached; HEAD's sha, or None before the first commit)."""
    branch = None if r.head.is_detached else r.active_branch.name
    return branch, (r.head.commit.hexsha if r.head.is_valid() else None)


def _names(cwd: str, *kinds: str) -> list[str]:
    out = _git(cwd, "for-each-ref", "--format=%(refname:short)",
               *(kinds or ("refs/heads", "refs/remotes", "refs/tags")))
    return [n for n in out.splitlines() if n and not n.endswith("/HEAD")]


def _unknown(what: str, name: str, repo: str, names: list[str]) -> ToolError:
    near = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    hint = f" Did you mean {' or '.join(near)}?" if near else ""
    if names and not near:
        hint = f" Known: {', '.join(names[:10])}."
    return ToolError(f"There is no {what} called '{name}' in {repo}.{hint}")


def _resolve(cwd: str, ref: str) -> str:
    """The commit sha ``ref`` names, or a ToolError suggesting near names."""
    status, out, _ = _exec(cwd, ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"])
    if status == 0 and not ref.startswith("-"):
        return out.strip()
    if ref == "HEAD":
        raise ToolError(f"{cwd} has no commits yet.")
    raise _unknown("branch, tag or commit", ref, cwd, _names(cwd))


def _status(cwd: str) -> dict[str, Any]:
    """`git status --porcelain=v2`, parsed: branch headers, then one entry per changed path."""
    out = _git(cwd, "status", "--porcelain=v2", "--branch", "-z", "--untracked-files=normal")
    s: dict[str, Any] = {"oid": None, "head": None, "upstream": None, "ahead": 0, "behind": 0, "staged": [],
                         "unstaged": [], "untracked": [], "conflicted": []}
    tokens = iter(out.split("\0"))
    for entry in tokens:
        kind, words = entry[:1], entry.split(" ")
        if entry.startswith("# branch.oid "):
            s["oid"] = None if words[2] == "(initial)" else words[2]
        elif entry.startswith("# branch.head "):
            s["head"] = entry.split(" ", 2)[2]
        elif entry.startswith("# branch.upstream "):
            s["upstream"] = entry.split(" ", 2)[2]
        elif entry.startswith("# branch.ab "):
            s["ahead"], s["behind"] = int(words[2]), -int(words[3])
        elif kind in ("1", "2"):  # ordinary change; "2" (renamed/copied) is followed by the old path
            path = entry.split(" ", 8 if kind == "1" else 9)[-1]
            old = next(tokens, None) if kind == "2" else None
            for code, bucket in ((words[1][0], "staged"), (words[1][1], "unstaged")):
                if code in _CHANGES:
                    s[bucket].append(FileChange(path=path, change=_CHANGES[code], old_path=old))
        elif kind == "u":
            s["conflicted"].append(entry.split(" ", 10)[-1])
        elif kind == "?":
            s["untracked"].append(entry[2:])
    return s


def _in_progress(r: Repo) -> str | None:
    for marker, name in (("MERGE_HEAD", "merge"), ("rebase-merge", "rebase"), ("rebase-apply", "rebase"),
                         ("CHERRY_PICK_HEAD", "cherry-pick"), ("REVERT_HEAD", "revert"),
                         ("BISECT_LOG", "bisect")):
        if (Path(r.git_dir) / marker).exists():
            return name
    return None


def _conflict_error(what: str, cwd: str) -> ToolError | None:
    files = _lines(_git(cwd, "diff", "--name-only", "--diff-filter=U", "-z"))
    if not files:
        return None
    shown, more = cap(files, 20)
    return ToolError(f"{what} stopped with merge conflicts in: {', '.join(shown)}"
                     f"{f' and {more} more' if more else ''}. Edit those files to resolve the conflicts, "
                     "git_add them, then git_commit (or git_reset_hard to abandon).")


def _cap_text(text: str, max_bytes: int) -> tuple[str, int, bool]:
    data = text.encode()
    if len(data) <= max_bytes:
        return text, len(data), False
    return data[:max_bytes].decode("utf-8", "ignore"), len(data), True


def _config(cwd: str, key: str) -> str | None:
    status, out, _ = _exec(cwd, ["config", "--get", key])
    return out.strip() if status == 0 else None


def _remote(cwd: str, remote: str | None, branch: str) -> tuple[str, str]:
    """The remote to use (given, else the branch's upstream remote, else origin) and its URL."""
    remote = remote or _config(cwd, f"branch.{branch}.remote") or "origin"
    remotes = _git(cwd, "remote").split()
    if remote not in remotes:
        raise ToolError(f"{cwd} has no remote called '{remote}' (remotes: {', '.join(remotes) or 'none'}).")
    return remote, _config(cwd, f"remote.{remote}.url") or ""


def _on_branch(r: Repo, what: str) -> str:
    branch, sha = _head(r)
    if branch is None:
        raise ToolError(f"Cannot {what}: HEAD is detached at {sha[:7] if sha else '?'} (not on any branch). "
                        "Use git_switch to get onto a branch, or git_create_branch to make one here.")
    return branch


def _stashes(cwd: str) -> list[Stash]:
    out = _git(cwd, "stash", "list", "--format=%gd%x1f%H%x1f%gs%x1f%cI")
    return [Stash(**dict(zip(("ref", "sha", "message", "date"), line.split("\x1f"), strict=True)))
            for line in out.splitlines() if line]


def build_server(settings: dict[str, Any]) -> MCPServer:
    server = common.new_server("git", "Git repositories: status, diffs and history; commit, branch, stash; "
                                      "clone, pull and push. Every tool takes an optional repo path "
                                      "(default: the repository containing the current folder).")
    timeout = float(settings.get("network_timeout", 120))
    default_bytes = int(settings.get("max_diff_bytes", 20_000))

    @server.tool(annotations=READ_ONLY)
    def git_status(repo: RepoArg = None) -> Status:
        """Show the current branch and which files are staged, changed, untracked or in conflict."""
        with _open(repo) as r:
            cwd = r.working_tree_dir
            s, busy = _status(cwd), _in_progress(r)
            detached = s["head"] == "(detached)"
            notes = []
            if detached:
                sample = ", ".join(_names(cwd, "refs/heads")[:3]) or "a new branch"
                notes.append(f"HEAD is detached at {(s['oid'] or '?')[:7]} (not on any branch). Use "
                             f"git_switch to return to a branch ({sample}); to keep commits made here, "
                             "git_create_branch first.")
            if s["conflicted"]:
                notes.append(f"Merge conflicts in: {', '.join(s['conflicted'][:20])}. Edit them, git_add "
                             "them, then git_commit.")
            if busy:
                notes.append(f"A {busy} is in progress.")
            if s["upstream"] and (s["ahead"] or s["behind"]):
                notes.append(f"{s['ahead']} commit(s) ahead of and {s['behind']} behind {s['upstream']}.")
            clean = not (s["staged"] or s["unstaged"] or s["untracked"] or s["conflicted"])
            if clean:
                notes.append("Working tree clean.")
            if s["oid"] is None:
                notes.append("No commits yet.")
            lists, more = {}, 0
            for key in ("staged", "unstaged", "untracked", "conflicted"):
                lists[key], left = cap(s[key], LIST_LIMIT)
                more += left
            return Status(repo=cwd, branch=None if detached else s["head"], detached=detached, head=s["oid"],
                          upstream=s["upstream"], ahead=s["ahead"], behind=s["behind"], in_progress=busy,
                          clean=clean, more=more, note=" ".join(notes), **lists)

    @server.tool(annotations=READ_ONLY)
    def git_diff(
        repo: RepoArg = None,
        staged: Annotated[bool, _arg("Show staged changes (what git_commit would record) instead.")] = False,
        ref: Annotated[str | None, _arg("Compare against this branch, tag or commit instead.")] = None,
        path: Annotated[str | None, _arg("Only this file or folder (relative to the repo root).")] = None,
        max_bytes: MaxBytes = default_bytes,
    ) -> Diff:
        """Show line-by-line changes: unstaged by default, staged with staged=true, or against a ref."""
        with _open(repo) as r:
            cwd = r.working_tree_dir
            args = ["diff", "--no-color", "--no-ext-diff"] + (["--cached"] if staged else [])
            if ref:
                args.append(_resolve(cwd, ref))
                against = f"{'staged files' if staged else 'working tree'} vs {ref}"
            else:
                against = "staged vs the last commit" if staged else "unstaged: working tree vs staged files"
            spec = ["--", path] if path else []
            text, size, truncated = _cap_text(_git(cwd, *args, *spec), max_bytes)
            files, more = cap(_lines(_git(cwd, *args, "--name-only", "-z", *spec)), LIST_LIMIT)
            note = f"Cut at {max_bytes} of {size} bytes; pass path= to narrow it." if truncated else ""
            if not text:
                note = "No differences."
                if not staged and not ref and _git(cwd, "diff", "--cached", "--name-only", *spec):
                    note += " There are staged changes: use staged=true to see them."
            note += f" {more} more files changed." if more else ""
            return Diff(repo=cwd, branch=_head(r)[0], against=against, files=files, diff=text, bytes=size,
                        truncated=truncated, note=note.strip())

    @server.tool(annotations=READ_ONLY)
    def git_log(
        repo: RepoArg = None,
        max_count: Annotated[int, _arg("At most this many commits, newest first.", ge=1, le=500)] = 20,
        author: Annotated[str | None, _arg("Only commits whose author name or e-mail contains this.")] = None,
        since: Annotated[str | None, _arg("Only commits after this date: '2024-05-01', '2 weeks ago'.")]
        = None,
        path: Annotated[str | None, _arg("Only commits touching this file or folder.")] = None,
        ref: Annotated[str | None, _arg("Start from this branch, tag or commit (default: HEAD).")] = None,
    ) -> Log:
        """List commits (newest first), optionally filtered by author, date or path."""
        with _open(repo) as r:
            cwd = r.working_tree_dir
            branch, head = _head(r)
            if head is None and not ref:
                return Log(repo=cwd, branch=branch, commits=[], more=0, note="No commits yet.")
            start = _resolve(cwd, ref) if ref else "HEAD"
            filters = ([f"--author={author}"] if author else []) + ([f"--since={since}"] if since else [])
            spec = ["--", path] if path else []
            out = _git(cwd, "log", _COMMIT_FORMAT, f"-n{max_count + 1}", *filters, start, *spec)
            keys = ("sha", "short_sha", "author", "email", "date", "subject")
            commits = [Commit(**dict(zip(keys, record.strip("\n").split("\x1f"), strict=True)))
                       for record in out.split("\x1e") if record.strip()]
            more = 0
            if len(commits) > max_count:  # only then is the exact count worth a second command
                more = int(_git(cwd, "rev-list", "--count", *filters, start, *spec)) - max_count
                commits = commits[:max_count]
            note = f"{more} older matching commits not shown." if more else ""
            if not commits:
                note = "No commits match."
            return Log(repo=cwd, branch=branch, commits=commits, more=more, note=note)

    @server.tool(annotations=READ_ONLY)
    def git_show(
        repo: RepoArg = None,
        ref: Annotated[str, _arg("The commit: a sha, branch or tag (default: HEAD).")] = "HEAD",
        max_bytes: MaxBytes = default_bytes,
    ) -> Shown:
        """Show one commit: its author, date, full message, changed files and patch."""
        with _open(repo) as r:
            cwd = r.working_tree_dir
            sha = _resolve(cwd, ref)
            meta = _git(cwd, "show", "-s", "--format=%H%x1f%h%x1f%an%x1f%ae%x1f%aI%x1f%P%x1f%B", sha)
            full, short, author, email, date, parents, message = meta.split("\x1f", 6)
            tokens, files = iter(_lines(_git(cwd, "show", "--format=", "--name-status", "-z", sha))), []
            for code in tokens:  # "M\0path", or "R100\0old\0new" for renames and copies
                letter = code.strip()[:1]
                old = next(tokens, "") if letter in ("R", "C") else None
                change = _CHANGES.get(letter, letter)
                files.append(FileChange(path=next(tokens, ""), change=change, old_path=old))
            patch = _git(cwd, "show", "--format=", "--no-color", "--no-ext-diff", "--patch", sha).lstrip("\n")
            patch, size, truncated = _cap_text(patch, max_bytes)
            return Shown(repo=cwd, sha=full, short_sha=short, author=author, email=email, date=date,
                         subject=message.split("\n", 1)[0], message=message.strip(), parents=parents.split(),
                         files=cap(files, LIST_LIMIT)[0], patch=patch, bytes=size, truncated=truncated)

    @server.tool(annotations=READ_ONLY)
    def git_branches(
        repo: RepoArg = None,
        remote: Annotated[bool, _arg("Also list remote-tracking branches (e.g. origin/main).")] = False,
    ) -> Branches:
        """List branches, marking the current one, with each branch's upstream and ahead/behind counts."""
        with _open(repo) as r:
            cwd = r.working_tree_dir
            fields = ("refname", "refname:short", "objectname", "upstream:short", "upstream:track,nobracket",
                      "HEAD")
            out = _git(cwd, "for-each-ref", "--format=" + "%1f".join(f"%({f})" for f in fields), "refs/heads",
                       *(["refs/remotes"] if remote else []))
            found = []
            for line in out.splitlines():
                full, name, sha, upstream, track, star = line.split("\x1f")
                if not full.endswith("/HEAD"):  # origin/HEAD is an alias, not a branch
                    found.append(Branch(name=name, sha=sha, current=star == "*", upstream=upstream or None,
                                        remote=full.startswith("refs/remotes/"), track=track))
            branch = _head(r)[0]
            shown, more = cap(found, LIST_LIMIT)
            return Branches(repo=cwd, branch=branch, detached=branch is None, branches=shown, more=more)

    @server.tool(annotations=ADDITIVE)
    def git_create_branch(
        name: Annotated[str, _arg("Name of the new branch, e.g. 'fix-login'.")],
        repo: RepoArg = None,
        start: Annotated[str | None, _arg("Branch, tag or commit to start from (default: HEAD).")] = None,
        switch: Annotated[bool, _arg("Also switch to the new branch.")] = False,
    ) -> BranchChange:
        """Create a new branch (from HEAD or a given start point), optionally switching to it."""
        with _open(repo) as r:
            cwd = r.working_tree_dir
            if name.startswith("-") or _exec(cwd, ["check-ref-format", "--branch", name])[0] != 0:
                raise ToolError(f"'{name}' is not a valid branch name (no spaces, '..', '~', '^', ':', '?').")
            if name in _names(cwd, "refs/heads"):
                raise ToolError(f"A branch called '{name}' already exists in {cwd}; git_switch goes to it.")
            sha = _resolve(cwd, start or "HEAD")
            _git(cwd, "branch", name, sha)
            if switch:
                _git(cwd, "switch", name)
            return BranchChange(repo=cwd, branch=name, sha=sha, current_branch=_head(r)[0],
                                note=f"Created {name} at {sha[:7]}{' and switched to it' if switch else ''}.")

    # Not destructive: git refuses to switch when uncommitted changes would be overwritten.
    @server.tool(annotations=ADDITIVE)
    def git_switch(
        branch: Annotated[str, _arg("Branch to switch to.")],
        repo: RepoArg = None,
    ) -> BranchChange:
        """Switch the working tree to another existing branch (refused if local changes would be lost)."""
        with _open(repo) as r:
            cwd = r.working_tree_dir
            local = _names(cwd, "refs/heads")
            # A name that only exists on a remote (origin/topic) makes a local tracking branch, as git does.
            remote = [n.split("/", 1)[1] for n in _names(cwd, "refs/remotes") if "/" in n]
            if branch not in local and branch not in remote:
                raise _unknown("branch", branch, cwd, local + [n for n in remote if n not in local])
            note = f"Already on {branch}."
            if _head(r)[0] != branch:
                status, _, err = _exec(cwd, ["switch", "--end-of-options", branch])
                if status != 0:
                    hint = " Commit them or git_stash_push them first." if "overwritten" in err else ""
                    raise ToolError(_clean(err) + hint)
                note = f"Switched to {branch}." + (f" {_clean(err)}" if "leaving" in err else "")
            current, sha = _head(r)
            return BranchChange(repo=cwd, branch=branch, sha=sha or "", current_branch=current, note=note)

    @server.tool(annotations=DESTRUCTIVE)
    def git_delete_branch(
        name: Annotated[str, _arg("Branch to delete.")],
        repo: RepoArg = None,
        force: Annotated[bool, _arg("Delete even if its commits are merged nowhere (they would be lost).")]
        = False,
    ) -> BranchChange:
        """Delete a local branch; refuses when that would lose unmerged commits unless force=true."""
        with _open(repo) as r:
            cwd = r.working_tree_dir
            current, local = _head(r)[0], _names(cwd, "refs/heads")
            if name not in local:
                raise _unknown("branch", name, cwd, local)
            if name == current:
                raise ToolError(f"'{name}' is the current branch; git_switch to another before deleting it.")
            sha = _git(cwd, "rev-parse", f"refs/heads/{name}").strip()
            status, _, err = _exec(cwd, ["branch", "-D" if force else "-d", "--", name])
            if status != 0 and "not fully merged" in err:
                raise ToolError(f"Branch '{name}' has commits that are not merged into {current or 'HEAD'}; "
                                "deleting it would lose them. Pass force=true to delete it anyway.")
            if status != 0:
                raise ToolError(_clean(err))
            return BranchChange(repo=cwd, branch=name, sha=sha, current_branch=current,
                                note=f"Deleted {name} (was {sha[:7]}). To undo: git_create_branch "
                                     f"name={name} start={sha}.")

    @server.tool(annotations=ADDITIVE)
    def git_add(paths: Paths, repo: RepoArg = None) -> Files:
        """Stage files or folders ('.' for everything) so that the next git_commit records them."""
        with _open(repo) as r:
            cwd = r.working_tree_dir
            _git(cwd, "add", "--", *paths)
            staged = [c.path for c in _status(cwd)["staged"]]
            shown, more = cap(staged, LIST_LIMIT)
            return Files(repo=cwd, branch=_head(r)[0], files=shown, more=more,
                         note=f"{len(staged)} file(s) now staged." if staged else "Nothing is staged.")

    @server.tool(annotations=ADDITIVE)
    def git_commit(
        message: Annotated[str, _arg("The commit message.", min_length=1)],
        repo: RepoArg = None,
        all: Annotated[bool, _arg("First stage every change to already-tracked files (git commit -a); new "
                                  "files still need git_add.")] = False,
    ) -> Committed:
        """Record the staged changes as a new commit; returns its sha."""
        with _open(repo) as r:
            cwd = r.working_tree_dir
            if conflict := _conflict_error("The last merge", cwd):
                raise conflict
            s = _status(cwd)
            if not s["staged"] and not (all and s["unstaged"]) and _in_progress(r) != "merge":
                hint = (f" {len(s['unstaged'])} file(s) have unstaged changes: git_add them or pass all=true."
                        if s["unstaged"] else f" {len(s['untracked'])} untracked file(s): git_add them first."
                        if s["untracked"] else " The working tree is clean.")
                raise ToolError(f"Nothing to commit in {cwd}: no changes are staged.{hint}")
            _git(cwd, "commit", "-q", *(["-a"] if all else []), "-m", message)
            branch, sha = _head(r)[0], _resolve(cwd, "HEAD")
            files, more = cap(_lines(_git(cwd, "diff-tree", "--root", "--no-commit-id", "--name-only", "-r",
                                          "-z", "-m", "--first-parent", sha)), LIST_LIMIT)
            note = f"Committed {sha[:7]} on {branch}." if branch else (
                f"Committed {sha[:7]} on a detached HEAD: this commit is on no branch and will be hard to "
                "find after switching away. Keep it with git_create_branch (it starts from HEAD).")
            return Committed(repo=cwd, branch=branch, detached=branch is None, sha=sha, short_sha=sha[:7],
                             subject=message.strip().split("\n", 1)[0], files=files, more=more, note=note)

    @server.tool(annotations=READ_ONLY)
    def git_stash_list(repo: RepoArg = None) -> Stashes:
        """List saved stashes, newest first (stash@{0})."""
        with _open(repo) as r:
            shown, more = cap(_stashes(r.working_tree_dir), LIST_LIMIT)
            return Stashes(repo=r.working_tree_dir, branch=_head(r)[0], stashes=shown, more=more)

    # Not destructive: the changes are kept in the stash and git_stash_pop brings them back.
    @server.tool(annotations=ADDITIVE)
    def git_stash_push(
        repo: RepoArg = None,
        message: Annotated[str | None, _arg("A note to recognise the stash by.")] = None,
        untracked: Annotated[bool, _arg("Also stash untracked (new) files.")] = False,
    ) -> Stashed:
        """Put uncommitted changes aside (saved as stash@{0}), leaving a clean working tree."""
        with _open(repo) as r:
            cwd = r.working_tree_dir
            _resolve(cwd, "HEAD")  # stashing needs a first commit
            before = len(_stashes(cwd))
            _git(cwd, "stash", "push", "-q", *(["--include-untracked"] if untracked else []),
                 *(["-m", message] if message else []))
            after = _stashes(cwd)
            if len(after) == before:
                raise ToolError(f"There are no local changes to stash in {cwd}.")
            return Stashed(repo=cwd, branch=_head(r)[0], stash=after[0],
                           note="Changes saved as stash@{0}; git_stash_pop brings them back.")

    @server.tool(annotations=DESTRUCTIVE)
    def git_stash_pop(
        repo: RepoArg = None,
        index: Annotated[int, _arg("Which stash: 0 is the newest (stash@{0}).", ge=0)] = 0,
    ) -> Stashed:
        """Re-apply a stash to the working tree and drop it; may conflict with the current files."""
        with _open(repo) as r:
            cwd, ref = r.working_tree_dir, f"stash@{{{index}}}"
            stashes = _stashes(cwd)
            if index >= len(stashes):
                raise ToolError(f"There is no {ref} in {cwd} ({len(stashes)} stash(es) saved).")
            status, out, err = _exec(cwd, ["stash", "pop", "-q", ref])
            if conflict := _conflict_error(f"Applying {ref} (which was kept)", cwd):
                raise conflict
            if status != 0:
                raise ToolError(_clean(err) or _clean(out))
            return Stashed(repo=cwd, branch=_head(r)[0], stash=stashes[index],
                           note=f"Applied and dropped {ref}.")

    @server.tool(annotations=DESTRUCTIVE)
    def git_restore(
        paths: Paths,
        repo: RepoArg = None,
        staged: Annotated[bool, _arg("Also discard staged changes (back to the last commit).")] = False,
    ) -> Files:
        """Discard uncommitted changes to files, putting them back as they were. The changes are lost."""
        with _open(repo) as r:
            cwd = r.working_tree_dir
            base = [_resolve(cwd, "HEAD")] if staged else []
            # Exactly the files the restore will change, found before they are changed.
            changed = _lines(_git(cwd, "diff", "--name-only", "-z", *base, "--", *paths))
            if not changed:
                if not _git(cwd, "ls-files", "--", *paths):
                    raise ToolError(f"No tracked file matches {', '.join(paths)} in {cwd} (paths are "
                                    "relative to the repository root; untracked files are never restored).")
                hint = "" if staged or not _git(cwd, "diff", "--cached", "--name-only", "--", *paths) else (
                    " Its changes are staged: pass staged=true to discard those too.")
                raise ToolError(f"Nothing to restore: {', '.join(paths)} has no "
                                f"{'uncommitted' if staged else 'unstaged'} changes.{hint}")
            _git(cwd, "restore", *(["--staged", "--worktree"] if staged else []), "--", *paths)
            shown, more = cap(changed, LIST_LIMIT)
            return Files(repo=cwd, branch=_head(r)[0], files=shown, more=more,
                         note=f"Discarded the changes to {len(changed)} file(s).")

    @server.tool(annotations=DESTRUCTIVE)
    def git_reset_hard(
        repo: RepoArg = None,
        ref: Annotated[str, _arg("Branch, tag or commit to move the current branch to (default HEAD: only "
                                 "discard uncommitted changes).")] = "HEAD",
    ) -> Reset:
        """Discard all uncommitted changes to tracked files and move the branch to ref (git reset --hard)."""
        with _open(repo) as r:
            cwd = r.working_tree_dir
            old, new = _head(r)[1], _resolve(cwd, ref)
            s = _status(cwd)
            discarded = sorted({c.path for c in s["staged"] + s["unstaged"]} | set(s["conflicted"]))
            dropped = int(_git(cwd, "rev-list", "--count", f"{new}..{old}")) if old else 0
            _git(cwd, "reset", "-q", "--hard", new)
            note = f"Now at {new[:7]}; discarded changes to {len(discarded)} file(s)."
            if dropped:
                note += (f" {dropped} commit(s) are no longer on the branch; git_reset_hard ref={old} brings "
                         "them back (for a while).")
            shown, more = cap(discarded, LIST_LIMIT)
            return Reset(repo=cwd, branch=_head(r)[0], old_sha=old, new_sha=new, commits_dropped=dropped,
                         files=shown, more=more, note=note)

    @server.tool(annotations=NETWORK_DESTRUCTIVE)
    def git_pull(
        repo: RepoArg = None,
        remote: Annotated[str | None, _arg("Remote to pull from (default: the upstream's, else origin).")]
        = None,
        branch: Annotated[str | None, _arg("Remote branch to pull (default: the upstream, else the current "
                                           "branch's name).")] = None,
        merge: Annotated[bool, _arg("If both sides have new commits, make a merge commit (default: refuse "
                                    "unless it is a fast-forward).")] = False,
    ) -> Pulled:
        """Fetch new commits from the remote and update the current branch (this changes working files)."""
        with _open(repo) as r:
            cwd = r.working_tree_dir
            current = _on_branch(r, "pull")
            if branch and branch.startswith("-"):  # it would be read as an option
                raise ToolError(f"'{branch}' is not a branch name.")
            remote, url = _remote(cwd, remote, current)
            tracked = remote == _config(cwd, f"branch.{current}.remote")
            upstream = (_config(cwd, f"branch.{current}.merge") or "").removeprefix("refs/heads/")
            source = branch or (tracked and upstream) or current
            old = _head(r)[1]
            status, out, err = _exec(cwd, ["pull", "--no-rebase" if merge else "--ff-only", "--no-edit", "-q",
                                           remote, source], timeout)
            if conflict := _conflict_error(f"Pulling {remote}/{source}", cwd):
                raise conflict
            if status != 0 and ("fast-forward" in err or "diverg" in err):
                raise ToolError(f"{current} and {remote}/{source} have diverged (both have new commits). "
                                "Pull again with merge=true to merge them.")
            if status != 0 and "couldn't find remote ref" in err:
                raise ToolError(f"The remote {remote} has no branch called '{source}'.")
            if status != 0:
                raise ToolError(_clean(err) or _clean(out))
            new = _head(r)[1]
            commits = int(_git(cwd, "rev-list", "--count", f"{old}..{new}" if old else new)) if new else 0
            files = _lines(_git(cwd, "diff", "--name-only", "-z", old, new)) if old and new else []
            note = f"Pulled {commits} commit(s); {len(files)} file(s) changed." if old != new else (
                "Already up to date.")
            shown, more = cap(files, LIST_LIMIT)
            return Pulled(repo=cwd, branch=current, remote=remote, url=url, old_sha=old, new_sha=new,
                          commits=commits, files=shown, more=more, note=note)

    @server.tool(annotations=NETWORK_DESTRUCTIVE)
    def git_push(
        repo: RepoArg = None,
        remote: Annotated[str | None, _arg("Remote to push to (default: the upstream's, else origin).")]
        = None,
        branch: Annotated[str | None, _arg("Local branch to push (default: the current one).")] = None,
        force: Annotated[bool, _arg("Overwrite the remote branch even if it has commits you don't have "
                                    "(--force-with-lease). Destroys those commits.")] = False,
    ) -> Pushed:
        """Upload the branch's commits to the remote; the first push of a branch sets its upstream."""
        with _open(repo) as r:
            cwd = r.working_tree_dir
            if branch is None:
                branch = _on_branch(r, "push")
            elif branch not in (local := _names(cwd, "refs/heads")):
                raise _unknown("branch", branch, cwd, local)
            remote, url = _remote(cwd, remote, branch)
            merge_ref = _config(cwd, f"branch.{branch}.merge")
            tracked = merge_ref is not None and _config(cwd, f"branch.{branch}.remote") == remote
            target = merge_ref.removeprefix("refs/heads/") if merge_ref and tracked else branch
            # Set the upstream only for a branch that has none: never re-point an existing one.
            set_upstream = merge_ref is None
            status, out, err = _exec(cwd, ["push", "--porcelain", *(["--force-with-lease"] if force else []),
                                           *(["--set-upstream"] if set_upstream else []), remote,
                                           f"refs/heads/{branch}:refs/heads/{target}"], timeout)
            # --porcelain prints one "<flag>\t<from>:<to>\t<summary>" line per ref.
            flag = next((ln[0] for ln in out.splitlines() if "\t" in ln and ln[:1] in " +-*=!"), None)
            if status != 0 and ("fetch first" in out or "non-fast-forward" in out):
                raise ToolError(f"The remote's {target} has commits that {branch} does not (someone pushed "
                                "since you last pulled). git_pull first, or push with force=true to "
                                "overwrite them (which destroys those commits on the remote).")
            if status != 0 or flag in (None, "!"):
                raise ToolError(_clean(err) or _clean(out) or f"Pushing {branch} to {remote} failed.")
            sha = _git(cwd, "rev-parse", f"refs/heads/{branch}").strip()
            note = f"Pushed {branch} to {remote}/{target} ({sha[:7]})."
            if flag == "+":
                note = f"Pushed {branch} to {remote}/{target} ({sha[:7]}), overwriting what was there."
            elif flag == "=":
                note = f"{remote}/{target} was already up to date."
            return Pushed(repo=cwd, branch=branch, remote=remote, url=url, remote_branch=target, sha=sha,
                          forced=flag == "+", up_to_date=flag == "=", set_upstream=set_upstream, note=note)

    @server.tool(annotations=WEB_ACTION)
    def git_clone(
        url: Annotated[str, _arg("Repository URL or path, e.g. https://github.com/user/project.git")],
        directory: Annotated[str | None, _arg("New folder to clone into; must not exist yet (default: the "
                                              "project's name in the current folder).")] = None,
        branch: Annotated[str | None, _arg("Branch to check out (default: the remote's default).")] = None,
        depth: Annotated[int | None, _arg("Only fetch this many recent commits.", ge=1)] = None,
    ) -> NewRepo:
        """Download a repository into a new folder."""
        name = url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1].removesuffix(".git")
        if url.startswith("-"):
            raise ToolError(f"'{url}' is not a repository URL or path.")
        if not (directory or name):
            raise ToolError(f"Cannot tell a folder name from '{url}'; pass directory.")
        target = Path(os.path.abspath(Path(directory).expanduser() if directory else Path.cwd() / name))
        if target.exists():
            raise ToolError(f"{target} already exists; clone only into a new folder (pass another "
                            "directory).")
        try:
            _git(os.getcwd(), "clone", "-q", *(["--branch", branch] if branch else []),
                 *(["--depth", str(depth)] if depth else []), "--", url, str(target), timeout=timeout)
        except ToolError:
            # A clone killed by the timeout leaves a half-made folder; it did not exist before, so remove it.
            shutil.rmtree(target, ignore_errors=True)
            raise
        with _open(str(target)) as r:
            current, sha = _head(r)
        note = f"Cloned into {target}." + ("" if sha else " The remote is empty (no commits yet).")
        return NewRepo(repo=str(target), branch=current, sha=sha, url=url, note=note)

    @server.tool(annotations=ADDITIVE)
    def git_init(
        repo: Annotated[str | None, _arg("Folder to make a repository (created if missing; default: the "
                                         "current folder).")] = None,
        initial_branch: Annotated[str | None, _arg("Name of the first branch, e.g. 'main'.")] = None,
    ) -> NewRepo:
        """Make a folder into a new, empty git repository."""
        path = Path(os.path.abspath(Path(repo).expanduser() if repo else Path.cwd()))
        if (path / ".git").exists():
            raise ToolError(f"{path} is already a git repository.")
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ToolError(common.sentence(exc, f"Cannot create {path}")) from exc
        status, outer, _ = _exec(path, ["rev-parse", "--show-toplevel"])
        _git(path, "init", "-q", *(["--initial-branch", initial_branch] if initial_branch else []), str(path))
        note = f"Made an empty repository in {path}."
        if status == 0:
            note += f" It is nested inside the repository {outer.strip()}."
        branch = _git(path, "symbolic-ref", "--short", "HEAD").strip()
        return NewRepo(repo=str(path), branch=branch, sha=None, url=None, note=note)

    return server
