"""The undo journal: every destructive filesystem action, with what is needed to reverse it.

Append-only JSON lines in the XDG state dir, one line per action and one per undo, each written and
flushed before the call returns, so the journal survives crashes. Overwritten content is kept as a
backup file next to the journal; deleted files are in the XDG trash.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from llmos import paths
from llmos.errors import LlmosError


class UndoError(LlmosError):
    pass


@dataclass
class Entry:
    id: str
    ts: float
    action: str  # trash | overwrite | move | create | mkdir | delete_permanently
    summary: str
    data: dict[str, Any]
    undone: bool = False

    @property
    def reversible(self) -> bool:
        return self.action != "delete_permanently"


class UndoJournal:
    def __init__(self, directory: Path | None = None):
        self.directory = directory or paths.state_dir()
        self.file = self.directory / "undo.jsonl"
        self.backups = self.directory / "backups"

    # ---- recording -------------------------------------------------------------------------------------

    def record(self, action: str, summary: str, **data: Any) -> Entry:
        entry = Entry(uuid.uuid4().hex[:12], time.time(), action, summary, data)
        self._append({"id": entry.id, "ts": entry.ts, "action": action, "summary": summary, "data": data})
        return entry

    def backup(self, path: Path) -> Path:
        """A copy of ``path`` (content and metadata) to restore on undo."""
        target = self.backups / uuid.uuid4().hex[:12] / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir() and not path.is_symlink():
            shutil.copytree(path, target, symlinks=True)
        else:
            shutil.copy2(path, target, follow_symlinks=False)
        return target

    def _append(self, record: dict[str, Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.file, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())

    # ---- reading ---------------------------------------------------------------------------------------

    def entries(self) -> list[Entry]:
        """Oldest first; a line that a crash left half-written is skipped, never fatal."""
        if not self.file.exists():
            return []
        found: dict[str, Entry] = {}
        for line in self.file.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if "undo_of" in record:
                if record["undo_of"] in found:
                    found[record["undo_of"]].undone = True
            elif "id" in record:
                found[record["id"]] = Entry(record["id"], record["ts"], record["action"], record["summary"],
                                            record["data"])
        return list(found.values())

    # ---- undoing ---------------------------------------------------------------------------------------

    def undo_last(self) -> Entry:
        for entry in reversed(self.entries()):
            if entry.undone:
                continue
            if not entry.reversible:
                raise UndoError(f"the last action cannot be undone: {entry.summary} (deleted permanently)")
            _REVERSERS[entry.action](entry.data)
            self._append({"undo_of": entry.id, "ts": time.time()})
            return entry
        raise UndoError("nothing to undo")


def _free(path: Path) -> None:
    if path.exists() or path.is_symlink():
        raise UndoError(f"cannot undo: {path} exists again; move it away first")


def _undo_trash(data: dict[str, Any]) -> None:
    original, trashed, info = Path(data["path"]), Path(data["trash_file"]), Path(data["trash_info"])
    if not trashed.exists() and not trashed.is_symlink():
        raise UndoError(f"cannot undo: {original} is no longer in the trash (was it emptied?)")
    _free(original)
    original.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(trashed, original)  # a rename on one filesystem: content and metadata come back unchanged
    info.unlink(missing_ok=True)


def _undo_overwrite(data: dict[str, Any]) -> None:
    target, backup = Path(data["path"]), Path(data["backup"])
    if not backup.exists():
        raise UndoError(f"cannot undo: the backup of {target} is gone")
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    elif target.exists() or target.is_symlink():
        target.unlink()
    shutil.move(backup, target)


def _undo_move(data: dict[str, Any]) -> None:
    source, destination = Path(data["source"]), Path(data["destination"])
    if not destination.exists() and not destination.is_symlink():
        raise UndoError(f"cannot undo: {destination} is gone")
    _free(source)
    shutil.move(destination, source)
    if data.get("replaced_backup"):  # the move had replaced a file at the destination: put it back
        shutil.move(data["replaced_backup"], destination)


def _undo_create(data: dict[str, Any]) -> None:
    target = Path(data["path"])
    if target.exists():
        _send2trash_for_current_env().send2trash(str(target))  # even undoing a create never destroys data


def _undo_mkdir(data: dict[str, Any]) -> None:
    target = Path(data["path"])
    try:
        target.rmdir()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise UndoError(f"cannot undo: {target} is no longer empty") from exc


_REVERSERS = {"trash": _undo_trash, "overwrite": _undo_overwrite, "move": _undo_move, "create": _undo_create,
              "mkdir": _undo_mkdir}


def trash(path: Path) -> tuple[Path, Path]:
    """Move ``path`` to the XDG trash; return (file in trash, its .trashinfo) so undo can restore it."""
    plat_other = _send2trash_for_current_env()
    before = time.time()
    plat_other.send2trash(str(path))
    for trash_dir in _trash_dirs(path, Path(plat_other.HOMETRASH)):
        info_dir = trash_dir / "info"
        if not info_dir.is_dir():
            continue
        candidates = []
        for info in info_dir.glob("*.trashinfo"):
            if info.stat().st_mtime + 2 < before:
                continue
            if _trashinfo_path(info) == str(path):
                candidates.append(info)
        if candidates:
            info = max(candidates, key=lambda p: p.stat().st_mtime)
            return trash_dir / "files" / info.name[: -len(".trashinfo")], info
    raise UndoError(f"{path} was moved to the trash but could not be found there to record for undo")


def _send2trash_for_current_env():
    """send2trash's XDG backend reads XDG_DATA_HOME once, at import; a process whose environment changed
    since (a long-lived host, the test suite) must not trash into a stale location."""
    import importlib

    from send2trash import plat_other

    current = os.path.expanduser(os.environ.get("XDG_DATA_HOME", "~/.local/share"))
    if os.fsdecode(plat_other.XDG_DATA_HOME) != current:
        plat_other = importlib.reload(plat_other)
    return plat_other


def _trash_dirs(path: Path, home_trash: Path) -> list[Path]:
    dirs = [home_trash]
    mount = path.parent
    while not os.path.ismount(mount):
        mount = mount.parent
    uid = os.getuid()
    dirs += [mount / ".Trash" / str(uid), mount / f".Trash-{uid}"]
    return dirs


def _trashinfo_path(info: Path) -> str | None:
    for line in info.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("Path="):
            value = unquote(line[len("Path="):])
            return value if value.startswith("/") else str(info.parent.parent.parent / value)
    return None
