"""Finding the repository a call is about, inside the folders llmos may use, and asking git about it."""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from llmos.servers.common import ToolError, cap
from llmos.servers.git import policy, runner
from llmos.servers.sandbox import Sandbox

LIST_LIMIT = 200


@dataclass(frozen=True)
class GitContext:
    """The server's settings (servers.git), and the filesystem server's roots and protected paths."""
    sandbox: Sandbox
    network_timeout: float
    max_diff_bytes: int
    trusted: tuple[Path, ...]  # servers.git.allow_hooks: repositories whose hooks and settings may run

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> GitContext:
        from llmos.errors import ConfigError

        trusted = settings.get("allow_hooks") or []
        if not isinstance(trusted, list) or not all(isinstance(p, str) for p in trusted):
            raise ConfigError("servers.git.allow_hooks: expected a list of repository paths")
        return cls(sandbox=Sandbox.from_settings(_filesystem_settings(settings)),
                   network_timeout=float(settings.get("network_timeout", 120)),
                   max_diff_bytes=int(settings.get("max_diff_bytes", 20_000)),
                   trusted=tuple(Path(os.path.realpath(os.path.expanduser(p))) for p in trusted))

    def check(self, path: str | Path, *, write: bool) -> Path:
        """``path`` resolved, if the filesystem server would let llmos use it (write: change it)."""
        return self.sandbox.resolve(str(path), write=write)

    def run_outside(self, cwd: str | Path, *args: str, timeout: float | None = None) -> str:
        """git in a folder that is not (yet) a repository llmos has vetted: clone, init."""
        status, out, err = runner.run(cwd, args, policy.STATIC + policy.HOOKS, timeout)
        if status != 0:
            raise runner.failure(args, status, out, err)
        return out


def _filesystem_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """servers.filesystem, as passed by whoever builds the server, else as the config files say."""
    if isinstance(settings.get("filesystem"), dict):
        return dict(settings["filesystem"])
    from llmos.config import load_config

    return dict((load_config().get("servers") or {}).get("filesystem") or {})


@dataclass(frozen=True)
class Repo:
    """A repository with a working tree, and the settings that keep its configuration from running
    programs. ``cwd`` is the working tree's root: what every tool reports as ``repo``."""
    cwd: str
    git_dir: str
    common_dir: str
    settings: tuple[tuple[str, str], ...]

    def including(self, ctx: GitContext, config_files: tuple[Path, ...]) -> Repo:
        """This repository, with overrides for the program-naming keys of other repositories' config files
        too (git run here will start git in those: the receive-pack of a local remote)."""
        return replace(self, settings=settings_for(ctx, self.cwd, self.common_dir, also=config_files))

    def adding(self, *settings: tuple[str, str]) -> Repo:
        return replace(self, settings=self.settings + settings)

    def run(self, *args: str, timeout: float | None = None) -> tuple[int, str, str]:
        return runner.run(self.cwd, args, self.settings, timeout)

    def git(self, *args: str, timeout: float | None = None) -> str:
        status, out, err = self.run(*args, timeout=timeout)
        if status != 0:
            raise runner.failure(args, status, out, err)
        return out

    def head(self) -> tuple[str | None, str | None]:
        """(current branch, or None when detached; HEAD's sha, or None before the first commit)."""
        status, out, _ = self.run("symbolic-ref", "-q", "--short", "HEAD")
        branch = out.strip() if status == 0 else None
        status, out, _ = self.run("rev-parse", "-q", "--verify", "HEAD^{commit}")
        return branch, (out.strip() if status == 0 else None)

    def branch(self) -> str | None:
        return self.head()[0]

    def names(self, *kinds: str) -> list[str]:
        out = self.git("for-each-ref", "--format=%(refname:short)",
                       *(kinds or ("refs/heads", "refs/remotes", "refs/tags")))
        return [n for n in out.splitlines() if n and not n.endswith("/HEAD")]

    def resolve(self, ref: str) -> str:
        """The commit sha ``ref`` names, or a ToolError suggesting near names."""
        status, out, _ = self.run("rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
        if status == 0 and not ref.startswith("-"):
            return out.strip()
        if ref == "HEAD":
            raise ToolError(f"{self.cwd} has no commits yet.")
        raise unknown("branch, tag or commit", ref, self.cwd, self.names())

    def config(self, key: str) -> str | None:
        status, out, _ = self.run("config", "--get", key)
        return out.strip() if status == 0 else None

    def in_progress(self) -> str | None:
        for marker, name in (("MERGE_HEAD", "merge"), ("rebase-merge", "rebase"), ("rebase-apply", "rebase"),
                             ("CHERRY_PICK_HEAD", "cherry-pick"), ("REVERT_HEAD", "revert"),
                             ("BISECT_LOG", "bisect")):
            if (Path(self.git_dir) / marker).exists():
                return name
        return None

    def on_branch(self, what: str) -> str:
        branch, sha = self.head()
        if branch is None:
            raise ToolError(f"Cannot {what}: HEAD is detached at {sha[:7] if sha else '?'} (not on any "
                            "branch). Use git_switch to get onto a branch, or git_create_branch to make one "
                            "here.")
        return branch

    def conflict_error(self, what: str) -> ToolError | None:
        files = runner.lines(self.git("diff", "--name-only", "--diff-filter=U", "-z"))
        if not files:
            return None
        shown, more = cap(files, 20)
        return ToolError(f"{what} stopped with merge conflicts in: {', '.join(shown)}"
                         f"{f' and {more} more' if more else ''}. Edit those files to resolve the conflicts, "
                         "git_add them, then git_commit (or git_reset_hard to abandon).")


def unknown(what: str, name: str, repo: str, names: list[str]) -> ToolError:
    near = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    hint = f" Did you mean {' or '.join(near)}?" if near else ""
    if names and not near:
        hint = f" Known: {', '.join(names[:10])}."
    return ToolError(f"There is no {what} called '{name}' in {repo}.{hint}")


def given_path(raw: str | None) -> Path:
    return Path(os.path.abspath(Path(raw).expanduser() if raw else Path.cwd()))


def open_repo(ctx: GitContext, raw: str | None, *, write: bool = False) -> Repo:
    """The repository at or above ``raw`` (default: the current folder). Its working tree must be where
    llmos may look (and, for a tool that changes it, write)."""
    path = given_path(raw)
    ctx.check(path, write=False)  # first: it also refuses control characters
    if not path.exists():
        raise ToolError(f"{path} does not exist.")
    start = path.parent if path.is_file() else path
    status, out, _ = runner.run(start, ["rev-parse", "--is-bare-repository", "--absolute-git-dir",
                                        "--git-common-dir"], policy.STATIC + policy.HOOKS)
    if status != 0:
        raise ToolError(f"{path} is not a git repository (nor is any folder above it). Pass the "
                        "repository's path as repo, or use git_init to make one.")
    bare, git_dir, common_dir = out.splitlines()[:3]
    status, top, _ = runner.run(start, ["rev-parse", "--show-toplevel"], policy.STATIC + policy.HOOKS)
    if bare == "true" or status != 0 or not top.strip():
        raise ToolError(f"{path} is a bare repository (it has no working files to work on).")
    cwd = top.strip()
    for where in (cwd, git_dir):  # core.worktree or a .git file may point anywhere
        ctx.check(where, write=write)
    common = os.path.normpath(os.path.join(start, common_dir))  # relative to where rev-parse ran
    return Repo(cwd=cwd, git_dir=git_dir, common_dir=common, settings=settings_for(ctx, cwd, common))


def settings_for(ctx: GitContext, cwd: str, common_dir: str, also: tuple[Path, ...] = ()) -> tuple[
        tuple[str, str], ...]:
    """The config overrides for git run in ``cwd``: the static ones, plus one for every key the repository's
    own files (and its submodules', and the config files in ``also``: other repositories git will run in,
    such as a local remote) set that could run a program."""
    if Path(os.path.realpath(cwd)) in ctx.trusted:
        return policy.STATIC
    status, out, err = runner.run(cwd, ["config", "--list", "--show-scope", "--show-origin", "-z"],
                                  policy.STATIC + policy.HOOKS)
    where = f"The repository {cwd}"
    if status != 0:  # settings that cannot be read cannot be checked: fail closed
        raise ToolError(f"{where} has settings git cannot read: {runner.clean(err) or 'unknown error'}")
    entries = policy.parse_listing(out)
    included = [Path(f) for f in policy.included_files(entries, cwd, str(Path.home())) if os.path.isfile(f)]
    entries += file_entries(cwd, [*sorted(Path(common_dir).glob("modules/**/config")), *also, *included])
    return policy.STATIC + policy.HOOKS + tuple(policy.overrides(entries, where))


MAX_INCLUDE_DEPTH = 10  # git's own limit


def file_entries(cwd: str | Path, files: list[Path], depth: int = 0) -> list[policy.Entry]:
    """The settings in config files (other repositories', included ones) and in every file they include,
    conditionally or not."""
    entries = []
    for file in files:
        status, out, err = runner.run(cwd, ["config", "--no-includes", "--file", str(file), "--list",
                                            "--show-origin", "-z"], policy.STATIC)
        if status != 0:  # fail closed, as for the repository's own settings
            raise ToolError(f"{file} holds settings git cannot read: {runner.clean(err) or 'unknown error'}")
        entries += policy.parse_listing(out, scope="file")
    nested = [Path(f) for f in policy.included_files(entries, str(cwd), str(Path.home())) if os.path.isfile(f)]
    if nested and depth >= MAX_INCLUDE_DEPTH:
        raise ToolError(f"{files[0]} includes config files more than {MAX_INCLUDE_DEPTH} deep (or in a circle); "
                        "llmos cannot check them all, so it does not run git there.")
    return entries + (file_entries(cwd, nested, depth + 1) if nested else [])
