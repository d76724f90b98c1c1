"""Attacks on credentials through the real filesystem server (in-process MCP session, and over stdio for the
bind mount), against real files, real hard links, real symlinks and a real bind mount. Each attack asserts
the secret's bytes never reached the caller, and that the secret file itself is unchanged."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import threading
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from tests.conftest import write_user_config
from tests.mcp_helpers import call, memory_client

KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA-TOPSECRET-KEY\n-----END OPENSSH PRIVATE KEY-----\n"
TOKEN = "ghp_TOPSECRETTOKEN0123456789"
# Home-relative path -> content: the well-known credential stores, each holding a findable secret.
SECRETS = {
    ".ssh/id_ed25519": KEY, ".gnupg/private-keys-v1.d/ABC.key": f"gpg {TOKEN}", ".netrc": f"password {TOKEN}",
    ".git-credentials": f"https://u:{TOKEN}@github.com", ".config/gh/hosts.yml": f"oauth_token: {TOKEN}",
    ".docker/config.json": f'{{"auth": "{TOKEN}"}}', ".aws/credentials": f"aws_secret_access_key={TOKEN}",
    ".config/gcloud/credentials.db": f"gcloud {TOKEN}", ".azure/accessTokens.json": f"azure {TOKEN}",
    ".kube/config": f"token: {TOKEN}", ".password-store/bank.gpg": f"pass {TOKEN}",
    ".local/share/keyrings/login.keyring": f"keyring {TOKEN}",
    "project/.env": f"API_KEY={TOKEN}", "project/.env.local": f"API_KEY={TOKEN}",
    "project/deploy/server.pem": f"pem {TOKEN}", "project/id_rsa": KEY, "project/keys/id_work": KEY,
    ".mozilla/firefox/abc.default/logins.json": f"logins {TOKEN}",
    ".mozilla/firefox/abc.default/key4.db": f"key4 {TOKEN}",
    ".config/google-chrome/Default/Cookies": f"cookie {TOKEN}",
    ".config/google-chrome/Default/Login Data": f"login {TOKEN}",
    "project/CASE/.ENV": f"API_KEY={TOKEN}",  # case-folded name
}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "user"
    for relative, content in SECRETS.items():
        (home / relative).parent.mkdir(parents=True, exist_ok=True)
        (home / relative).write_text(content)
    (home / "project" / "README.md").write_text("nothing to see\n")
    (home / "project" / "id_mapping.py").write_text("ids = {}\n")  # looks like id_*, is not a key
    (home / ".ssh" / "id_ed25519.pub").write_text("ssh-ed25519 AAAA public")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(home)
    return home


def run(fn: Any, settings: dict | None = None, home: Path | None = None) -> Any:
    async def go() -> Any:
        async with memory_client("filesystem", settings if settings is not None else {"roots": [str(home)]}) as c:
            return await fn(c)
    return asyncio.run(go())


async def raw(client: Client, tool: str, **arguments: Any) -> str:
    """Everything a call returned, success or error, as one text (to search for leaked bytes)."""
    result = await client.call_tool(tool, arguments)
    return repr(result.structured_content) + "".join(getattr(c, "text", "") for c in result.content)


def leaked(text: str) -> bool:
    return TOKEN in text or "TOPSECRET" in text


def unchanged(home: Path) -> None:
    for relative, content in SECRETS.items():
        assert (home / relative).read_text() == content, relative


@pytest.mark.parametrize("relative", sorted(SECRETS))
def test_no_secret_can_be_read_or_overwritten(home: Path, relative: str) -> None:
    async def go(c: Client) -> list[str]:
        path = str(home / relative)
        return [await raw(c, "read_file", path=path), await raw(c, "stat", path=path),
                await raw(c, "write_file", path=path, content="pwned"),
                await raw(c, "append_file", path=path, content="pwned"),
                await raw(c, "copy", source=path, destination=str(home / "stolen")),
                await raw(c, "search_content", query="TOPSECRET", path=path)]
    for text in run(go, home=home):
        assert not leaked(text)
    assert not (home / "stolen").exists()
    unchanged(home)


def test_listings_and_searches_never_show_secrets(home: Path) -> None:
    async def go(c: Client) -> list[Any]:
        return [await call(c, "list_directory", path="~", show_hidden=True),
                await call(c, "list_directory", path="~/project", show_hidden=True),
                await raw(c, "list_directory", path="~/.ssh", show_hidden=True),
                await call(c, "tree", path="~/project", depth=4),
                await call(c, "search_files", pattern="*", path="~", show_hidden=True, limit=1000),
                await call(c, "search_content", query="TOPSECRET", path="~"),
                await call(c, "search_content", query="API_KEY", path="~/project"),
                await call(c, "find_largest", path="~", count=200),
                await call(c, "disk_usage", path="~", top=100)]
    results = run(go, home=home)
    text = repr(results[:2] + results[3:])
    assert not leaked(repr(results))
    for name in ("id_ed25519", ".env", "server.pem", "id_rsa", "id_work", "logins.json", "key4.db", "Cookies",
                 "Login Data", ".netrc", ".git-credentials", "hosts.yml", "credentials", ".ENV", ".kube/config"):
        assert name not in text, name
    assert ".ssh" not in [e["name"] for e in results[0]["entries"]]
    assert "credentials" in results[2] and "id_ed25519.pub" not in results[2]
    assert "~/project/id_mapping.py" in results[4]["paths"]  # not a key: still found
    assert results[5]["matches"] == [] and results[6]["matches"] == []
    unchanged(home)


def test_hard_links_to_secrets_are_refused_by_identity(home: Path) -> None:
    twin = home / "project" / "notes.txt"
    os.link(home / ".ssh" / "id_ed25519", twin)
    os.link(home / ".aws" / "credentials", home / "project" / "config.ini")

    async def go(c: Client) -> list[str]:
        return [await raw(c, "read_file", path=str(twin)),
                await raw(c, "read_file", path="~/project/config.ini"),
                await raw(c, "write_file", path=str(twin), content="overwritten"),
                await raw(c, "append_file", path="~/project/config.ini", content="more"),
                await raw(c, "search_content", query="TOPSECRET", path="~/project"),
                await raw(c, "copy", source="~/project", destination="~/copied"),
                await raw(c, "find_largest", path="~/project")]
    results = run(go, home=home)
    assert not any(leaked(text) for text in results)
    assert not any(p.name in ("notes.txt", "config.ini") for p in (home / "copied").rglob("*"))
    unchanged(home)


def test_a_renamed_copy_of_a_private_key_is_still_refused(home: Path) -> None:
    shutil.copy(home / ".ssh" / "id_ed25519", home / "project" / "backup.txt")

    async def go(c: Client) -> list[str]:
        return [await raw(c, "read_file", path="~/project/backup.txt"),
                await raw(c, "search_content", query="TOPSECRET", path="~")]
    assert not any(leaked(text) for text in run(go, home=home))


def test_unicode_and_case_spellings_of_secret_paths(home: Path) -> None:
    nfd = unicodedata.normalize("NFD", "Clés")
    vault = home / nfd
    vault.mkdir()
    (vault / "master.txt").write_text(f"vault {TOKEN}")
    settings = {"roots": [str(home)], "secret": ["~/Clés"], "secret_patterns": ["*.vault"]}
    (home / "project" / "Bank.VAULT").write_text(f"vault {TOKEN}")

    async def go(c: Client) -> list[str]:
        return [await raw(c, "read_file", path=str(vault / "master.txt")),
                await raw(c, "read_file", path="~/Clés/master.txt"),
                await raw(c, "list_directory", path="~", show_hidden=True),
                await raw(c, "read_file", path="~/project/Bank.VAULT"),
                await raw(c, "read_file", path="~/.SSH/../.ssh/id_ed25519"),
                await raw(c, "search_content", query="vault", path="~")]
    results = run(go, settings)
    assert not any(leaked(text) for text in results)
    assert nfd not in results[2] and "Clés" not in results[2]


def test_config_extends_the_deny_list_and_cannot_shrink_it(home: Path, isolated_home: Path) -> None:
    write_user_config(isolated_home, f"servers:\n  filesystem:\n    roots: [{home}]\n    secret: []\n"
                                     f"    secret_patterns: ['*.secret']\n")
    (home / "project" / "x.secret").write_text(TOKEN)

    async def go() -> list[str]:
        params = StdioServerParameters(command=sys.executable, args=["-m", "llmos", "mcp", "serve", "filesystem"],
                                       env=dict(os.environ), cwd=str(home))
        async with Client(params) as c:
            return [await raw(c, "read_file", path="~/project/x.secret"),
                    await raw(c, "read_file", path="~/.aws/credentials")]
    assert not any(leaked(text) for text in asyncio.run(go()))


def test_a_bind_mount_of_the_ssh_folder_is_refused(home: Path, tmp_path: Path) -> None:
    """A real bind mount, made in a private mount namespace (unshare) so nothing outlives the test."""
    if not shutil.which("unshare"):
        pytest.fail("util-linux's unshare is needed for the bind-mount attack", pytrace=False)
    mountpoint = home / "project" / "mnt"
    mountpoint.mkdir()
    script = (f'mount --bind "{home / ".ssh"}" "{mountpoint}" && '
              f'exec "{sys.executable}" -m llmos mcp serve filesystem')

    async def go() -> list[str]:
        params = StdioServerParameters(command="unshare", args=["-rm", "sh", "-c", script], env=dict(os.environ),
                                       cwd=str(home))
        async with Client(params) as c:
            return [await raw(c, "read_file", path="~/project/mnt/id_ed25519"),
                    await raw(c, "list_directory", path="~/project/mnt"),
                    await raw(c, "search_content", query="TOPSECRET", path="~/project"),
                    await raw(c, "find_largest", path="~/project", count=50),
                    await raw(c, "copy", source="~/project/mnt", destination="~/out")]
    results = asyncio.run(go())
    assert not any(leaked(text) for text in results), results
    assert "id_ed25519" not in results[3]
    assert not (home / "out" / "id_ed25519").exists()


def test_a_symlink_swapped_in_during_reads_never_wins(home: Path) -> None:
    """A thread flips ~/project/doc.txt between a plain file and a symlink to ~/.aws/credentials while the
    server reads it 150 times: the check-then-open race must never hand over the credentials."""
    doc = home / "project" / "doc.txt"
    doc.write_text("plain words\n")
    stop = threading.Event()

    def flip() -> None:
        plain, link = home / "project" / ".plain", home / "project" / ".link"
        while not stop.is_set():
            plain.write_text("plain words\n")
            os.replace(plain, doc)
            link.unlink(missing_ok=True)
            link.symlink_to(home / ".aws" / "credentials")
            os.replace(link, doc)

    async def go(c: Client) -> list[str]:
        return [await raw(c, "read_file", path="~/project/doc.txt") for _ in range(150)]
    flipper = threading.Thread(target=flip, daemon=True)
    flipper.start()
    try:
        results = run(go, home=home)
    finally:
        stop.set()
        flipper.join()
    assert not any(leaked(text) for text in results)
    assert any("plain words" in text for text in results)  # the race really ran both ways
    assert any("credentials" in text or "symbolic link" in text for text in results)
    unchanged(home)
