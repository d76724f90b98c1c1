"""New repositories: git_clone and git_init. Their targets obey the filesystem's roots and protected paths,
and a clone from this machine may only read where the filesystem server may read."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Annotated

from llmos.servers import common
from llmos.servers.common import ADDITIVE, WEB_ACTION, ToolError
from llmos.servers.git import policy, runner
from llmos.servers.git.arguments import arg
from llmos.servers.git.models import NewRepo
from llmos.servers.git.remote import config_files, local_path, serving
from llmos.servers.git.repository import GitContext, file_entries, given_path, open_repo
from llmos.servers.tooling import Tool, facts


def _clone_settings(ctx: GitContext, url: str) -> tuple[list[str], tuple[tuple[str, str], ...]]:
    """(extra clone options, the settings to run git with): a source on this machine must be readable by
    llmos, and its own config may not make the upload-pack that serves the clone run anything."""
    settings = policy.STATIC + policy.HOOKS
    source = local_path(url, os.getcwd())
    if source is None:
        return [], settings
    ctx.check(source, write=False)
    entries = file_entries(os.getcwd(), list(config_files(source)))
    settings += tuple(policy.overrides(entries, f"The repository {source}"))
    return [f"--upload-pack={serving(settings, 'upload-pack')}"], settings


def git_clone(
    ctx: GitContext,
    url: Annotated[str, arg("Repository URL or path, e.g. https://github.com/user/project.git")],
    directory: Annotated[str | None, arg("New folder to clone into; must not exist yet (default: the project's "
                                         "name in the current folder).")] = None,
    branch: Annotated[str | None, arg("Branch to check out (default: the remote's default).")] = None,
    depth: Annotated[int | None, arg("Only fetch this many recent commits.", ge=1)] = None,
) -> NewRepo:
    """Download a repository into a new folder."""
    name = url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1].removesuffix(".git")
    if url.startswith("-"):
        raise ToolError(f"'{url}' is not a repository URL or path.")
    if not (directory or name):
        raise ToolError(f"Cannot tell a folder name from '{url}'; pass directory.")
    target = Path(os.path.abspath(Path(directory).expanduser() if directory else Path.cwd() / name))
    ctx.check(target, write=True)
    if target.exists():
        raise ToolError(f"{target} already exists; clone only into a new folder (pass another directory).")
    options, settings = _clone_settings(ctx, url)
    cloned = False
    try:
        status, out, err = runner.run(os.getcwd(), ["clone", "-q", *(["--branch", branch] if branch else []),
                                                    *(["--depth", str(depth)] if depth else []), *options, "--", url,
                                                    str(target)], settings, ctx.network_timeout)
        if status != 0:
            raise runner.failure(["clone"], status, out, err)
        cloned = True
    finally:
        if not cloned:  # a failed or killed clone leaves a half-made folder that did not exist before
            shutil.rmtree(target, ignore_errors=True)
    current, sha = open_repo(ctx, str(target)).head()
    note = f"Cloned into {target}." + ("" if sha else " The remote is empty (no commits yet).")
    return NewRepo(repo=str(target), branch=current, sha=sha, url=url, note=note)


def git_init(
    ctx: GitContext,
    repo: Annotated[str | None, arg("Folder to make a repository (created if missing; default: the current "
                                    "folder).")] = None,
    initial_branch: Annotated[str | None, arg("Name of the first branch, e.g. 'main'.")] = None,
) -> NewRepo:
    """Make a folder into a new, empty git repository."""
    path = given_path(repo)
    ctx.check(path, write=True)
    if (path / ".git").exists():
        raise ToolError(f"{path} is already a git repository.")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ToolError(common.sentence(exc, f"Cannot create {path}")) from exc
    status, outer, _ = runner.run(path, ["rev-parse", "--show-toplevel"], policy.STATIC + policy.HOOKS)
    ctx.run_outside(path, "init", "-q", *(["--initial-branch", initial_branch] if initial_branch else []),
                    str(path))
    note = f"Made an empty repository in {path}."
    if status == 0:
        note += f" It is nested inside the repository {outer.strip()}."
    branch = ctx.run_outside(path, "symbolic-ref", "--short", "HEAD").strip()
    return NewRepo(repo=str(path), branch=branch, sha=None, url=None, note=note)


TOOLS = [
    Tool(git_clone, WEB_ACTION, facts(paths=["directory"], urls=["url"], network=True)),
    Tool(git_init, ADDITIVE, facts(paths=["repo"])),
]
