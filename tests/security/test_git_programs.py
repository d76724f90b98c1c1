"""Every git setting whose value is a command (from `git help config`, git 2.39), set at once by a repository,
and git's own helper programs (gpg, gpgsm, ssh-keygen, ssh, pagers, editors) shadowed on PATH: no git tool —
status, diff, log, show, add, commit, branches, switch, stash, restore, reset, pull, push, clone, init — may
run any of them. Also set through `include.path` and `includeIf` (conditions that do not hold when llmos
looks, but do later), through a local remote's own config, and through a partial clone whose lazy fetch runs
the remote's upload-pack from a mere `git show`. Each program touches a marker; afterwards none exists."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

from tests.mcp_helpers import memory_client
from tests.security.test_git_exec import Lab, git, hook

# Programs git itself may look up on PATH: each is shadowed by a marker script.
SHADOWED = ("gpg", "gpg2", "gpgsm", "ssh-keygen", "ssh", "less", "more", "vi", "vim", "nano", "editor",
            "sensible-editor", "pager", "cat")
# Every key of git 2.39's config whose value is a program (or makes git run one); <driver> is "evil".
PROGRAM_KEYS = (
    "core.fsmonitor", "core.sshCommand", "core.askPass", "core.editor", "core.pager", "core.alternateRefsCommand",
    "sequence.editor", "pager.log", "pager.diff", "pager.show", "pager.status", "pager.branch", "pager.stash",
    "diff.external", "diff.evil.command", "diff.evil.textconv", "filter.evil.clean", "filter.evil.smudge",
    "merge.evil.driver", "gpg.program", "gpg.openpgp.program", "gpg.x509.program", "gpg.ssh.program",
    "gpg.ssh.defaultKeyCommand", "credential.helper", "credential.https://example.invalid.helper",
    "remote.origin.uploadpack", "remote.origin.receivepack", "submodule.sub.update", "interactive.diffFilter",
    "imap.tunnel", "difftool.evil.cmd", "mergetool.evil.cmd", "browser.evil.cmd", "man.evil.cmd",
    "instaweb.httpd", "uploadpack.packObjectsHook", "alias.st", "web.browser", "sendemail.smtpServer",
)
# Settings that make git reach for one of the programs above.
TRIGGERS = (("commit.gpgSign", "true"), ("tag.gpgSign", "true"), ("tag.forceSignAnnotated", "true"),
            ("push.gpgSign", "true"), ("log.showSignature", "true"), ("merge.verifySignatures", "true"),
            ("gpg.format", "ssh"), ("user.signingKey", "key::ssh-ed25519 AAAA"), ("diff.evil.binary", "false"),
            ("http.saveCookies", "true"), ("gc.auto", "1"), ("maintenance.auto", "true"))


class Programs(Lab):
    def shadow_path(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for name in SHADOWED:
            self.program(name, "exit 1")
        monkeypatch.setenv("PATH", f"{self.bin}{os.pathsep}{os.environ['PATH']}")

    def settings_text(self, section_prefix: str = "") -> str:
        """The program keys and their triggers as config-file text (one marker per key)."""
        lines = []
        for key in PROGRAM_KEYS:
            value = self.program(f"{section_prefix}{key}".replace("/", "_").replace(":", "_"), "exit 1")
            lines += entry(key, "!" + value if key in ("submodule.sub.update", "alias.st") else value)
        for key, value in (*TRIGGERS, ("http.cookieFile", str(self.root / "cookie-jar"))):
            lines += entry(key, value)
        return "\n".join(lines) + "\n"


def entry(key: str, value: str) -> list[str]:
    """``key = value`` as config-file lines."""
    section, _, rest = key.partition(".")
    sub, _, variable = rest.rpartition(".")
    return [f'[{section} "{sub}"]' if sub else f"[{section}]", f"\t{variable} = {value}"]


def plain_git(lab: Programs, repo: Path) -> None:
    """The repository's settings are real: plain git runs the signing program for a commit."""
    (repo / "a.txt").write_text("proof\n")
    git(repo, "commit", "-qam", "proof", check=False)
    assert any(m.startswith("gpg") for m in lab.fired()), lab.fired()
    git(repo, "reset", "-q", "--hard", "HEAD", check=False)
    lab.clear()


def every_tool(repo: Path, lab: Programs) -> list[tuple[str, dict[str, Any]]]:
    at = str(repo)
    return [("git_status", {"repo": at}), ("git_diff", {"repo": at}), ("git_diff", {"repo": at, "ref": "HEAD~1"}),
            ("git_add", {"repo": at, "paths": ["."]}), ("git_diff", {"repo": at, "staged": True}),
            ("git_commit", {"repo": at, "message": "edit"}), ("git_log", {"repo": at}),
            ("git_log", {"repo": at, "path": "a.txt"}), ("git_show", {"repo": at}),
            ("git_show", {"repo": at, "ref": "HEAD~1"}), ("git_branches", {"repo": at}),
            ("git_create_branch", {"repo": at, "name": "side", "switch": True}),
            ("git_diff", {"repo": at}), ("git_commit", {"repo": at, "message": "on side", "all": True}),
            ("git_show", {"repo": at}), ("git_switch", {"repo": at, "branch": "main"}),
            ("git_delete_branch", {"repo": at, "name": "side"}),
            ("git_stash_push", {"repo": at}), ("git_stash_list", {"repo": at}), ("git_stash_pop", {"repo": at}),
            ("git_restore", {"repo": at, "paths": ["a.txt"]}), ("git_reset_hard", {"repo": at}),
            ("git_push", {"repo": at}), ("git_pull", {"repo": at}), ("git_pull", {"repo": at, "merge": True}),
            ("git_clone", {"url": at, "directory": str(lab.root / "clone-of-repo")}),
            ("git_clone", {"url": str(lab.root / "remote.git"), "directory": str(lab.root / "clone-of-remote")}),
            ("git_init", {"repo": str(lab.root / "fresh")})]


def attempt(lab: Programs, calls: list[tuple[str, dict[str, Any]]], edit: Path | None = None) -> list[str]:
    """Run the calls through llmos's git server; after each, no marker may exist. The tools' messages."""
    messages: list[str] = []

    async def scenario() -> None:
        async with memory_client("git", {"filesystem": {"roots": [str(lab.root)]}, "network_timeout": 10}) as c:
            for name, arguments in calls:
                if edit is not None:
                    with edit.open("a") as f:
                        f.write("changed\n")
                result = await c.call_tool(name, arguments)
                text = result.content[0].text if result.content else ""
                assert "Traceback" not in text
                messages.append(f"{name}: {text[:200]}")
                assert lab.fired() == [], f"{name}({arguments}) ran {lab.fired()}"

    asyncio.run(scenario())
    return messages


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Programs:
    lab = Programs(tmp_path)
    lab.shadow_path(monkeypatch)
    return lab


def evil_repo(lab: Programs, where: str) -> Path:
    """A repository whose settings (in .git/config, an include, or an includeIf for a branch it is not on
    yet) name a marker program for every program key, with attributes that use the evil drivers."""
    repo = lab.repo(files={"a.txt": "one\n", ".gitattributes": "* diff=evil merge=evil filter=evil\n"})
    (repo / "a.txt").write_text("two\n")
    git(repo, "commit", "-qam", "second")
    lab.bare_remote(repo)
    text = lab.settings_text()
    config = repo / ".git" / "config"
    if where == "config":
        with config.open("a") as f:
            f.write(text)
    elif where == "include":
        (repo / ".git" / "nested").mkdir()
        (repo / ".git" / "nested" / "evil.inc").write_text(text)
        (repo / ".git" / "outer.inc").write_text("[include]\n\tpath = nested/evil.inc\n")
        git(repo, "config", "include.path", "outer.inc")
    else:  # includeIf conditions that do not hold when llmos first looks
        (repo / ".git" / "evil.inc").write_text(text)
        git(repo, "config", "includeIf.onbranch:side.path", "evil.inc")
        git(repo, "config", "includeIf.gitdir:/nowhere/**.path", "evil.inc")
        git(repo, "config", "includeIf.hasconfig:remote.*.url:https://example.invalid/**.path", "evil.inc")
    for name in ("pre-commit", "post-checkout", "pre-push", "post-merge", "reference-transaction"):
        hook(repo / ".git", name, lab.program(f"hook-{name}", "exit 0"))
    return repo


@pytest.mark.parametrize("where", ["config", "include", "include_if"])
def test_no_program_key_makes_any_git_tool_run_a_program(lab: Programs, where: str) -> None:
    repo = evil_repo(lab, where)
    if where == "include_if":  # on the branch the condition names, plain git does run them
        git(repo, "checkout", "-q", "-b", "side", check=False)
        lab.clear()
        plain_git(lab, repo)
        git(repo, "checkout", "-q", "main", check=False)
        git(repo, "branch", "-q", "-D", "side")
    else:
        plain_git(lab, repo)
    lab.clear()
    messages = attempt(lab, every_tool(repo, lab), edit=repo / "a.txt")
    assert any(m.startswith("git_status") and "Error" not in m for m in messages), messages  # tools still work
    assert not (lab.root / "cookie-jar").exists()


def test_a_local_remote_whose_own_config_includes_programs_conditionally(lab: Programs) -> None:
    """The remote's config includes its programs only where git really runs in it (gitdir of the remote
    itself): the receive-pack and upload-pack that serve llmos's push and pull."""
    repo = lab.repo()
    remote = lab.bare_remote(repo)
    (remote / "evil.inc").write_text(lab.settings_text("remote-"))
    git(remote, "config", f"includeIf.gitdir:{remote}/.path", "evil.inc")
    hook(remote, "pre-receive", lab.program("remote-hook", "exit 0"))
    (remote / "objects" / "info" / "alternates").write_text(str(repo / ".git" / "objects") + "\n")
    (repo / "a.txt").write_text("pushed\n")
    git(repo, "commit", "-qam", "pushed")
    git(repo, "push", "-q", check=False)
    assert any(m.startswith("remote-") for m in lab.fired()), "plain git did not run the remote's programs"
    lab.clear()
    (repo / "a.txt").write_text("through llmos\n")
    git(repo, "commit", "-qam", "through llmos")
    attempt(lab, [("git_push", {"repo": str(repo)}), ("git_pull", {"repo": str(repo)}),
                  ("git_clone", {"url": str(remote), "directory": str(lab.root / "copy")})])
    assert git(remote, "log", "-1", "--format=%s", "main").stdout.strip() == "through llmos"


def test_a_partial_clone_never_fetches_lazily_from_a_local_tool(lab: Programs) -> None:
    """A blob missing from a partial clone is fetched on demand by `git show`: the remote's upload-pack
    (a marker program, named by the repository) would run, unasked, from a read-only tool."""
    source = lab.repo("source", files={"old.txt": "old\n"})
    git(source, "config", "uploadpack.allowFilter", "true")
    git(source, "rm", "-q", "old.txt")
    (source / "new.txt").write_text("new\n")
    git(source, "add", "new.txt")
    git(source, "commit", "-qm", "new")
    part = lab.root / "part"
    git(lab.root, "clone", "-q", "--no-local", "--filter=blob:none", f"file://{source}", str(part))
    git(part, "config", "remote.origin.uploadpack", lab.program("lazy-uploadpack", "exec git-upload-pack \"$@\""))
    for key, value in (("user.name", "Ada"), ("user.email", "ada@example.com")):
        git(part, "config", key, value)
    probe = lab.root / "probe"
    git(lab.root, "clone", "-q", "--no-local", "--filter=blob:none", f"file://{source}", str(probe))
    git(probe, "config", "remote.origin.uploadpack", lab.program("lazy-uploadpack", "exec git-upload-pack \"$@\""))
    git(probe, "show", "HEAD~1:old.txt", check=False)
    assert lab.fired() == ["lazy-uploadpack"], "plain git's lazy fetch did not run the program"
    lab.clear()
    at = str(part)
    attempt(lab, [("git_show", {"repo": at, "ref": "HEAD~1"}), ("git_log", {"repo": at, "path": "old.txt"}),
                  ("git_diff", {"repo": at, "ref": "HEAD~1"}), ("git_status", {"repo": at}),
                  ("git_create_branch", {"repo": at, "name": "back", "start": "HEAD~1", "switch": True})])
    assert not (part / "old.txt").exists() or (part / "old.txt").read_text() == ""
