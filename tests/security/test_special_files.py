"""Special files and symlinks against the real filesystem server: real FIFOs, a real listening Unix socket,
symlinks to /dev/zero and out of the roots. Nothing may hang (each call has a deadline), nothing may eat
memory, nothing outside the roots may leak."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from tests.mcp_helpers import call, call_error, memory_client

DEADLINE_S = 20  # a call that has not answered by then is hanging
KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nTOPSECRET\n-----END OPENSSH PRIVATE KEY-----\n"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A home with a repository full of traps: a FIFO, a listening socket, a link to /dev/zero, a link that
    climbs out to the key, a link to a folder outside the roots."""
    home = tmp_path / "user"
    repo = home / "repo"
    (repo / "docs").mkdir(parents=True)
    (home / ".ssh").mkdir()
    (home / ".ssh" / "id_ed25519").write_text(KEY)
    (repo / "docs" / "guide.md").write_text("install with needle\n")
    os.mkfifo(repo / "docs" / "pipe.md")
    os.mkfifo(home / "fifo")
    (repo / "docs" / "zero.md").symlink_to("/dev/zero")
    (repo / "docs" / "setup.md").symlink_to("../../.ssh/id_ed25519")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "other.md").write_text("needle from outside the roots\n")
    (repo / "docs" / "elsewhere").symlink_to(outside)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(repo / "docs" / "sock.md"))
    listener.listen(1)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(home)
    yield home
    listener.close()


def run(fn: Any, settings: dict[str, Any]) -> Any:
    async def go() -> Any:
        async with memory_client("filesystem", settings) as c:
            return await asyncio.wait_for(fn(c), DEADLINE_S * 3)
    return asyncio.run(go())


async def timed(coro: Any) -> Any:
    return await asyncio.wait_for(coro, DEADLINE_S)


def roots(home: Path, *extra: str) -> dict[str, Any]:
    return {"roots": [str(home), *extra]}


def test_reading_a_fifo_or_socket_is_refused_at_once(home: Path) -> None:
    async def go(c: Client) -> list[str]:
        return [await timed(call_error(c, "read_file", path="~/fifo")),
                await timed(call_error(c, "read_file", path="~/repo/docs/pipe.md")),
                await timed(call_error(c, "read_file", path="~/repo/docs/sock.md")),
                await timed(call_error(c, "write_file", path="~/fifo", content="x")),
                await timed(call_error(c, "append_file", path="~/fifo", content="x")),
                await timed(call_error(c, "copy", source="~/fifo", destination="~/fifo-copy"))]
    for message in run(go, roots(home)):
        assert "pipe" in message or "socket" in message or "regular file" in message, message
    assert (home / "fifo").exists() and not (home / "fifo-copy").exists()


def test_devices_are_refused_even_inside_a_root(home: Path) -> None:
    async def go(c: Client) -> list[str]:
        return [await timed(call_error(c, "read_file", path="/dev/zero")),
                await timed(call_error(c, "read_file", path="~/repo/docs/zero.md")),
                await timed(call_error(c, "read_file", path="/dev/urandom")),
                await timed(call_error(c, "copy", source="/dev/zero", destination="~/zeros"))]
    for message in run(go, roots(home, "/dev")):
        assert "device" in message or "regular file" in message, message
    assert not (home / "zeros").exists()


def test_a_symlink_to_dev_zero_outside_the_roots_is_refused(home: Path) -> None:
    message = run(lambda c: timed(call_error(c, "read_file", path="~/repo/docs/zero.md")), roots(home))
    assert "outside the folders" in message


def test_searching_a_folder_of_traps_finds_only_real_files(home: Path) -> None:
    async def go(c: Client) -> list[Any]:
        return [await timed(call(c, "search_content", query="needle", path="~/repo")),
                await timed(call(c, "search_content", query="TOPSECRET", path="~/repo")),
                await timed(call(c, "search_content", query="PRIVATE", path="~")),
                await timed(call(c, "search_files", pattern="*.md", path="~/repo")),
                await timed(call(c, "find_largest", path="~/repo", count=50)),
                await timed(call(c, "disk_usage", path="~/repo"))]
    content, secret, everywhere, names, largest, usage = run(go, roots(home))
    assert [(m["path"], m["line_number"]) for m in content["matches"]] == [("~/repo/docs/guide.md", 1)]
    assert secret["matches"] == [] and everywhere["matches"] == []
    assert names["paths"] == ["~/repo/docs/guide.md"]  # no FIFO, socket or symlink
    assert [f["path"] for f in largest["files"]] == ["~/repo/docs/guide.md"]
    assert usage["files"] == 1
    assert "TOPSECRET" not in repr([content, secret, everywhere, names, largest, usage])


def test_a_symlink_in_a_repo_pointing_at_the_key_does_not_leak(home: Path) -> None:
    async def go(c: Client) -> list[str]:
        return [await timed(call_error(c, "read_file", path="~/repo/docs/setup.md")),
                await timed(call_error(c, "copy", source="~/repo/docs/setup.md", destination="~/setup-copy.md"))]
    for message in run(go, roots(home)):
        assert "credentials" in message and "TOPSECRET" not in message
    assert not (home / "setup-copy.md").exists()


def test_copying_a_folder_of_traps_copies_only_plain_files(home: Path) -> None:
    result = run(lambda c: timed(call(c, "copy", source="~/repo", destination="~/repo-copy")), roots(home))
    copied = home / "repo-copy" / "docs"
    assert result["action"] == "copied"
    assert (copied / "guide.md").read_text() == "install with needle\n"
    assert not (copied / "pipe.md").exists() and not (copied / "sock.md").exists()
    assert (copied / "zero.md").is_symlink()  # links are copied as links, never followed
    assert not any("TOPSECRET" in p.read_text() for p in copied.rglob("*") if p.is_file() and not p.is_symlink())


def test_every_tool_has_a_size_cap_with_a_clear_message(home: Path) -> None:
    huge = "x" * (10 * 1024 * 1024 + 1)
    big = home / "big.log"
    with open(big, "wb") as f:
        f.truncate(11 * 1024 * 1024)  # sparse: 11 MiB of zeros, no disk used
    image = home / "disk.img"
    with open(image, "wb") as f:
        f.truncate(1100 * 1024 * 1024)  # sparse, too big to keep a backup of
    (home / "many").mkdir()
    for i in range(120):
        (home / "many" / f"f{i}.txt").write_text("needle\n")

    async def go(c: Client) -> list[Any]:
        return [await timed(call_error(c, "create_file", path="~/huge.txt", content=huge)),
                await timed(call_error(c, "write_file", path="~/repo/docs/guide.md", content=huge)),
                await timed(call(c, "read_file", path="~/big.log", limit=256 * 1024)),
                await timed(call(c, "search_content", query="needle", path="~", limit=5)),
                await timed(call(c, "search_files", pattern="*", path="~/many")),
                await timed(call_error(c, "write_file", path="~/disk.img", content="x")),
                await timed(call_error(c, "move", source="~/big.log", destination="~/disk.img", overwrite=True))]
    create, write, read, search, names, overwrite, replace = run(go, {**roots(home), "walk_limit": 50})
    assert "backups of at most" in overwrite and "backups of at most" in replace
    assert image.stat().st_size == 1100 * 1024 * 1024 and big.exists()
    assert "at most" in create and "at most" in write
    assert not (home / "huge.txt").exists() and (home / "repo/docs/guide.md").read_text() == "install with needle\n"
    assert read["binary"] and read["total_bytes"] == 11 * 1024 * 1024
    assert search["note"] and "Stopped after 50" in search["note"]
    assert names["note"] and len(names["paths"]) <= 50


def test_a_folder_swapped_for_a_symlink_during_writes_never_writes_outside(home: Path, tmp_path: Path) -> None:
    """A thread flips ~/repo/box between a real folder and a symlink out of the roots while the server creates
    100 files in it: the check-then-write race must never put a file outside."""
    import threading

    outside = tmp_path / "outside"
    box = home / "repo" / "box"
    box.mkdir()
    stop = threading.Event()

    def flip() -> None:
        real, link = home / "repo" / ".real", home / "repo" / ".link"
        link.symlink_to(outside)
        while not stop.is_set():  # box: a folder, then a symlink out, then a folder again…
            os.rename(box, real)
            os.rename(link, box)
            os.rename(box, link)
            os.rename(real, box)

    async def go(c: Client) -> list[Any]:
        return [await c.call_tool("create_file", {"path": f"~/repo/box/f{i}.txt", "content": "x"})
                for i in range(100)]
    flipper = threading.Thread(target=flip, daemon=True)
    flipper.start()
    try:
        results = run(go, roots(home))
    finally:
        stop.set()
        flipper.join()
    assert sorted(p.name for p in outside.iterdir()) == ["other.md"]
    created = sum(not r.is_error for r in results)
    assert 0 < created < 100, created  # the race really ran both ways
    assert len(list(box.iterdir())) == created
