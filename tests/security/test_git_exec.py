"""Attacks on the git server: repositories whose own configuration, hooks, attributes or remotes try to make
git run a program. Every program here touches a marker file; each attack is first shown to work with plain
git (so the test proves something), then tried through llmos's git tools, and afterwards no marker may
exist. Targets outside the filesystem roots or in protected and credential folders are refused, and left
untouched."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.mcp_helpers import call, call_error, memory_client

Client = Any
Attack = Callable[[Client], Awaitable[None]]


class Lab:
    """A folder of repositories, and a folder where any program that ran has left a marker."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.markers = root / "markers"
        self.markers.mkdir()
        self.bin = root / "bin"
        self.bin.mkdir()

    def program(self, name: str, body: str = "cat") -> str:
        """An executable that leaves the marker ``name`` and then does ``body`` (cat: pass data through)."""
        path = self.bin / name
        path.write_text(f"#!/bin/sh\ntouch '{self.markers / name}'\n{body}\n")
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
        return str(path)

    def fired(self) -> list[str]:
        return sorted(p.name for p in self.markers.iterdir())

    def clear(self) -> None:
        for p in self.markers.iterdir():
            p.unlink()

    def repo(self, name: str = "proj", files: dict[str, str] | None = None) -> Path:
        path = self.root / name
        git(self.root, "init", "-q", "-b", "main", str(path))
        for key, value in (("user.name", "Ada"), ("user.email", "ada@example.com"), ("commit.gpgsign", "false")):
            git(path, "config", key, value)
        for rel, text in (files or {"a.txt": "one\n"}).items():
            (path / rel).parent.mkdir(parents=True, exist_ok=True)
            (path / rel).write_text(text)
        git(path, "add", ".")
        git(path, "commit", "-qm", "first")
        return path

    def bare_remote(self, repo: Path, name: str = "remote.git") -> Path:
        remote = self.root / name
        git(self.root, "init", "-q", "--bare", "-b", "main", str(remote))
        git(repo, "remote", "add", "origin", str(remote))
        git(repo, "push", "-q", "-u", "origin", "main")
        return remote


def git(cwd: Path, *args: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """Plain git, as a person would run it: the repository's configuration fully in force."""
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=check, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def hook(repo_git_dir: Path, name: str, program: str) -> None:
    hooks = repo_git_dir / "hooks"
    hooks.mkdir(parents=True, exist_ok=True)
    (hooks / name).write_text(f"#!/bin/sh\nexec '{program}' </dev/null\n")
    (hooks / name).chmod(0o755)


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return Lab(tmp_path)


def settings(lab: Lab, **extra: Any) -> dict[str, Any]:
    return {"filesystem": {"roots": [str(lab.root)]}, "network_timeout": 10, **extra}


def proven(lab: Lab, *command: str, cwd: Path, expect: str, check: bool = False) -> None:
    """The attack works against plain git: ``command`` leaves the marker ``expect``."""
    git(cwd, *command, check=check)
    assert expect in lab.fired(), f"plain `git {' '.join(command)}` did not run {expect}: the attack is not real"
    lab.clear()


def attempt(lab: Lab, attacks: list[Attack], *, config: dict[str, Any] | None = None) -> None:
    """Run every attack through llmos's git tools (a tool may succeed or refuse); nothing may have run."""

    async def scenario() -> None:
        async with memory_client("git", config or settings(lab)) as client:
            for attack in attacks:
                await attack(client)
                assert lab.fired() == [], f"{attack.__name__}: ran {lab.fired()}"

    asyncio.run(scenario())


def tool(tool_name: str, /, **arguments: Any) -> Attack:
    """An attack that is one tool call; whether it succeeds or is refused does not matter here."""

    async def attack(client: Client) -> None:
        result = await client.call_tool(tool_name, arguments)
        assert not result.is_error or "Traceback" not in result.content[0].text

    attack.__name__ = f"{tool_name}({', '.join(f'{k}={v}' for k, v in arguments.items())})"
    return attack


def touch_all(repo: Path) -> None:
    """Make every tracked file look changed, so status and add have to read (and filter) it."""
    for path in repo.rglob("*"):
        if path.is_file() and ".git" not in path.parts and not path.name.startswith("."):
            path.write_text(path.read_text() + "more\n")


# ---- core.fsmonitor: run by every command that looks at the working tree ----

@pytest.mark.parametrize("variant", ["config", "include", "worktree_config", "mixed_case"])
def test_fsmonitor_never_runs(lab: Lab, variant: str) -> None:
    repo = lab.repo()
    program = lab.program("fsmonitor", "exit 0")
    if variant == "config":
        git(repo, "config", "core.fsmonitor", program)
    elif variant == "include":
        (repo / ".git" / "evil.inc").write_text(f"[core]\n\tfsmonitor = {program}\n")
        git(repo, "config", "include.path", "evil.inc")
    elif variant == "worktree_config":
        git(repo, "config", "extensions.worktreeConfig", "true")
        (repo / ".git" / "config.worktree").write_text(f"[core]\n\tfsmonitor = {program}\n")
    else:
        with (repo / ".git" / "config").open("a") as f:
            f.write(f"[CoRe]\n\tFsMonitor = {program}\n")
    proven(lab, "status", cwd=repo, expect="fsmonitor")
    at = str(repo)
    touch_all(repo)
    attempt(lab, [tool("git_status", repo=at), tool("git_diff", repo=at), tool("git_add", repo=at, paths=["."]),
                  tool("git_commit", repo=at, message="x"), tool("git_log", repo=at),
                  tool("git_stash_list", repo=at), tool("git_branches", repo=at)])
    assert git(repo, "log", "-1", "--format=%s").stdout.strip() == "x"  # the tools still worked


# ---- hooks: in .git/hooks, in core.hooksPath, and in a local remote ----

LOCAL_HOOKS = ("pre-commit", "prepare-commit-msg", "commit-msg", "post-commit", "post-checkout",
               "reference-transaction", "post-index-change", "pre-push", "post-merge", "post-rewrite",
               "pre-auto-gc", "pre-merge-commit")
REMOTE_HOOKS = ("pre-receive", "update", "post-receive", "post-update", "reference-transaction",
                "push-to-checkout", "proc-receive")


@pytest.mark.parametrize("where", ["git_dir_hooks", "hooks_path", "hooks_path_relative"])
def test_hooks_never_run(lab: Lab, where: str) -> None:
    repo = lab.repo()
    remote = lab.bare_remote(repo)
    folder = {"git_dir_hooks": repo / ".git", "hooks_path": lab.root / "evilhooks",
              "hooks_path_relative": repo / "tools"}[where]
    for name in LOCAL_HOOKS:
        hook(folder, name, lab.program(name, "exit 0"))
    if where == "hooks_path":
        git(repo, "config", "core.hooksPath", str(folder / "hooks"))
    elif where == "hooks_path_relative":
        git(repo, "config", "core.hooksPath", "tools/hooks")
    for name in REMOTE_HOOKS:
        hook(remote, name, lab.program(f"remote-{name}", "exit 0"))
    (repo / "b.txt").write_text("b\n")
    git(repo, "add", "b.txt")
    proven(lab, "commit", "-qm", "proof", cwd=repo, expect="pre-commit")
    proven(lab, "push", "-q", cwd=repo, expect="remote-post-receive")
    at = str(repo)

    async def edit(client: Client) -> None:
        with (repo / "a.txt").open("a") as f:
            f.write("changed\n")

    attempt(lab, [edit, tool("git_commit", repo=at, message="hooked", all=True),
                  tool("git_create_branch", repo=at, name="side", switch=True),
                  tool("git_switch", repo=at, branch="main"),
                  tool("git_delete_branch", repo=at, name="side"), edit, tool("git_stash_push", repo=at),
                  tool("git_stash_pop", repo=at), tool("git_reset_hard", repo=at), tool("git_push", repo=at),
                  tool("git_pull", repo=at)])
    assert git(remote, "log", "-1", "--format=%s", "main").stdout.strip() == "hooked"  # pushed, no hook ran


def test_hooks_run_where_the_person_allows_them(lab: Lab) -> None:
    """The control: servers.git.allow_hooks lists the repository, so its pre-commit hook does run."""
    repo = lab.repo()
    hook(repo / ".git", "pre-commit", lab.program("pre-commit", "exit 0"))
    (repo / "a.txt").write_text("changed\n")

    async def scenario() -> None:
        async with memory_client("git", settings(lab, allow_hooks=[str(repo)])) as client:
            await call(client, "git_commit", repo=str(repo), message="allowed", all=True)

    asyncio.run(scenario())
    assert lab.fired() == ["pre-commit"]


# ---- filter drivers: clean on add/status, smudge on checkout, long-running process filters ----

@pytest.mark.parametrize("variant", ["clean_smudge", "process", "odd_name", "info_attributes", "required"])
def test_filters_never_run(lab: Lab, variant: str) -> None:
    driver = "a=b" if variant == "odd_name" else "evil"
    repo = lab.repo(files={"a.txt": "one\n", "doc/b.md": "two\n"})
    attributes = f"* filter={driver}\n"
    if variant == "info_attributes":
        (repo / ".git" / "info").mkdir(exist_ok=True)
        (repo / ".git" / "info" / "attributes").write_text(attributes)
        git(repo, "commit", "-qm", "second", "--allow-empty")
    else:
        (repo / ".gitattributes").write_text(attributes)
        git(repo, "add", ".gitattributes")
        git(repo, "commit", "-qm", "attributes")
    if variant == "process":
        git(repo, "config", f"filter.{driver}.process", lab.program("process", "exit 1"))
    else:
        git(repo, "config", f"filter.{driver}.clean", lab.program("clean"))
        git(repo, "config", f"filter.{driver}.smudge", lab.program("smudge"))
    if variant == "required":
        git(repo, "config", f"filter.{driver}.required", "true")
    touch_all(repo)
    proven(lab, "add", "a.txt", cwd=repo, expect="process" if variant == "process" else "clean")
    git(repo, "reset", "-q", check=False)  # plain git: filters again
    lab.clear()
    at = str(repo)
    attempt(lab, [tool("git_status", repo=at), tool("git_diff", repo=at), tool("git_add", repo=at, paths=["."]),
                  tool("git_stash_push", repo=at), tool("git_stash_pop", repo=at),
                  tool("git_restore", repo=at, paths=["a.txt"], staged=True),
                  tool("git_create_branch", repo=at, name="other", start="HEAD~1", switch=True),
                  tool("git_switch", repo=at, branch="main"), tool("git_reset_hard", repo=at)])


# ---- diff programs: diff.external, diff drivers' command and textconv ----

@pytest.mark.parametrize("variant", ["external", "driver_command", "textconv"])
def test_diff_programs_never_run(lab: Lab, variant: str) -> None:
    repo = lab.repo(files={"a.txt": "one\n", ".gitattributes": "*.txt diff=evil\n"})
    name = {"external": "diff.external", "driver_command": "diff.evil.command",
            "textconv": "diff.evil.textconv"}[variant]
    git(repo, "config", name, lab.program(variant, "exit 0"))
    (repo / "a.txt").write_text("two\n")
    proven(lab, "diff", cwd=repo, expect=variant)
    at = str(repo)
    attempt(lab, [tool("git_diff", repo=at), tool("git_diff", repo=at, ref="HEAD"),
                  tool("git_add", repo=at, paths=["a.txt"]), tool("git_diff", repo=at, staged=True),
                  tool("git_commit", repo=at, message="second"), tool("git_show", repo=at),
                  tool("git_log", repo=at, path="a.txt"), tool("git_status", repo=at)])


# ---- merge drivers: run by pull with merge=true and by stash pop ----

@pytest.mark.parametrize("variant", ["pull_merge", "stash_pop"])
def test_merge_drivers_never_run(lab: Lab, variant: str) -> None:
    repo = lab.repo(files={"a.txt": "one\n2\n3\n4\nfive\n", ".gitattributes": "*.txt merge=evil\n"})
    lab.bare_remote(repo)
    git(repo, "config", "merge.evil.driver", lab.program("merge", "exit 0"))
    other = lab.root / "other"
    git(lab.root, "clone", "-q", str(lab.root / "remote.git"), str(other))
    for key, value in (("user.name", "Bo"), ("user.email", "bo@example.com")):
        git(other, "config", key, value)
    (other / "a.txt").write_text("ONE\n2\n3\n4\nfive\n")
    git(other, "commit", "-qam", "theirs")
    git(other, "push", "-q")
    (repo / "a.txt").write_text("one\n2\n3\n4\nFIVE\n")
    git(repo, "commit", "-qam", "ours")
    proven(lab, "pull", "-q", "--no-rebase", "--no-edit", cwd=repo, expect="merge")
    git(repo, "reset", "-q", "--hard", "HEAD@{1}")
    at = str(repo)
    if variant == "pull_merge":
        attempt(lab, [tool("git_pull", repo=at, merge=True)])
        # git's own merge stood in for the driver: both sides' edits are there.
        assert (repo / "a.txt").read_text() == "ONE\n2\n3\n4\nFIVE\n"
    else:
        git(repo, "reset", "-q", "--hard", "HEAD~1")
        (repo / "a.txt").write_text("one\n2\n3\n4\nFIVE\n")
        git(repo, "stash", "-q")
        git(repo, "pull", "-q", "--ff-only")
        lab.clear()
        attempt(lab, [tool("git_stash_pop", repo=at)])
        assert (repo / "a.txt").read_text() == "ONE\n2\n3\n4\nFIVE\n"


# ---- pagers, editors, signing programs ----

def signed_commit(repo: Path) -> None:
    """A commit carrying a (made-up) signature, which `log --show-signature` hands to gpg.program."""
    head = git(repo, "cat-file", "commit", "HEAD").stdout
    header, _, message = head.partition("\n\n")
    signature = "gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEE\n -----END PGP SIGNATURE-----"
    text = f"{header}\n{signature}\n\nsigned {message}"
    sha = subprocess.run(["git", "hash-object", "-t", "commit", "-w", "--stdin"], cwd=repo, input=text,
                         capture_output=True, text=True, check=True).stdout.strip()
    git(repo, "update-ref", "HEAD", sha)


@pytest.mark.parametrize("variant", ["pager", "pager_per_command", "editor", "sequence_editor", "gpg_program",
                                     "gpg_ssh_program", "show_signature"])
def test_pagers_editors_and_signing_programs_never_run(lab: Lab, variant: str) -> None:
    repo = lab.repo()
    program = lab.program(variant, "exit 1")
    settings_for_variant = {
        "pager": [("core.pager", program)],
        "pager_per_command": [("pager.log", program), ("pager.diff", program), ("pager.show", program)],
        "editor": [("core.editor", program)],
        "sequence_editor": [("sequence.editor", program)],
        "gpg_program": [("commit.gpgsign", "true"), ("gpg.program", program)],
        "gpg_ssh_program": [("commit.gpgsign", "true"), ("gpg.format", "ssh"), ("gpg.ssh.program", program),
                            ("user.signingkey", str(lab.root / "key"))],
        "show_signature": [("log.showSignature", "true"), ("gpg.program", program)],
    }[variant]
    for key, value in settings_for_variant:
        git(repo, "config", key, value)
    if variant.startswith("gpg"):
        proven(lab, "commit", "-q", "--allow-empty", "-m", "signed", cwd=repo, expect=variant)
    if variant == "show_signature":
        signed_commit(repo)
        proven(lab, "log", "-1", cwd=repo, expect=variant)
    (repo / "a.txt").write_text("two\n")
    at = str(repo)
    attempt(lab, [tool("git_diff", repo=at), tool("git_log", repo=at), tool("git_show", repo=at),
                  tool("git_commit", repo=at, message="edit", all=True), tool("git_stash_list", repo=at)])


# ---- transports and remote-side programs ----

def test_ext_and_other_command_transports_never_run(lab: Lab) -> None:
    program = lab.program("ext", "exit 1")
    proven(lab, "-c", "protocol.ext.allow=always", "clone", "-q", f"ext::{program}", str(lab.root / "proof"),
           cwd=lab.root, expect="ext")
    repo = lab.repo()
    at = str(repo)
    git(repo, "remote", "add", "origin", f"ext::{program}")
    git(repo, "config", "protocol.ext.allow", "always")  # the repository tries to allow it for itself
    git(repo, "config", "protocol.allow", "always")
    git(repo, "remote", "add", "rewritten", "https://example.invalid/x.git")
    git(repo, "config", f"url.ext::{program} %G.insteadOf", "https://example.invalid/")
    git(repo, "remote", "add", "fd", "fd::0")
    attempt(lab, [tool("git_clone", url=f"ext::{program}", directory=str(lab.root / "c1")),
                  tool("git_clone", url=f"ext::sh -c touch% {lab.markers / 'ext'}", directory=str(lab.root / "c2")),
                  tool("git_clone", url="fd::0", directory=str(lab.root / "c3")),
                  # CVE-2017-1000117: an ssh "host" that is really an option to ssh.
                  tool("git_clone", url=f"ssh://-oProxyCommand={program}/x", directory=str(lab.root / "c4")),
                  tool("git_clone", url=f"-oProxyCommand={program}:x", directory=str(lab.root / "c5")),
                  tool("git_pull", repo=at), tool("git_push", repo=at), tool("git_pull", repo=at, remote="rewritten"),
                  tool("git_push", repo=at, remote="rewritten"), tool("git_pull", repo=at, remote="fd")])
    for name in ("c1", "c2", "c3", "c4", "c5"):
        assert not (lab.root / name).exists()


@pytest.mark.parametrize("variant", ["uploadpack", "receivepack", "remote_repo_filters"])
def test_local_remote_programs_never_run(lab: Lab, variant: str) -> None:
    repo = lab.repo()
    remote = lab.bare_remote(repo)
    at = str(repo)
    if variant == "uploadpack":
        git(repo, "config", "remote.origin.uploadpack", lab.program("uploadpack", "exec git-upload-pack \"$@\""))
        proven(lab, "fetch", "-q", cwd=repo, expect="uploadpack")
        attempt(lab, [tool("git_pull", repo=at)])
    elif variant == "receivepack":
        git(repo, "config", "remote.origin.receivepack", lab.program("receivepack", "exec git-receive-pack \"$@\""))
        (repo / "a.txt").write_text("two\n")
        git(repo, "commit", "-qam", "two")
        proven(lab, "push", "-q", "--dry-run", cwd=repo, expect="receivepack")
        attempt(lab, [tool("git_push", repo=at)])
        assert git(remote, "log", "-1", "--format=%s", "main").stdout.strip() == "two"
    else:
        # The remote's own config and hooks, for the receive-pack that git starts in it.
        (remote / "objects" / "info" / "alternates").write_text(str(repo / ".git" / "objects") + "\n")
        git(remote, "config", "core.alternateRefsCommand", lab.program("alternates", "exit 0"))
        hook(remote, "pre-receive", lab.program("pre-receive", "exit 0"))
        (repo / "a.txt").write_text("proof\n")
        git(repo, "commit", "-qam", "proof")
        proven(lab, "push", "-q", cwd=repo, expect="pre-receive")
        (repo / "a.txt").write_text("three\n")
        git(repo, "commit", "-qam", "three")
        attempt(lab, [tool("git_push", repo=at)])
        assert git(remote, "log", "-1", "--format=%s", "main").stdout.strip() == "three"


def test_ssh_command_of_the_repository_never_runs(lab: Lab) -> None:
    repo = lab.repo()
    at = str(repo)
    git(repo, "config", "core.sshCommand", lab.program("sshcommand", "exit 1"))
    git(repo, "remote", "add", "origin", "ssh://example.invalid/x.git")
    git(repo, "remote", "add", "scp", "example.invalid:x.git")
    proven(lab, "fetch", "origin", cwd=repo, expect="sshcommand")
    # The real ssh is started instead; example.invalid does not resolve, so it fails fast.
    attempt(lab, [tool("git_pull", repo=at), tool("git_push", repo=at), tool("git_pull", repo=at, remote="scp")])


@pytest.mark.parametrize("key", ["core.gitProxy", "remote.origin.vcs", "hook.evil.command",
                                 "frobnicate.tool.command"])
def test_program_settings_without_a_harmless_value_are_refused(lab: Lab, key: str) -> None:
    repo = lab.repo()
    git(repo, "remote", "add", "origin", "git://example.invalid/x.git")
    git(repo, "config", key, lab.program("refused", "exit 1"))

    async def scenario() -> None:
        async with memory_client("git", settings(lab)) as client:
            for name, args in (("git_status", {}), ("git_pull", {}), ("git_commit", {"message": "m"})):
                message = await call_error(client, name, repo=str(repo), **args)
                assert key.split(".")[-1].lower() in message.lower() and "allow_hooks" in message

    asyncio.run(scenario())
    assert lab.fired() == []


# ---- submodules: other repositories, with configs of their own ----

def test_submodule_configs_are_neutralised(lab: Lab) -> None:
    sub = lab.repo("sub", files={"s.txt": "s\n", ".gitattributes": "* filter=evil\n"})
    top = lab.repo("top")
    git(top, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub), "sub")
    git(top, "commit", "-qm", "add sub")
    module_config = top / ".git" / "modules" / "sub" / "config"
    with module_config.open("a") as f:
        f.write(f"[filter \"evil\"]\n\tclean = {lab.program('clean')}\n")
    # Same content, newer time: git has to read the file (through its clean filter) to tell.
    later = (top / "sub" / "s.txt").stat().st_mtime + 100
    os.utime(top / "sub" / "s.txt", (later, later))
    proven(lab, "status", cwd=top, expect="clean")
    attempt(lab, [tool("git_status", repo=str(top)), tool("git_diff", repo=str(top)),
                  tool("git_status", repo=str(top / "sub"))])


# ---- where repositories may be made, read and written ----

def test_targets_obey_roots_protected_and_credential_folders(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    home = lab.root / "home"
    ssh = home / ".ssh"
    ssh.mkdir(parents=True)
    (ssh / "id_ed25519").write_text("PRIVATE KEY\n")
    (home / ".gnupg").mkdir()
    monkeypatch.setenv("HOME", str(home))
    store = lab.repo("password-store", files={"bank.gpg": "secret\n"})
    store.rename(home / ".password-store")
    secret_repo = home / ".ssh"
    git(secret_repo, "init", "-q")  # ~/.ssh itself under version control
    outside = Path("/tmp") / f"llmos-outside-{os.getpid()}"
    repo = lab.repo("proj")
    git(repo, "config", "core.worktree", str(ssh))  # points the working tree at ~/.ssh
    config = {"filesystem": {"roots": ["~"]}, "network_timeout": 10}

    async def scenario() -> None:
        async with memory_client("git", config) as client:
            refusals = [
                ("git_init", {"repo": "~/.ssh"}), ("git_init", {"repo": "~/.ssh/inner"}),
                ("git_init", {"repo": "~/.gnupg"}), ("git_init", {"repo": str(outside)}),
                ("git_init", {"repo": "/etc/llmos-evil"}),
                ("git_clone", {"url": str(lab.root / "proj"), "directory": "~/.ssh/copy"}),
                ("git_clone", {"url": str(lab.root / "proj"), "directory": "/etc/llmos-evil"}),
                ("git_clone", {"url": "~/.ssh", "directory": "~/copy1"}),
                ("git_clone", {"url": "~/.password-store", "directory": "~/copy2"}),
                ("git_clone", {"url": f"file://{home}/.password-store", "directory": "~/copy3"}),
                ("git_status", {"repo": "~/.ssh"}), ("git_log", {"repo": "~/.password-store"}),
                ("git_status", {"repo": str(repo)}), ("git_add", {"repo": str(repo), "paths": ["."]}),
                ("git_reset_hard", {"repo": str(repo)}),
            ]
            for name, args in refusals:
                message = await call_error(client, name, **args)
                assert "outside" in message or "credentials" in message or "protected" in message, (name, message)

    monkeypatch.chdir(home)
    asyncio.run(scenario())
    assert sorted(p.name for p in ssh.iterdir()) == [".git", "id_ed25519"]
    assert (ssh / "id_ed25519").read_text() == "PRIVATE KEY\n"
    assert not (ssh / "inner").exists() and not (home / ".gnupg" / ".git").exists()
    assert not outside.exists() and not Path("/etc/llmos-evil").exists()
    assert not any((home / name).exists() for name in ("copy1", "copy2", "copy3"))


def test_push_and_pull_with_a_local_remote_in_a_credential_folder_are_refused(
        lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    home = lab.root / "home"
    (home / ".ssh").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    repo = lab.repo()
    stolen = home / ".ssh" / "stolen.git"
    git(lab.root, "init", "-q", "--bare", str(stolen))
    git(repo, "remote", "add", "origin", str(stolen))

    async def scenario() -> None:
        async with memory_client("git", {"filesystem": {"roots": ["~", str(lab.root)]}}) as client:
            assert "credentials" in await call_error(client, "git_push", repo=str(repo))
            assert "credentials" in await call_error(client, "git_pull", repo=str(repo))
            wrong = await call_error(client, "git_push", repo=str(repo), url="https://example.com/x.git")
            assert str(stolen) in wrong

    asyncio.run(scenario())
    assert git(stolen, "for-each-ref").stdout == ""  # nothing arrived
