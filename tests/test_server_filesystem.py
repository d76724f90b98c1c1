"""The filesystem server through real MCP clients, on real files in a temp dir."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from llmos.servers.undo import UndoJournal
from tests.conftest import write_user_config
from tests.mcp_helpers import annotations_of, call, call_error, memory_client, stdio_client


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home directory with some real content, as the only allowed root."""
    home = tmp_path / "user"
    (home / "Downloads").mkdir(parents=True)
    (home / "Downloads" / "ubuntu.iso").write_bytes(b"\0" * 300_000)
    (home / "Downloads" / "notes.txt").write_text("alpha\nbeta needle\ngamma\n")
    (home / "Downloads" / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 5000)
    (home / "project" / "src").mkdir(parents=True)
    (home / "project" / "src" / "main.py").write_text("print('needle')\n")
    (home / ".hidden").write_text("secret-ish")
    (home / ".ssh").mkdir()
    (home / ".ssh" / "id_ed25519").write_text("PRIVATE KEY")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(home)
    return home


def run(coro_fn, settings=None):
    async def go():
        async with memory_client("filesystem", settings) as client:
            return await coro_fn(client)
    return asyncio.run(go())


def test_annotations_tell_the_truth(home: Path) -> None:
    async def go(c):
        return annotations_of(await c.list_tools())
    ann = run(go)
    for tool in ("list_directory", "tree", "stat", "read_file", "search_files", "search_content", "find_largest",
                 "disk_usage"):
        assert ann[tool]["readOnlyHint"] is True and ann[tool]["destructiveHint"] is False, tool
    for tool in ("write_file", "append_file", "move", "delete", "delete_permanently"):
        assert ann[tool]["destructiveHint"] is True and ann[tool]["readOnlyHint"] is False, tool
    for tool in ("create_file", "make_directory", "copy"):
        assert ann[tool]["destructiveHint"] is False and ann[tool]["readOnlyHint"] is False, tool


def test_every_tool_has_a_description_and_output_schema(home: Path) -> None:
    async def go(c):
        return (await c.list_tools()).tools
    for tool in run(go):
        assert tool.description and len(tool.description) > 20, tool.name
        assert tool.output_schema and tool.output_schema.get("type") == "object", tool.name


def test_looking_around(home: Path) -> None:
    async def go(c):
        listing = await call(c, "list_directory", path="~/Downloads", sort="size")
        hidden = await call(c, "list_directory", path="~", show_hidden=True)
        tree = await call(c, "tree", path="~/project")
        info = await call(c, "stat", path="Downloads/notes.txt")
        largest = await call(c, "find_largest", path="~", count=2)
        usage = await call(c, "disk_usage", path="~")
        names = await call(c, "search_files", pattern="*.PY", path="~")
        content = await call(c, "search_content", query="NEEDLE", path="~")
        return listing, hidden, tree, info, largest, usage, names, content
    listing, hidden, tree, info, largest, usage, names, content = run(go)
    assert [e["name"] for e in listing["entries"]] == ["ubuntu.iso", "photo.png", "notes.txt"]
    assert listing["entries"][0]["path"] == "~/Downloads/ubuntu.iso" and listing["entries"][0]["size"] == 300_000
    assert ".hidden" in [e["name"] for e in hidden["entries"]]
    assert "└── src/" in tree["tree"] and "main.py" in tree["tree"]
    assert info["type"] == "file" and info["size"] == 24 and info["permissions"].startswith("-rw")
    assert [f["path"] for f in largest["files"]] == ["~/Downloads/ubuntu.iso", "~/Downloads/photo.png"]
    assert usage["largest_children"][0]["path"] == "~/Downloads" and usage["total_bytes"] > 300_000
    assert names["paths"] == ["~/project/src/main.py"]
    assert sorted((m["path"], m["line_number"]) for m in content["matches"]) == [
        ("~/Downloads/notes.txt", 2), ("~/project/src/main.py", 1)]
    assert content["files_skipped"] >= 2  # the iso and the png are binary


def test_read_pages_through_a_file_and_describes_binaries(home: Path) -> None:
    (home / "big.txt").write_text("".join(f"line {i:04d}\n" for i in range(1000)))

    async def go(c):
        first = await call(c, "read_file", path="~/big.txt", limit=100)
        second = await call(c, "read_file", path="~/big.txt", offset=first["next_offset"], limit=100)
        binary = await call(c, "read_file", path="~/Downloads/photo.png")
        return first, second, binary
    first, second, binary = run(go)
    assert first["text"] == "".join(f"line {i:04d}\n" for i in range(10)) and first["next_offset"] == 100
    assert second["text"].startswith("line 0010") and second["total_bytes"] == 10_000
    assert binary["binary"] and binary["text"] is None and "image/png" in binary["description"]


def test_read_detects_encodings(home: Path) -> None:
    (home / "latin.txt").write_bytes("café crème".encode("cp1252"))
    (home / "wide.txt").write_bytes("héllo".encode("utf-16"))

    async def go(c):
        return await call(c, "read_file", path="latin.txt"), await call(c, "read_file", path="wide.txt")
    latin, wide = run(go)
    assert latin["text"] == "café crème" and latin["encoding"] == "cp1252"
    assert wide["text"] == "héllo" and wide["encoding"] == "utf-16"


def test_missing_paths_get_a_did_you_mean(home: Path) -> None:
    async def go(c):
        return await call_error(c, "list_directory", path="~/Dowloads")
    assert "No such file or folder: ~/Dowloads — did you mean ~/Downloads?" in run(go)


@pytest.mark.parametrize("path", [
    "../../etc/passwd",  # climbing out with ..
    "/etc/passwd",  # absolute path outside the roots
    "~root/.bashrc",  # another user's home
    "／etc／passwd",  # fullwidth solidus look-alikes of /etc/passwd
    "escape/passwd",  # a symlink inside the root pointing outside
])
def test_sandbox_escapes_are_refused(home: Path, tmp_path: Path, path: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_text("not for you")
    (home / "escape").symlink_to(outside)

    async def go(c):
        return await call_error(c, "read_file", path=path), await call_error(c, "create_file", path=path,
                                                                             content="x")
    read_error, write_error = run(go, {"roots": [str(home)]})
    for message in (read_error, write_error):
        assert "outside the folders" in message or "other users" in message or "not allowed" in message, message


def test_protected_and_secret_paths(home: Path) -> None:
    async def go(c):
        return (await call_error(c, "read_file", path="~/.ssh/id_ed25519"),
                await call_error(c, "create_file", path="~/.ssh/authorized_keys", content="ssh-ed25519 AAA"),
                await call_error(c, "delete", path="~/.ssh"))
    for message in run(go, {"roots": [str(home)]}):
        assert "credentials" in message
    assert (home / ".ssh" / "id_ed25519").exists()

    async def protected(c):
        return await call_error(c, "create_file", path="~/locked/x.txt", content="x")
    (home / "locked").mkdir()
    message = run(protected, {"roots": [str(home)], "protected": [str(home / "locked")]})
    assert "is protected" in message and "allow_write" in message
    assert run(lambda c: call(c, "create_file", path="~/locked/x.txt", content="x"),
               {"roots": [str(home)], "protected": [str(home / "locked")], "allow_write": [str(home / "locked")]})


def _meta(path: Path) -> tuple:
    st = path.stat()
    return path.read_bytes(), st.st_mode, st.st_mtime_ns


def test_delete_goes_to_the_trash_and_undo_restores_it_exactly(home: Path) -> None:
    target = home / "Downloads" / "notes.txt"
    os.chmod(target, 0o640)
    os.utime(target, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    before = _meta(target)
    result = run(lambda c: call(c, "delete", path="~/Downloads/notes.txt"))
    assert result["action"] == "moved to trash" and result["path"] == "~/Downloads/notes.txt"
    assert not target.exists()
    trash = Path(os.environ["XDG_DATA_HOME"]) / "Trash"
    assert any(p.name == "notes.txt" for p in (trash / "files").iterdir())
    entry = UndoJournal().undo_last()
    assert entry.id == result["undo_id"]
    assert _meta(target) == before
    assert not any((trash / "info").iterdir())


def test_overwrite_and_append_are_undone_exactly(home: Path) -> None:
    target = home / "Downloads" / "notes.txt"
    os.chmod(target, 0o600)
    before = _meta(target)
    run(lambda c: call(c, "write_file", path=str(target), content="replaced"))
    assert target.read_text() == "replaced"
    UndoJournal().undo_last()
    assert _meta(target) == before
    run(lambda c: call(c, "append_file", path=str(target), content="more\n"))
    assert target.read_text().endswith("gamma\nmore\n")
    UndoJournal().undo_last()
    assert _meta(target) == before


def test_move_and_replacing_move_are_undone_exactly(home: Path) -> None:
    src, dst = home / "Downloads" / "notes.txt", home / "project" / "notes.txt"
    dst.write_text("the old one")
    src_before, dst_before = _meta(src), _meta(dst)

    async def go(c):
        refused = await call_error(c, "move", source=str(src), destination=str(dst))
        moved = await call(c, "move", source=str(src), destination=str(dst), overwrite=True)
        return refused, moved
    refused, moved = run(go)
    assert "already exists" in refused
    assert moved["path"] == "~/project/notes.txt" and moved["source"] == "~/Downloads/notes.txt"
    UndoJournal().undo_last()
    assert _meta(src) == src_before and _meta(dst) == dst_before


def test_create_copy_mkdir_then_undo_in_reverse_order(home: Path) -> None:
    async def go(c):
        await call(c, "make_directory", path="~/new/deeper")
        await call(c, "create_file", path="~/new/deeper/a.txt", content="hello")
        await call(c, "copy", source="~/new/deeper/a.txt", destination="~/new")
        return await call_error(c, "create_file", path="~/new/a.txt", content="again")
    assert "already exists" in run(go)
    assert (home / "new" / "a.txt").read_text() == "hello"
    journal = UndoJournal()
    for _ in range(4):  # copy, create, mkdir deeper, mkdir new
        journal.undo_last()
    assert not (home / "new").exists()


def test_permanent_delete_is_separate_and_not_undoable(home: Path) -> None:
    result = run(lambda c: call(c, "delete_permanently", path="~/Downloads/ubuntu.iso"))
    assert result["reversible"] is False and not (home / "Downloads" / "ubuntu.iso").exists()
    from llmos.servers.undo import UndoError

    with pytest.raises(UndoError, match="cannot be undone"):
        UndoJournal().undo_last()


def test_undo_command_and_journal_listing(home: Path) -> None:
    run(lambda c: call(c, "delete", path="~/Downloads/notes.txt"))
    env = {**os.environ}
    listing = subprocess.run([sys.executable, "-m", "llmos", "undo", "--list", "--json"], capture_output=True,
                             text=True, env=env)
    assert '"action": "trash"' in listing.stdout
    out = subprocess.run([sys.executable, "-m", "llmos", "undo"], capture_output=True, text=True, env=env)
    assert out.returncode == 0 and "undone: moved ~/Downloads/notes.txt to the trash" in out.stdout
    assert (home / "Downloads" / "notes.txt").exists()
    again = subprocess.run([sys.executable, "-m", "llmos", "undo"], capture_output=True, text=True, env=env)
    assert again.returncode == 1 and "nothing to undo" in again.stderr


def test_journal_survives_a_torn_last_line(home: Path) -> None:
    run(lambda c: call(c, "delete", path="~/Downloads/notes.txt"))
    journal = UndoJournal()
    with open(journal.file, "a") as f:
        f.write('{"id": "half-writ')  # a crash in the middle of an append
    assert len(journal.entries()) == 1
    journal.undo_last()
    assert (home / "Downloads" / "notes.txt").exists()


def test_over_stdio_with_roots_from_config(home: Path, isolated_home: Path) -> None:
    write_user_config(isolated_home, f"servers:\n  filesystem:\n    roots: [{home}]\n")

    async def go():
        async with stdio_client("filesystem", cwd=str(home)) as c:
            tools = {t.name for t in (await c.list_tools()).tools}
            listing = await call(c, "list_directory", path="~/Downloads")
            refused = await call_error(c, "stat", path="/etc/hostname")
            return tools, listing, refused
    tools, listing, refused = asyncio.run(go())
    assert {"list_directory", "delete", "delete_permanently", "find_largest"} <= tools
    assert len(listing["entries"]) == 3 and "outside the folders" in refused


def test_tools_declare_their_facts_as_meta(home: Path) -> None:
    """The agent reads these instead of keeping its own lists (undoable tools, path arguments)."""
    async def go(c):
        return (await c.list_tools()).tools
    tools = {t.name: t for t in run(go)}
    reversible = {"write_file", "append_file", "move", "create_file", "copy", "make_directory", "delete"}
    for name, tool in tools.items():
        meta = tool.meta or {}
        assert set(meta) >= {"llmos/reversible", "llmos/path_args", "llmos/url_args", "llmos/network"}, name
        assert meta["llmos/reversible"] is (name in reversible), name
        assert meta["llmos/path_args"] and set(meta["llmos/path_args"]) <= set(tool.input_schema["properties"])
        assert meta["llmos/url_args"] == [] and meta["llmos/network"] is False
    assert tools["copy"].meta["llmos/path_args"] == ["source", "destination"]
