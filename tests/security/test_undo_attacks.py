"""Undo that can be trusted, attacked with real symlinks, hard links, a hostile journal, later edits, the floor
targets, and kill -9 at random points of destructive built-ins. Changes go through the real server (in-process
MCP session or a real subprocess); undo through the real `llmos undo` command — in-process (llmos.entry.run, the
same CLI without ≈ 3 s of interpreter start-up a call), and as a process in a real terminal (tmux) below."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from llmos.servers.undo import UndoError, UndoJournal
from tests.inprocess import Completed
from tests.inprocess import llmos as inprocess
from tests.mcp_helpers import call, call_error, memory_client


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "user"
    (home / "docs").mkdir(parents=True)
    (home / "docs" / "report.txt").write_text("the real report\n")
    (home / "docs" / "notes.txt").write_text("first notes\n")
    (home / ".ssh").mkdir()
    (home / ".ssh" / "id_ed25519").write_text("KEY")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(home)
    return home


def run(fn: Any, home: Path, *extra_roots: str) -> Any:
    async def go() -> Any:
        async with memory_client("filesystem", {"roots": [str(home), *extra_roots]}) as c:
            return await fn(c)
    return asyncio.run(go())


def llmos(*args: str) -> Completed:
    out = inprocess(*args)  # nobody at the keyboard, as with stdin from /dev/null
    assert "Traceback" not in out.stderr and "unexpected error" not in out.stderr, out.stderr
    return out


# ---- symlinks and hard links ---------------------------------------------------------------------------

def test_deleting_a_symlink_removes_the_link_never_the_target(home: Path) -> None:
    (home / "link.txt").symlink_to(home / "docs" / "report.txt")
    (home / "dirlink").symlink_to(home / "docs")
    (home / "dangling").symlink_to(home / "nowhere")

    async def go(c: Client) -> None:
        await call(c, "delete", path="~/link.txt")
        await call(c, "delete", path="~/dirlink")
        await call(c, "delete", path="~/dangling")
    run(go, home)
    assert (home / "docs" / "report.txt").read_text() == "the real report\n"
    assert (home / "docs" / "notes.txt").exists()
    assert not any(p.is_symlink() for p in (home / "link.txt", home / "dirlink", home / "dangling"))
    for _ in range(3):
        assert llmos("undo").returncode == 0
    assert os.readlink(home / "link.txt") == str(home / "docs" / "report.txt")
    assert os.readlink(home / "dirlink") == str(home / "docs") and os.readlink(home / "dangling")


def test_permanently_deleting_a_symlink_keeps_the_target(home: Path) -> None:
    (home / "link").symlink_to(home / "docs")
    run(lambda c: call(c, "delete_permanently", path="~/link"), home)
    assert not (home / "link").is_symlink() and (home / "docs" / "report.txt").exists()


def test_moving_a_symlink_moves_the_link(home: Path) -> None:
    (home / "link.txt").symlink_to(home / "docs" / "report.txt")
    run(lambda c: call(c, "move", source="~/link.txt", destination="~/moved.txt"), home)
    assert (home / "moved.txt").is_symlink() and (home / "docs" / "report.txt").read_text() == "the real report\n"


def test_overwriting_a_hard_linked_file_is_refused_for_both_names(home: Path) -> None:
    """One of a file's other names may be a credential or a start-up file: it is not overwritten or appended to
    through any name, so there is nothing for undo to restore."""
    original, twin = home / "docs" / "report.txt", home / "twin.txt"
    os.link(original, twin)

    async def go(c: Client) -> list[str]:
        return [await call_error(c, "write_file", path=str(twin), content="vandalised\n"),
                await call_error(c, "append_file", path=str(original), content="vandalised\n")]
    for message in run(go, home):
        assert "hard links" in message
    assert original.read_text() == twin.read_text() == "the real report\n"
    assert original.stat().st_nlink == 2 and not UndoJournal().entries()


def test_trashing_one_name_of_a_hard_link_keeps_the_other(home: Path) -> None:
    os.link(home / "docs" / "report.txt", home / "twin.txt")
    run(lambda c: call(c, "delete", path="~/twin.txt"), home)
    assert (home / "docs" / "report.txt").read_text() == "the real report\n"
    assert llmos("undo").returncode == 0
    assert (home / "twin.txt").stat().st_ino == (home / "docs" / "report.txt").stat().st_ino


def test_a_move_never_replaces_a_hard_linked_file(home: Path) -> None:
    os.link(home / "docs" / "report.txt", home / "twin.txt")
    message = run(lambda c: call_error(c, "move", source="~/docs/notes.txt", destination="~/twin.txt",
                                       overwrite=True), home)
    assert "hard links" in message
    assert (home / "twin.txt").read_text() == "the real report\n" and (home / "docs" / "notes.txt").exists()


def test_a_delete_killed_after_its_journal_line_is_finished_not_an_older_one(home: Path) -> None:
    """The exact state a kill -9 inside `delete` leaves: the write-ahead line written, the file already in the
    trash, no completion line. `llmos undo` must bring back *that* file first."""
    from llmos.servers.filesystem import trash

    run(lambda c: call(c, "delete", path="~/docs/report.txt"), home)  # an older, completed action
    notes = home / "docs" / "notes.txt"
    trashed, info = trash.plan(notes) or pytest.fail("the home trash should be on this device")
    UndoJournal().begin("trash", "moved ~/docs/notes.txt to the trash", path=str(notes), trash_file=str(trashed),
                        trash_info=str(info))
    trash.move(notes, trashed, info)  # ...and the process died here
    listing = json.loads(llmos("undo", "--list", "--json").stdout)
    assert listing[-1]["state"] == "pending" and "interrupted" in listing[-1]["status"]
    first = llmos("undo")
    assert first.returncode == 0 and "notes.txt" in first.stdout
    assert notes.read_text() == "first notes\n" and not (home / "docs" / "report.txt").exists()
    assert llmos("undo").returncode == 0 and (home / "docs" / "report.txt").exists()


def test_a_delete_killed_before_the_rename_changes_nothing_and_is_skipped(home: Path) -> None:
    from llmos.servers.filesystem import trash

    run(lambda c: call(c, "delete", path="~/docs/report.txt"), home)
    notes = home / "docs" / "notes.txt"
    trashed, info = trash.plan(notes) or pytest.fail("the home trash should be on this device")
    UndoJournal().begin("trash", "moved ~/docs/notes.txt to the trash", path=str(notes), trash_file=str(trashed),
                        trash_info=str(info))  # died before the rename
    out = llmos("undo")
    assert out.returncode == 0 and "interrupted before it changed" in out.stderr
    assert notes.exists() and (home / "docs" / "report.txt").exists()


# ---- a journal that cannot be trusted ----------------------------------------------------------------

@pytest.mark.parametrize("line", [
    '{"id": "torn', "not json at all", "[1, 2, 3]", '"a string"', '{"id": 5, "ts": 1, "action": "trash"}',
    '{"id": "x1", "ts": "yesterday", "action": "trash", "summary": "s", "data": {"path": "/x"}}',
    '{"id": "x2", "ts": 1, "action": "format_disk", "summary": "s", "data": {}}',
    '{"id": "x3", "ts": 1, "action": "trash", "summary": "s", "data": []}',
    '{"id": "x4", "ts": 1, "action": "overwrite", "summary": "s", "data": {"path": "/x"}}',
    '{"undo_of": "nobody"}', '{"undo_of": 42}', '{"done": "nobody", "data": {}}', "{}",
])
def test_a_malformed_journal_line_is_reported_and_skipped(home: Path, line: str) -> None:
    run(lambda c: call(c, "delete", path="~/docs/report.txt"), home)
    with open(UndoJournal().file, "a") as f:
        f.write(line + "\n")
    listing = llmos("undo", "--list", "--json")
    assert listing.returncode == 0 and ":3:" in listing.stderr and "skipped" in listing.stderr
    out = llmos("undo")
    assert out.returncode == 0, out.stderr
    assert (home / "docs" / "report.txt").read_text() == "the real report\n"


def test_an_entry_that_cannot_be_undone_does_not_block_older_ones(home: Path, isolated_home: Path) -> None:
    (home / "junk.txt").write_text("junk")

    async def go(c: Client) -> None:
        await call(c, "delete", path="~/docs/report.txt")
        await call(c, "delete", path="~/docs/notes.txt")
        await call(c, "delete_permanently", path="~/junk.txt")
    run(go, home)
    (isolated_home / "data" / "Trash" / "files" / "notes.txt").unlink()  # the person emptied the trash
    out = llmos("undo")  # skips the permanent delete and the emptied one, with notes; restores report.txt
    assert out.returncode == 0, out.stderr
    assert "cannot be undone" in out.stderr and "no longer in the trash" in out.stderr
    assert (home / "docs" / "report.txt").read_text() == "the real report\n"
    again = llmos("undo")
    assert again.returncode == 1 and "nothing to undo" in again.stderr


def test_undo_by_id_undoes_that_entry_only(home: Path) -> None:
    async def go(c: Client) -> tuple[str, str]:
        first = await call(c, "delete", path="~/docs/report.txt")
        second = await call(c, "delete", path="~/docs/notes.txt")
        return first["undo_id"], second["undo_id"]
    first, _second = run(go, home)
    out = llmos("undo", first[:8])
    assert out.returncode == 0 and "report.txt" in out.stdout
    assert (home / "docs" / "report.txt").exists() and not (home / "docs" / "notes.txt").exists()
    assert llmos("undo", first).returncode == 1  # already undone
    assert llmos("undo", "nosuchid").returncode == 1
    assert llmos("undo").returncode == 0 and (home / "docs" / "notes.txt").exists()


# ---- never discard what changed afterwards -----------------------------------------------------------

def test_undoing_an_overwrite_keeps_a_later_edit(home: Path) -> None:
    target = home / "docs" / "report.txt"
    run(lambda c: call(c, "write_file", path=str(target), content="llmos wrote this\n"), home)
    target.write_text("the person's own edit\n")
    out = llmos("undo")
    assert out.returncode == 1 and "changed since" in out.stderr
    assert target.read_text() == "the person's own edit\n"


def test_undoing_a_same_size_edit_is_still_detected(home: Path) -> None:
    target = home / "docs" / "report.txt"
    run(lambda c: call(c, "write_file", path=str(target), content="AAAA\n"), home)
    stat = target.stat()
    target.write_text("BBBB\n")
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size, same mtime: only the hash differs
    assert llmos("undo").returncode == 1 and target.read_text() == "BBBB\n"


def test_undoing_a_create_never_removes_a_folder_made_later_at_that_path(home: Path) -> None:
    run(lambda c: call(c, "create_file", path="~/plan.txt", content="draft"), home)
    (home / "plan.txt").unlink()
    (home / "plan.txt").mkdir()
    (home / "plan.txt" / "keep.md").write_text("important")
    assert llmos("undo").returncode == 1
    assert (home / "plan.txt" / "keep.md").read_text() == "important"


def test_undoing_a_mkdir_leaves_a_folder_made_later_and_its_content(home: Path) -> None:
    run(lambda c: call(c, "make_directory", path="~/box"), home)
    (home / "box").rmdir()
    (home / "box").mkdir()
    out = llmos("undo")
    assert (home / "box").is_dir() and "different folder" in out.stderr
    run(lambda c: call(c, "make_directory", path="~/crate"), home)
    (home / "crate" / "item.txt").write_text("mine")
    assert llmos("undo").returncode == 1 and (home / "crate" / "item.txt").read_text() == "mine"


def test_undoing_an_overwrite_never_deletes_a_folder_put_there(home: Path) -> None:
    target = home / "docs" / "report.txt"
    run(lambda c: call(c, "write_file", path=str(target), content="new\n"), home)
    target.unlink()
    target.mkdir()
    (target / "child.txt").write_text("keep me")
    assert llmos("undo").returncode == 1 and (target / "child.txt").read_text() == "keep me"


# ---- the floor -------------------------------------------------------------------------------------------

def test_home_a_root_and_slash_cannot_be_deleted_or_moved(home: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    (work / "inner").mkdir(parents=True)

    async def go(c: Client) -> list[str]:
        return [await call_error(c, "delete_permanently", path="~"),
                await call_error(c, "delete_permanently", path="."),
                await call_error(c, "delete_permanently", path=str(work)),
                await call_error(c, "delete_permanently", path="/"),
                await call_error(c, "delete_permanently", path=str(tmp_path)),
                await call_error(c, "delete", path="~/docs/.."),
                await call_error(c, "move", source="~", destination=str(work / "inner")),
                await call_error(c, "delete", path=str(work))]
    for message in run(go, home, str(work), "/"):
        assert "will not" in message or "protected" in message, message
    assert (home / "docs" / "report.txt").exists() and (home / ".ssh" / "id_ed25519").exists()
    assert (work / "inner").is_dir()


def test_floor_data_for_the_gate(home: Path) -> None:
    from llmos.servers.sandbox import Sandbox, measure

    sandbox = Sandbox.from_settings({"roots": [str(home)]})
    assert sandbox.is_floor_target(home) and sandbox.is_floor_target(Path("/"))
    assert sandbox.is_floor_target(home.parent) and sandbox.is_floor_target(home / ".ssh")
    assert sandbox.is_floor_target(home / ".ssh" / "id_ed25519")
    assert sandbox.is_floor_target(home / "docs") is None
    assert measure(home / "docs") == (2, len("the real report\n") + len("first notes\n"))
    assert measure(home / "docs", limit=1)[0] == 1


# ---- crash: kill -9 at random points -----------------------------------------------------------------

DRIVER = textwrap.dedent("""
    import asyncio, os, random, signal, sys, threading, time
    from mcp import Client
    from llmos import paths
    from llmos.servers import build_server

    def kill_after_pending(n, seed):
        # SIGKILL this process right after the n-th write-ahead line reaches the journal: a crash inside an
        # action, between its journal line and its completion (plus 0-3 ms, so the action is part-way).
        journal = paths.state_dir() / "undo.jsonl"
        rng = random.Random(seed)
        while True:
            try:
                if journal.read_text().count('"state": "pending"') >= n:
                    time.sleep(rng.uniform(0, 0.003))
                    os.kill(os.getpid(), signal.SIGKILL)
            except FileNotFoundError:
                pass
            time.sleep(0.0005)

    async def main(root):
        async with Client(build_server("filesystem", {"roots": [root]})) as c:
            print("ready", flush=True)
            for i in range(40):
                f = f"{root}/f{i % 8}.txt"
                for tool, args in (("write_file", {"path": f, "content": "changed " * 20000}),
                                   ("append_file", {"path": f, "content": "more"}),
                                   ("move", {"source": f, "destination": f"{root}/m{i}.txt"}),
                                   ("delete", {"path": f"{root}/m{i}.txt"}),
                                   ("create_file", {"path": f"{root}/new{i}.txt", "content": "new " * 500}),
                                   ("make_directory", {"path": f"{root}/d{i}/e"}),
                                   ("copy", {"source": f"{root}/new{i}.txt", "destination": f"{root}/d{i}/e"})):
                    r = await c.call_tool(tool, args)
                    if r.is_error:
                        print("error", tool, r.content[0].text, file=sys.stderr, flush=True)
                if i % 8 == 7:
                    for j in range(8):  # put the files back so the loop can go on
                        r = await c.call_tool("create_file", {"path": f"{root}/f{j}.txt", "content": "again"})
    if int(sys.argv[2]):
        threading.Thread(target=kill_after_pending, args=(int(sys.argv[2]), int(sys.argv[3])), daemon=True).start()
    asyncio.run(main(sys.argv[1]))
""")


def snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): (p.read_text() if p.is_file() else "<dir>") for p in sorted(root.rglob("*"))}


@pytest.mark.parametrize("seed", range(10))
def test_kill_9_mid_action_then_undo_restores_everything(home: Path, seed: int) -> None:
    """Kill the server process at a random moment among its destructive calls, then `llmos undo` until
    nothing is left: the folder must be exactly as before, and no step may fail or reverse out of order."""
    root = home / "work"
    root.mkdir()
    for i in range(8):
        (root / f"f{i}.txt").write_text(f"original {i}\n")
    before = snapshot(root)
    rng = random.Random(seed)
    # Even seeds: killed from outside at a random moment; odd seeds: killed inside a random action.
    at_action = rng.randint(1, 40) if seed % 2 else 0
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, str(root), str(at_action), str(seed)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    if at_action:
        proc.wait(timeout=120)
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
    else:
        time.sleep(rng.uniform(0.05, 0.8))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    listing = llmos("undo", "--list", "--json")
    assert listing.returncode == 0
    journal = json.loads(listing.stdout)
    assert journal, "the driver was killed before it changed anything; lengthen the wait"
    for step in range(len(journal) + 1):
        if step < 3:  # the interrupted entry and its neighbours through the real command
            out = llmos("undo")
            if out.returncode == 1:
                assert "nothing to undo" in out.stderr, out.stderr
                break
            assert out.returncode == 0, out.stderr
            continue
        try:  # the rest in-process (the same code, without a second of start-up per entry)
            UndoJournal().undo_last()
        except UndoError as exc:
            assert str(exc).startswith("nothing to undo"), exc
            break
    else:
        pytest.fail("llmos undo never reached the end of the journal")
    assert snapshot(root) == before
    states = {e["status"] for e in json.loads(llmos("undo", "--list", "--json").stdout)}
    assert states <= {"undone", "cannot undo"}, states


def test_at_a_terminal_undo_asks_and_keeps_the_later_version_in_the_trash(home: Path, isolated_home: Path) -> None:
    """In a real terminal (tmux): the conflict is shown and asked; "n" leaves everything, "y" undoes and the
    person's later version lands in the trash, not in the void."""
    from tests.tmux import Terminal

    target = home / "docs" / "report.txt"
    run(lambda c: call(c, "write_file", path=str(target), content="llmos wrote this\n"), home)
    target.write_text("the person's own edit\n")
    with Terminal(f"{sys.executable} -m llmos undo", cwd=str(home), width=200) as term:
        term.wait_for("Undo anyway?")
        term.send("n", "Enter")
        term.wait_for("EXIT=1")
    assert target.read_text() == "the person's own edit\n"
    with Terminal(f"{sys.executable} -m llmos undo", cwd=str(home), width=200) as term:
        term.wait_for("Undo anyway?")
        term.send("y", "Enter")
        term.wait_for("EXIT=0")
    assert target.read_text() == "the real report\n"
    kept = list((isolated_home / "data" / "Trash" / "files").glob("report.txt.changed-*"))
    assert len(kept) == 1 and kept[0].read_text() == "the person's own edit\n"
