"""The round trip with another repository: git_pull and git_push. Both send or fetch data over the network
(or into another repository on this machine), so a remote on this machine obeys the filesystem's rules too,
and its own configuration is kept from running programs just like the local one."""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Annotated
from urllib.parse import unquote

from llmos.servers.common import DESTRUCTIVE, ToolError, cap
from llmos.servers.git.arguments import RepoArg, arg
from llmos.servers.git.models import Pulled, Pushed
from llmos.servers.git.repository import LIST_LIMIT, GitContext, Repo, open_repo, unknown
from llmos.servers.git.runner import clean, lines
from llmos.servers.tooling import Tool, facts

# Pull and push talk to another machine: destructive, and open-world too.
NETWORK_DESTRUCTIVE = DESTRUCTIVE.model_copy(update={"open_world_hint": True})
UrlArg = Annotated[str | None, arg("The remote's URL, as you expect it to be. When given, the call is refused "
                                   "if the remote actually points elsewhere.")]


def local_path(url: str, base: str) -> Path | None:
    """The folder a URL names on this machine, or None for another machine (https://, ssh, host:path)."""
    if url.startswith("file://"):
        return Path(unquote(url.removeprefix("file://")))
    if "://" in url or "::" in url or ":" in url.split("/", 1)[0]:
        return None
    return Path(base, os.path.expanduser(url))


def config_files(path: Path) -> tuple[Path, ...]:
    """The config file of the repository at ``path`` (bare or not), if there is one."""
    for candidate in (path / "config", path / ".git" / "config"):
        if candidate.is_file():
            return (candidate,)
    return ()


def resolve_remote(ctx: GitContext, r: Repo, remote: str | None, branch: str, url: str | None,
                   *, push: bool) -> tuple[Repo, str, str, list[str]]:
    """(the repository ready to talk to it, the remote's name, its real URL, options for the fetch or push)
    for the remote to use: the one given, else the branch's upstream remote, else origin."""
    remote = remote or r.config(f"branch.{branch}.remote") or "origin"
    remotes = r.git("remote").split()
    if remote not in remotes:
        raise ToolError(f"{r.cwd} has no remote called '{remote}' (remotes: {', '.join(remotes) or 'none'}).")
    # get-url applies url.*.insteadOf rewriting: this is where the data really goes.
    real = r.git("remote", "get-url", *(["--push"] if push else []), remote).strip()
    if url is not None and url != real:
        raise ToolError(f"The remote {remote} points to {real}, not {url}; nothing was sent or fetched.")
    where = local_path(real, r.cwd)
    if where is None:
        return r, remote, real, []
    ctx.check(where, write=push)
    r = r.including(ctx, config_files(where))
    # The command line beats remote.<name>.uploadpack/receivepack (where the first value given wins, so
    # config cannot override a repository's own).
    option = f"--receive-pack={serving(r.settings, 'receive-pack')}" if push else (
        f"--upload-pack={serving(r.settings, 'upload-pack')}")
    return r, remote, real, [option]


def serving(settings: tuple[tuple[str, str], ...], program: str) -> str:
    """The command that serves a fetch or push from a repository on this machine. git strips command-scope
    config from that command's environment (the other repository is "someone else's"), which would let its
    hooks run; so the overrides travel on its own command line instead."""
    options = []
    for key, value in settings:
        if "=" in key:
            raise ToolError(f"A repository setting is named {key!r}; llmos cannot pass it on safely.")
        options += ["-c", f"{key}={value}"]
    return shlex.join(["git", *options, program])


def _pull_error(status: int, out: str, err: str, current: str, remote: str, source: str) -> ToolError | None:
    if status == 0:
        return None
    if "fast-forward" in err or "diverg" in err:
        return ToolError(f"{current} and {remote}/{source} have diverged (both have new commits). Pull again "
                         "with merge=true to merge them.")
    if "couldn't find remote ref" in err:
        return ToolError(f"The remote {remote} has no branch called '{source}'.")
    return ToolError(clean(err) or clean(out))


def git_pull(
    ctx: GitContext,
    repo: RepoArg = None,
    remote: Annotated[str | None, arg("Remote to pull from (default: the upstream's, else origin).")] = None,
    branch: Annotated[str | None, arg("Remote branch to pull (default: the upstream, else the current "
                                      "branch's name).")] = None,
    merge: Annotated[bool, arg("If both sides have new commits, make a merge commit (default: refuse unless "
                               "it is a fast-forward).")] = False,
    url: UrlArg = None,
) -> Pulled:
    """Fetch new commits from the remote and update the current branch (this changes working files)."""
    r = open_repo(ctx, repo, write=True)
    current = r.on_branch("pull")
    if branch and branch.startswith("-"):  # it would be read as an option
        raise ToolError(f"'{branch}' is not a branch name.")
    r, remote, real, options = resolve_remote(ctx, r, remote, current, url, push=False)
    tracked = remote == r.config(f"branch.{current}.remote")
    upstream = (r.config(f"branch.{current}.merge") or "").removeprefix("refs/heads/")
    source = branch or (tracked and upstream) or current
    old = r.head()[1]
    status, out, err = r.run("pull", "--no-rebase" if merge else "--ff-only", "--no-edit", "-q", *options, remote,
                             source, timeout=ctx.network_timeout)
    if conflict := r.conflict_error(f"Pulling {remote}/{source}"):
        raise conflict
    if problem := _pull_error(status, out, err, current, remote, source):
        raise problem
    new = r.head()[1]
    commits = int(r.git("rev-list", "--count", f"{old}..{new}" if old else new)) if new else 0
    files = lines(r.git("diff", "--name-only", "-z", old, new)) if old and new else []
    note = f"Pulled {commits} commit(s); {len(files)} file(s) changed." if old != new else "Already up to date."
    shown, more = cap(files, LIST_LIMIT)
    return Pulled(repo=r.cwd, branch=current, remote=remote, url=real, old_sha=old, new_sha=new, commits=commits,
                  files=shown, more=more, note=note)


def _push_note(flag: str | None, branch: str, remote: str, target: str, sha: str) -> str:
    if flag == "+":
        return f"Pushed {branch} to {remote}/{target} ({sha[:7]}), overwriting what was there."
    if flag == "=":
        return f"{remote}/{target} was already up to date."
    return f"Pushed {branch} to {remote}/{target} ({sha[:7]})."


def git_push(
    ctx: GitContext,
    repo: RepoArg = None,
    remote: Annotated[str | None, arg("Remote to push to (default: the upstream's, else origin).")] = None,
    branch: Annotated[str | None, arg("Local branch to push (default: the current one).")] = None,
    force: Annotated[bool, arg("Overwrite the remote branch even if it has commits you don't have "
                               "(--force-with-lease). Destroys those commits.")] = False,
    url: UrlArg = None,
) -> Pushed:
    """Upload the branch's commits to the remote; the first push of a branch sets its upstream."""
    r = open_repo(ctx, repo, write=True)
    if branch is None:
        branch = r.on_branch("push")
    elif branch not in (local := r.names("refs/heads")):
        raise unknown("branch", branch, r.cwd, local)
    r, remote, real, options = resolve_remote(ctx, r, remote, branch, url, push=True)
    merge_ref = r.config(f"branch.{branch}.merge")
    tracked = merge_ref is not None and r.config(f"branch.{branch}.remote") == remote
    target = merge_ref.removeprefix("refs/heads/") if merge_ref and tracked else branch
    # Set the upstream only for a branch that has none: never re-point an existing one.
    set_upstream = merge_ref is None
    status, out, err = r.run("push", "--porcelain", *options, *(["--force-with-lease"] if force else []),
                             *(["--set-upstream"] if set_upstream else []), remote,
                             f"refs/heads/{branch}:refs/heads/{target}", timeout=ctx.network_timeout)
    # --porcelain prints one "<flag>\t<from>:<to>\t<summary>" line per ref.
    flag = next((ln[0] for ln in out.splitlines() if "\t" in ln and ln[:1] in " +-*=!"), None)
    if status != 0 and ("fetch first" in out or "non-fast-forward" in out):
        raise ToolError(f"The remote's {target} has commits that {branch} does not (someone pushed since you "
                        "last pulled). git_pull first, or push with force=true to overwrite them (which "
                        "destroys those commits on the remote).")
    if status != 0 or flag in (None, "!"):
        raise ToolError(clean(err) or clean(out) or f"Pushing {branch} to {remote} failed.")
    sha = r.git("rev-parse", f"refs/heads/{branch}").strip()
    return Pushed(repo=r.cwd, branch=branch, remote=remote, url=real, remote_branch=target, sha=sha,
                  forced=flag == "+", up_to_date=flag == "=", set_upstream=set_upstream,
                  note=_push_note(flag, branch, remote, target, sha))


TOOLS = [
    Tool(git_pull, NETWORK_DESTRUCTIVE, facts(paths=["repo"], urls=["url"], network=True)),
    Tool(git_push, NETWORK_DESTRUCTIVE, facts(paths=["repo"], urls=["url"], network=True)),
]
