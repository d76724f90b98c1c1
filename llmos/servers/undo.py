"""The undo journal: every filesystem change llmos makes, with what is needed to reverse it.

Append-only JSON lines in the XDG state dir, each flushed and fsynced. Write-ahead: a change's line is
written *before* the change (state "pending", with everything needed to reverse or finish it), and a
``{"done": id}`` line after, carrying the fingerprint of what the change left. A crash between the two leaves
a pending entry that `llmos undo` finishes from the files, so undo never skips past an interrupted action to
reverse an older one. Overwritten content is kept as a backup next to the journal; deleted files go to the
XDG trash. A line that is torn, not JSON, or the wrong shape is reported (file:line) and skipped.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmos import jsonl, paths
from llmos.damaged import why_unwritable
from llmos.errors import LlmosError

ACTIONS = ("trash", "overwrite", "move", "create", "mkdir", "delete_permanently")
# What each action's data must hold (all strings): without these it cannot be reversed or reported.
_REQUIRED = {"trash": ("path",), "overwrite": ("path", "backup"), "move": ("source", "destination"),
             "create": ("path",), "mkdir": ("path",), "delete_permanently": ("path",)}


class UndoError(LlmosError):
    pass


class Conflict(UndoError):
    """Undoing would discard something that changed after the action: stop and let the person decide
    (``entry_id`` names the entry, for `undo(entry_id, force=True)` after their yes)."""

    entry_id: str | None = None


class CannotUndo(UndoError):
    """This entry can never be undone (trash emptied, backup gone, deleted permanently): skip it, say so."""


class NothingToUndo(CannotUndo):
    """An interrupted action that had not changed anything yet."""


@dataclass
class Entry:
    id: str
    ts: float
    action: str  # one of ACTIONS
    summary: str
    data: dict[str, Any]
    undone: bool = False
    state: str = "done"  # pending (interrupted, or in flight) | done | failed | skipped | undone
    note: str | None = None
    after: dict[str, Any] = field(default_factory=dict, repr=False)  # filled by the action, written on completion

    @property
    def reversible(self) -> bool:
        return self.action != "delete_permanently"


class UndoJournal:
    def __init__(self, directory: Path | None = None):
        self.directory = directory or paths.state_dir()
        self.file = self.directory / "undo.jsonl"
        self.backups = self.directory / "backups"
        self.problems: list[str] = []  # malformed lines found by the last read
        self.notes: list[str] = []  # what the last undo skipped, and why

    # ---- recording (write-ahead) -----------------------------------------------------------------------

    def begin(self, action: str, summary: str, **data: Any) -> Entry:
        """Journal ``action`` before doing it (fsynced), so a crash during it is found and finished by undo."""
        entry = Entry(uuid.uuid4().hex[:12], time.time(), action, summary, {**data, "started": time.time()},
                      state="pending")
        try:
            self._append({"id": entry.id, "ts": entry.ts, "action": action, "summary": summary,
                          "data": entry.data, "state": "pending"})
        except UndoError as exc:  # write-ahead: no journal line, no change
            raise UndoError(f"{exc}; nothing was changed") from exc
        return entry

    def complete(self, entry: Entry) -> None:
        self._append({"done": entry.id, "ts": time.time(), "data": entry.after})
        entry.data.update(entry.after)
        entry.state = "done"

    @contextlib.contextmanager
    def recording(self, action: str, summary: str, **data: Any) -> Iterator[Entry]:
        """``with journal.recording(...) as entry:`` do the change, put its fingerprint in ``entry.after``."""
        entry = self.begin(action, summary, **data)
        try:
            yield entry
        except Exception as exc:  # it failed part-way or not at all: undo works out which from the files
            self._append({"fail_of": entry.id, "ts": time.time(), "reason": str(exc)[:300]})
            raise
        self.complete(entry)

    def record(self, action: str, summary: str, **data: Any) -> Entry:
        """An action already done (nothing to interrupt): begin and complete at once."""
        entry = self.begin(action, summary, **data)
        self.complete(entry)
        return entry

    def backup(self, path: Path) -> Path:
        """A copy of ``path`` (content and metadata) to restore on undo."""
        target = self.backups / uuid.uuid4().hex[:12] / path.name
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if path.is_dir() and not path.is_symlink():
                shutil.copytree(path, target, symlinks=True)
            else:
                shutil.copy2(path, target, follow_symlinks=False)
        except OSError as exc:
            if isinstance(exc, FileNotFoundError) and not os.path.lexists(path):
                raise
            raise UndoError(f"cannot keep a backup of {path} in {self.backups}: {why_unwritable(target, exc)}; "
                            "nothing was changed") from exc
        return target

    def _append(self, record: dict[str, Any]) -> None:
        # fsynced: this line is what gets a file back after a crash of the machine, not only of llmos
        try:
            jsonl.append(self.file, record, durable=True)
        except OSError as exc:
            raise UndoError(f"cannot write the undo journal {self.file}: {why_unwritable(self.file, exc)}") from exc

    # ---- reading ---------------------------------------------------------------------------------------

    def entries(self) -> list[Entry]:
        """Oldest first. Malformed lines are skipped and described in ``self.problems``."""
        self.problems = []
        found: dict[str, Entry] = {}
        try:
            for line in jsonl.lines(self.file):
                problem = line.problem or self._apply(line.record or {}, found)
                if problem:
                    self.problems.append(f"{self.file}:{line.number}: {problem}; skipped")
        except OSError as exc:
            raise UndoError(f"cannot read the undo journal {self.file}: {exc.strerror or exc}") from exc
        return list(found.values())

    def _apply(self, record: dict[str, Any], found: dict[str, Entry]) -> str | None:
        for key, state in (("undo_of", "undone"), ("skip_of", "skipped"), ("fail_of", "failed"), ("done", "done")):
            if key in record:
                return _mark(record, key, state, found)
        entry = _entry(record)
        if isinstance(entry, str):
            return entry
        found[entry.id] = entry
        return None

    # ---- undoing ---------------------------------------------------------------------------------------

    def undo_last(self) -> Entry:
        """Undo the newest entry that can be undone; entries that never can are skipped with a note."""
        return self.undo(None)

    def undo(self, entry_id: str | None = None, force: bool = False) -> Entry:
        """Undo entry ``entry_id``, or the newest that can be undone. ``force`` (only after the person's yes):
        go on although the path changed since; the later version is kept in the trash."""
        self.notes = []
        entries = self.entries()
        if entry_id:
            entry = _find(entries, entry_id)
            if entry.undone:
                raise UndoError(f"{entry.id} ({entry.summary}) was already undone")
            self._reverse(entry, force)
            return entry
        for entry in reversed(entries):
            if entry.undone or entry.state == "skipped":
                continue
            try:
                self._reverse(entry)
            except Conflict as exc:  # the person decides; older entries stay reachable by id
                conflict = Conflict(f"{exc} (or undo an older change instead: llmos undo --list, then llmos undo ID)")
                conflict.entry_id = entry.id
                raise conflict from None
            except CannotUndo as exc:
                quiet = isinstance(exc, NothingToUndo) and entry.state == "failed"
                if not quiet:
                    self.notes.append(f"skipped {entry.id} ({entry.summary}): {exc}")
                self._append({"skip_of": entry.id, "ts": time.time(), "reason": str(exc)[:300]})
                continue
            return entry
        raise UndoError("nothing to undo" + "".join(f"; {note}" for note in self.notes))

    def _reverse(self, entry: Entry, force: bool = False) -> None:
        from llmos.servers.filesystem.reverse import REVERSERS

        try:
            note = REVERSERS[entry.action](entry.data, entry.state in ("pending", "failed"), force)
        except Conflict as exc:
            exc.entry_id = entry.id
            raise
        except OSError as exc:
            raise UndoError(f"cannot undo {entry.summary}: {(exc.strerror or str(exc)).lower()}") from exc
        if note:
            self.notes.append(f"{entry.id}: {note}")
        self._append({"undo_of": entry.id, "ts": time.time(), **({"note": note} if note else {})})
        entry.undone, entry.state = True, "undone"


def _mark(record: dict[str, Any], key: str, state: str, found: dict[str, Entry]) -> str | None:
    target = record[key]
    if not isinstance(target, str):
        return f'"{key}" is not an entry id'
    if target not in found:
        return f'"{key}" names an entry that is not in the journal ({target})'
    entry = found[target]
    if state == "done":
        extra = record.get("data", {})
        if not isinstance(extra, dict):
            return '"data" is not an object'
        entry.data.update(extra)
        if entry.state == "pending":
            entry.state = "done"
        return None
    if state == "failed" and entry.state != "pending":
        return None
    entry.state = state
    entry.undone = entry.undone or state == "undone"
    entry.note = record.get("reason") if isinstance(record.get("reason"), str) else entry.note
    return None


def _entry(record: dict[str, Any]) -> Entry | str:
    """An action line as an Entry, or what is wrong with it."""
    types = {"id": str, "action": str, "summary": str, "data": dict}
    for key, kind in types.items():
        if not isinstance(record.get(key), kind):
            return f'"{key}" is missing or not a {kind.__name__}'
    if not isinstance(record.get("ts"), int | float) or isinstance(record.get("ts"), bool):
        return '"ts" is missing or not a number'
    if record["action"] not in ACTIONS:
        return f'unknown action {record["action"]!r}'
    for key in _REQUIRED[record["action"]]:
        if not isinstance(record["data"].get(key), str) or not record["data"][key]:
            return f'"data.{key}" is missing or not a path'
    state = "pending" if record.get("state") == "pending" else "done"
    return Entry(record["id"], float(record["ts"]), record["action"], record["summary"], record["data"],
                 state=state)


def _find(entries: list[Entry], entry_id: str) -> Entry:
    matches = [e for e in entries if e.id.startswith(entry_id)]
    if not matches:
        raise UndoError(f"no entry {entry_id!r} in the undo journal (see llmos undo --list)")
    if len(matches) > 1:
        raise UndoError(f"{entry_id!r} matches {len(matches)} entries; give more of the id")
    return matches[0]
