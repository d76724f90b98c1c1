"""The XDG trash, done in two steps so the undo journal can be written between them.

`plan` picks the names a file will have in the home trash (``files/NAME`` and ``info/NAME.trashinfo``)
without touching anything; the journal records them (write-ahead); `move` then writes the .trashinfo and
renames the file — the link itself for a symlink, never its target. A file on another device than the home
trash goes through send2trash (its volume's own trash) and is looked up there afterwards.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote


class TrashError(OSError):
    pass


def home_trash() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
    return Path(base) / "Trash"


def plan(path: Path) -> tuple[Path, Path] | None:
    """(file in trash, its .trashinfo) for ``path``, or None when the home trash is on another device."""
    trash = home_trash()
    if _device(trash) != path.lstat().st_dev:
        return None
    files, info = trash / "files", trash / "info"
    name, n = path.name, 1
    while (files / name).exists() or (files / name).is_symlink() or (info / f"{name}.trashinfo").exists():
        n += 1
        name = f"{path.name}.{n}"
    return files / name, info / f"{name}.trashinfo"


def move(path: Path, trashed: Path, info: Path, dir_fd: int | None = None) -> None:
    """Write ``info`` (exclusively: a name taken meanwhile fails) and rename ``path`` to ``trashed``; with
    ``dir_fd`` (a descriptor of ``path``'s folder) the rename is relative to it, so a folder swapped for a
    symlink meanwhile cannot redirect it."""
    trashed.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    info.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    text = (f"[Trash Info]\nPath={quote(str(path), safe='/')}\n"
            f"DeletionDate={time.strftime('%Y-%m-%dT%H:%M:%S')}\n")
    fd = os.open(info, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        if dir_fd is None:
            os.rename(path, trashed)
        else:
            os.rename(path.name, trashed, src_dir_fd=dir_fd)
    except OSError:
        info.unlink(missing_ok=True)
        raise


def other_volume(path: Path) -> tuple[Path, Path]:
    """Trash ``path`` on a volume other than home's (send2trash knows those trash folders); return where it
    went, found by its .trashinfo."""
    plat_other = _send2trash_for_current_env()
    before = time.time()
    plat_other.send2trash(str(path))
    found = locate(path, since=before)
    if found is None:
        raise TrashError(f"{path} was moved to the trash but could not be found there to record for undo")
    return found


def locate(path: Path, since: float) -> tuple[Path, Path] | None:
    """The newest trash entry for ``path`` made after ``since`` (-2 s of clock slack), if any."""
    for trash_dir in _trash_dirs(path):
        info_dir = trash_dir / "info"
        if not info_dir.is_dir():
            continue
        candidates = [info for info in info_dir.glob("*.trashinfo")
                      if info.stat().st_mtime + 2 >= since and _trashinfo_path(info) == str(path)]
        if candidates:
            info = max(candidates, key=lambda p: p.stat().st_mtime)
            return trash_dir / "files" / info.name[: -len(".trashinfo")], info
    return None


def _device(path: Path) -> int:
    while not path.exists():
        path = path.parent
    return path.stat().st_dev


def _send2trash_for_current_env() -> Any:
    """send2trash's XDG backend reads XDG_DATA_HOME once, at import; a process whose environment changed
    since (a long-lived host, the test suite) must not trash into a stale location."""
    import importlib

    from send2trash import plat_other

    current = os.path.expanduser(os.environ.get("XDG_DATA_HOME", "~/.local/share"))
    if os.fsdecode(plat_other.XDG_DATA_HOME) != current:
        plat_other = importlib.reload(plat_other)
    return plat_other


def _trash_dirs(path: Path) -> list[Path]:
    dirs = [home_trash()]
    mount = path.parent
    while not os.path.ismount(mount):
        mount = mount.parent
    uid = os.getuid()
    return [*dirs, mount / ".Trash" / str(uid), mount / f".Trash-{uid}"]


def _trashinfo_path(info: Path) -> str | None:
    for line in info.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("Path="):
            value = unquote(line[len("Path="):])
            return value if value.startswith("/") else str(info.parent.parent.parent / value)
    return None
