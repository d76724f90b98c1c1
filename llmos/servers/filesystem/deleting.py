"""Moving and deleting. A symlink is moved or deleted as the link, never its target; the home folder, an
allowed root and `/` (and any folder holding one) are refused outright, whatever was approved."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

from pydantic import Field

from llmos.paths import display
from llmos.servers.common import ToolError
from llmos.servers.filesystem import safe_io, trash
from llmos.servers.filesystem.models import Changed, PathArg
from llmos.servers.filesystem.reverse import fingerprint
from llmos.servers.filesystem.state import Fs, check_backup_size, lstat


def _refuse_floor(fs: Fs, target: Path, verb: str) -> None:
    reason = fs.sandbox.is_floor_target(target)
    if reason:
        raise ToolError(f"llmos will not {verb} {display(target)}: {reason}. Choose what inside it should go.")


def move(fs: Fs, source: PathArg, destination: PathArg,
         overwrite: Annotated[bool, Field(description="Replace an existing destination (kept as a backup)")]
         = False) -> Changed:
    """Move or rename a file or folder (undoable)."""
    src = fs.existing(source, write=True, follow=False)
    _refuse_floor(fs, src, "move")
    dst = fs.sandbox.resolve(destination, write=True)
    if dst.is_dir() and not dst.is_symlink():
        dst = fs.sandbox.resolve(str(dst / src.name), write=True, follow=False)
    if dst == src:
        raise ToolError("The source and destination are the same.")
    if src in dst.parents:
        raise ToolError(f"{display(src)} cannot be moved into itself.")
    replaced = None
    if dst.exists() or dst.is_symlink():
        if not overwrite:
            raise ToolError(f"{display(dst)} already exists; set overwrite to replace it.")
        _refuse_floor(fs, dst, "replace")
        links = lstat(dst).st_nlink
        if not dst.is_dir() and links > 1:  # the backup could not bring back the other names of the file
            raise ToolError(f"{display(dst)} has {links} names (hard links); replacing it by a move could not be "
                            "undone faithfully. Move it away first, or use write_file to change its content.")
        check_backup_size(dst)
        replaced = fs.journal.backup(dst)
    with fs.journal.recording("move", f"moved {display(src)} to {display(dst)}", source=str(src),
                              destination=str(dst), replaced_backup=str(replaced) if replaced else None) as entry:
        if replaced is not None:
            shutil.rmtree(dst) if dst.is_dir() and not dst.is_symlink() else dst.unlink()
        shutil.move(src, dst)
        entry.after["after"] = fingerprint(dst)
    return Changed(path=display(dst), action="moved", undo_id=entry.id, source=display(src))


def delete(fs: Fs, path: PathArg) -> Changed:
    """Delete a file or folder by moving it to the trash (undoable with `llmos undo`)."""
    target = fs.existing(path, write=True, follow=False)
    _refuse_floor(fs, target, "delete")
    size = lstat(target).st_size
    summary = f"moved {display(target)} to the trash"
    planned = trash.plan(target)
    if planned is not None:
        trashed, info = planned
        with (safe_io.open_folder(fs.sandbox, target.parent) as folder,
              fs.journal.recording("trash", summary, path=str(target), trash_file=str(trashed),
                                   trash_info=str(info)) as entry):
            trash.move(target, trashed, info, dir_fd=folder)  # relative to the folder: no symlink swapped in
    else:  # another volume: its own trash folder, found after the move
        with fs.journal.recording("trash", summary, path=str(target)) as entry:
            trashed, info = trash.other_volume(target)
            entry.after.update(trash_file=str(trashed), trash_info=str(info))
    return Changed(path=display(target), action="moved to trash", undo_id=entry.id, size=size)


def delete_permanently(fs: Fs, path: PathArg) -> Changed:
    """Delete a file or folder for good, skipping the trash. Cannot be undone: prefer delete."""
    target = fs.existing(path, write=True, follow=False)
    _refuse_floor(fs, target, "permanently delete")
    with fs.journal.recording("delete_permanently", f"permanently deleted {display(target)}",
                              path=str(target)) as entry:
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        else:
            target.unlink()
    return Changed(path=display(target), action="deleted permanently", undo_id=entry.id, reversible=False)
