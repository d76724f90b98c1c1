"""Reversing one journaled action, without ever discarding what changed after it.

Each action records a fingerprint of what it left behind (device, inode, type, size, mtime, and a hash for
files up to 16 MiB). Undo compares the path's state now with that fingerprint: a difference means the person
(or a program) changed it since, and undo refuses with `Conflict` instead of overwriting or deleting their
work. An *interrupted* action (the process died between the journal's write-ahead line and its completion)
has no fingerprint; its reverser works out from the files how far it got. Each reverser returns a note for
the person, or None; `CannotUndo` means the entry can be skipped (the trash was emptied, a backup is gone).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat as stat_module
import time
from pathlib import Path
from typing import Any

from llmos.servers.filesystem import trash
from llmos.servers.undo import CannotUndo, Conflict, NothingToUndo

_HASH_LIMIT = 16 * 1024 * 1024
_INTERRUPTED_SLACK_S = 60  # an interrupted write's own mtime is within this of its journal line


def fingerprint(path: Path) -> dict[str, Any] | None:
    """What undo later checks to know ``path`` is still what the action left; None if it does not exist."""
    try:
        st = path.lstat()
    except OSError:
        return None
    kind = "dir" if stat_module.S_ISDIR(st.st_mode) else "link" if stat_module.S_ISLNK(st.st_mode) else "file"
    found: dict[str, Any] = {"type": kind, "dev": st.st_dev, "ino": st.st_ino, "mtime_ns": st.st_mtime_ns}
    if kind == "file":
        found["size"] = st.st_size
        if st.st_size <= _HASH_LIMIT:
            found["sha256"] = _sha256(path)
    elif kind == "link":
        found["target"] = os.readlink(path)
    return found


def _sha256(path: Path) -> str | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    digest = hashlib.sha256()
    with os.fdopen(fd, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def unchanged(path: Path, recorded: dict[str, Any] | None) -> bool:
    """Is ``path`` exactly as the action left it? (No fingerprint recorded: an older journal; trust it.)"""
    if not recorded:
        return True
    now = fingerprint(path)
    if now is None:
        return False
    # A folder is known by identity (its mtime changes whenever llmos itself adds to it); a folder made later
    # on a reused inode is told apart by the marker llmos put on the one it made (see mark_made).
    keys = ("type", "dev", "ino", "size", "sha256", "target") if recorded["type"] != "dir" else ("type", "dev", "ino")
    if any(now.get(k) != recorded.get(k) for k in keys if k in recorded):
        return False
    if recorded["type"] == "dir":
        return not recorded.get("marker") or _marker(path) == recorded["marker"]
    return "sha256" in recorded or now["mtime_ns"] == recorded["mtime_ns"]


_MARKER = "user.llmos.made"


def mark_made(path: Path, entry_id: str) -> str | None:
    """Tag a folder llmos made with its journal id (an extended attribute), so undo can tell it from a folder
    made later at the same path; None where the filesystem has no user attributes."""
    try:
        os.setxattr(path, _MARKER, entry_id.encode(), follow_symlinks=False)
    except OSError:
        return None
    return entry_id


def _marker(path: Path) -> str | None:
    try:
        return os.getxattr(path, _MARKER, follow_symlinks=False).decode()
    except OSError:
        return None


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def _free(path: Path) -> None:
    if _exists(path):
        raise Conflict(f"cannot undo: {path} exists again; move it away first, then run llmos undo again")


def _conflict_unless(force: bool, path: Path, what: str) -> None:
    """Something changed ``path`` after the action: stop, unless the person said to go on (a yes at the
    terminal), in which case the later version is kept in the trash, never discarded."""
    if not force:
        raise Conflict(f"cannot undo: {path} has changed since llmos {what} it, and undoing would discard that "
                       "change; move it away (or put it back as it was) and run llmos undo again")


def _keep_current(target: Path) -> str:
    """A copy of the later version of ``target`` in the trash, before undo replaces it; its name there."""
    keep = target.with_name(f"{target.name}.changed-{time.strftime('%Y%m%d-%H%M%S')}")
    shutil.copy2(target, keep, follow_symlinks=False)
    _to_trash(keep)
    return keep.name


# ---- one reverser per action -----------------------------------------------------------------------------

def undo_trash(data: dict[str, Any], interrupted: bool, force: bool = False) -> str | None:
    original = Path(data["path"])
    trashed = Path(data["trash_file"]) if data.get("trash_file") else None
    info = Path(data["trash_info"]) if data.get("trash_info") else None
    if trashed is None:  # another volume's trash: look it up
        found = trash.locate(original, since=float(data.get("started", 0)))
        if found is None:
            if interrupted and _exists(original):
                raise NothingToUndo(_nothing_happened(original))
            raise CannotUndo(f"{original} is not in the trash any more (was it emptied?)")
        trashed, info = found
    if not _exists(trashed):
        if interrupted and _exists(original):
            if info is not None:
                info.unlink(missing_ok=True)
            raise NothingToUndo(_nothing_happened(original))
        raise CannotUndo(f"{original} is no longer in the trash (was it emptied?)")
    _free(original)
    original.parent.mkdir(parents=True, exist_ok=True)
    os.rename(trashed, original) if _same_device(trashed, original.parent) else shutil.move(trashed, original)
    if info is not None:
        info.unlink(missing_ok=True)
    return "finished undoing an interrupted delete" if interrupted else None


def undo_overwrite(data: dict[str, Any], interrupted: bool, force: bool = False) -> str | None:
    target, backup = Path(data["path"]), Path(data["backup"])
    if not backup.exists():
        raise CannotUndo(f"the backup of {target} is gone")
    if interrupted:
        if _same_content(target, backup):
            shutil.rmtree(backup.parent, ignore_errors=True)
            raise NothingToUndo(_nothing_happened(target))
        if _exists(target) and target.lstat().st_mtime > float(data.get("started", 0)) + _INTERRUPTED_SLACK_S:
            _conflict_unless(force, target, "was writing")
    elif not unchanged(target, data.get("after")):
        _conflict_unless(force, target, "wrote")
    kept = _keep_current(target) if force and target.is_file() and not target.is_symlink() else None
    _restore_in_place(backup, target)
    shutil.rmtree(backup.parent, ignore_errors=True)
    if kept:
        return f"the version it replaced is in the trash as {kept}"
    return "restored a file whose write was interrupted" if interrupted else None


def _restore_in_place(backup: Path, target: Path) -> None:
    """Put the backup's content and metadata back *into the same file*: every hard link to it (and its
    owner, inode and ACLs) comes back as it was, not just this name."""
    st = target.lstat() if _exists(target) else None
    if st is not None and not stat_module.S_ISREG(st.st_mode):
        raise Conflict(f"cannot undo: {target} is no longer a regular file; move it away first")
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "wb") as out, open(backup, "rb") as source:
        shutil.copyfileobj(source, out)
        out.flush()
        os.fsync(out.fileno())
    shutil.copystat(backup, target, follow_symlinks=False)


def _same_content(a: Path, b: Path) -> bool:
    try:
        return a.is_file() and not a.is_symlink() and _sha256(a) == _sha256(b)
    except OSError:
        return False


def undo_move(data: dict[str, Any], interrupted: bool, force: bool = False) -> str | None:
    source, destination = Path(data["source"]), Path(data["destination"])
    replaced = Path(data["replaced_backup"]) if data.get("replaced_backup") else None
    if interrupted and _exists(source):  # the rename never happened
        if replaced is not None and replaced.exists() and not _exists(destination):
            shutil.move(replaced, destination)  # it had removed what it was replacing: put that back
        raise NothingToUndo(_nothing_happened(source))
    if not _exists(destination):
        raise CannotUndo(f"{destination} is gone")
    if not interrupted and not unchanged(destination, data.get("after")):
        _conflict_unless(force, destination, "moved")  # forced: a rename back, nothing is lost
    _free(source)
    shutil.move(destination, source)
    if replaced is not None and replaced.exists():  # the move had replaced a file: put it back
        shutil.move(replaced, destination)
        shutil.rmtree(replaced.parent, ignore_errors=True)
    return None


def undo_create(data: dict[str, Any], interrupted: bool, force: bool = False) -> str | None:
    target = Path(data["path"])
    if not _exists(target):
        if interrupted:
            raise NothingToUndo(_nothing_happened(target))
        return f"{target} was already gone"
    if interrupted:
        st, started = target.lstat(), float(data.get("started", 0))
        if st.st_mtime < started - 1 and not data.get("is_dir"):
            raise NothingToUndo(_nothing_happened(target))  # it was there before: not llmos's to remove
        late = st.st_mtime > started + _INTERRUPTED_SLACK_S
        if late or stat_module.S_ISDIR(st.st_mode) != bool(data.get("is_dir")):
            _conflict_unless(force, target, "was creating")
    elif not unchanged(target, data.get("after")):
        _conflict_unless(force, target, "created")  # forced: it goes to the trash, nothing is lost
    _to_trash(target)  # even undoing a create never destroys data: it goes to the trash
    return None


def undo_mkdir(data: dict[str, Any], interrupted: bool, force: bool = False) -> str | None:
    target = Path(data["path"])
    if not _exists(target):
        return None
    if any(target.iterdir()) if target.is_dir() and not target.is_symlink() else False:
        raise Conflict(f"cannot undo: {target} is no longer empty; llmos leaves what is in it alone")
    recorded = data.get("after")
    if recorded and not unchanged(target, recorded):  # made again later (even on a reused inode), or used
        raise CannotUndo(f"left {target} alone: it is a different folder, or was used, since llmos made it")
    if interrupted and target.lstat().st_ctime < float(data.get("started", 0)) - 1:
        raise NothingToUndo(_nothing_happened(target))  # it was there before the interrupted call
    try:
        target.rmdir()
    except OSError as exc:
        raise Conflict(f"cannot undo: {target} is no longer empty; llmos leaves what is in it alone") from exc
    return None


def undo_permanent(data: dict[str, Any], interrupted: bool, force: bool = False) -> str | None:
    raise CannotUndo("it was deleted permanently and cannot be undone")


def _nothing_happened(path: Path) -> str:
    return f"it was interrupted before it changed {path}; nothing to undo"


def _to_trash(path: Path) -> None:
    planned = trash.plan(path)
    if planned is None:
        trash.other_volume(path)
    else:
        trash.move(path, *planned)


def _same_device(a: Path, b: Path) -> bool:
    try:
        return a.lstat().st_dev == b.stat().st_dev
    except OSError:
        return False


REVERSERS = {"trash": undo_trash, "overwrite": undo_overwrite, "move": undo_move, "create": undo_create,
             "mkdir": undo_mkdir, "delete_permanently": undo_permanent}
