"""Writing: create, replace and add to files, make folders, copy. Each change is journaled write-ahead so
`llmos undo` can reverse it (or finish reversing it after a crash). The additive tools (create_file,
make_directory, copy), which the gate runs unasked, refuse places where a file makes code run later."""

from __future__ import annotations

import os
import shutil
import stat as stat_module
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from pydantic import Field

from llmos.paths import display
from llmos.servers.common import ToolError
from llmos.servers.filesystem import safe_io
from llmos.servers.filesystem.models import Changed, PathArg
from llmos.servers.filesystem.reverse import fingerprint, mark_made
from llmos.servers.filesystem.state import (MAX_COPY_BYTES, MAX_COPY_FILES, MAX_WRITE_BYTES, Fs, check_backup_size,
                                           lstat)
from llmos.servers.sandbox import measure, not_found


def _encoded(content: str) -> bytes:
    data = content.encode("utf-8", errors="surrogateescape")
    if len(data) > MAX_WRITE_BYTES:
        raise ToolError(f"That is {len(data):,} bytes; llmos writes at most {MAX_WRITE_BYTES:,} bytes at once.")
    return data


def _create(fs: Fs, target: Path, content: str) -> Changed:
    data = _encoded(content)
    if not target.parent.is_dir():
        raise not_found(target.parent)
    if target.exists() or target.is_symlink():
        raise ToolError(f"{display(target)} already exists; use write_file to replace it.")
    with fs.journal.recording("create", f"created {display(target)}", path=str(target), is_dir=False) as entry:
        safe_io.write_new(fs.sandbox, target, data)
        entry.after["after"] = fingerprint(target)
    return Changed(path=display(target), action="created", undo_id=entry.id, size=len(data))


def _make_folders(fs: Fs, target: Path) -> str | None:
    """Make ``target`` and its missing parents, one journal entry each (outermost first, so undo — newest
    first — removes the innermost first); the last entry's id."""
    missing = [target, *[p for p in target.parents if not p.exists()]]
    entry_id = None
    for folder in reversed(missing):
        with fs.journal.recording("mkdir", f"created folder {display(folder)}", path=str(folder)) as entry:
            with safe_io.open_folder(fs.sandbox, folder.parent) as parent:  # no symlink swapped in on the way
                os.mkdir(folder.name, dir_fd=parent)
            entry.after["after"] = {**(fingerprint(folder) or {}), "marker": mark_made(folder, entry.id)}
        entry_id = entry.id
    return entry_id


def create_file(fs: Fs, path: PathArg, content: Annotated[str, Field(description="The text to write")]) -> Changed:
    """Create a new text file. Refuses if the file already exists (use write_file to replace one)."""
    return _create(fs, fs.writable_new(path), content)


def _existing_regular(fs: Fs, target: Path) -> os.stat_result:
    st = lstat(target)
    if not stat_module.S_ISREG(st.st_mode):
        raise ToolError(f"{display(target)} is {safe_io.kind_of(st)}, not a regular file.")
    if fs.sandbox.is_secret(target, st):
        raise ToolError(f"{display(target)} is the same file as a credential; llmos does not change it.")
    if safe_io.other_names(st):  # one of its other names may be a credential or a start-up file
        raise safe_io.linked_refusal(target, st)
    if str(target) in safe_io.mount_points():
        raise safe_io.mounted_refusal(target)
    return st


def _overwrite(fs: Fs, target: Path, content: str, append: bool) -> Changed:
    data = _encoded(content)
    _existing_regular(fs, target)
    check_backup_size(target)
    backup = fs.journal.backup(target)
    what = "appended to" if append else "overwrote"
    with fs.journal.recording("overwrite", f"{what} {display(target)}", path=str(target),
                              backup=str(backup)) as entry:
        safe_io.write_over(fs.sandbox, target, data, append=append)
        entry.after["after"] = fingerprint(target)
    return Changed(path=display(target), action="appended" if append else "overwritten", undo_id=entry.id,
                   size=target.stat().st_size)


def write_file(fs: Fs, path: PathArg, content: Annotated[str, Field(description="The new full text")]) -> Changed:
    """Replace a file's whole content (a backup is kept; undoable). Creates the file if missing."""
    target = fs.sandbox.resolve(path, write=True)
    if target.is_dir():
        raise ToolError(f"{display(target)} is a folder, not a file.")
    if not target.exists() and not target.is_symlink():
        if not target.parent.exists():
            _make_folders(fs, target.parent)
        return _create(fs, target, content)
    return _overwrite(fs, target, content, append=False)


def append_file(fs: Fs, path: PathArg,
                content: Annotated[str, Field(description="Text to add at the end")]) -> Changed:
    """Add text to the end of a file (a backup is kept; undoable)."""
    target = fs.existing(path, write=True)
    return _overwrite(fs, target, content, append=True)


def make_directory(fs: Fs, path: PathArg) -> Changed:
    """Create a folder (and any missing parent folders)."""
    target = fs.writable_new(path)
    if target.exists() or target.is_symlink():
        raise ToolError(f"{display(target)} already exists.")
    return Changed(path=display(target), action="created folder", undo_id=_make_folders(fs, target))


def _skip_special_and_secret(fs: Fs) -> Callable[[str, list[str]], set[str]]:
    """copytree's ``ignore``: credentials, files with other names (hard links), FIFOs, sockets and devices are
    not copied."""
    mounts = safe_io.mount_points()

    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = set()
        for name in names:
            path = Path(folder) / name
            try:
                st = path.lstat()
            except OSError:
                skipped.add(name)
                continue
            regular = stat_module.S_ISREG(st.st_mode) or stat_module.S_ISDIR(st.st_mode)
            if not (regular or stat_module.S_ISLNK(st.st_mode)) or safe_io.other_names(st) or \
                    str(path) in mounts or fs.sandbox.is_secret(path, st):
                skipped.add(name)
        return skipped
    return ignore


def copy(fs: Fs, source: PathArg, destination: PathArg) -> Changed:
    """Copy a file or folder. Refuses to replace an existing destination."""
    src = fs.existing(source)
    dst = fs.writable_new(destination)
    if dst.is_dir():
        dst = fs.writable_new(str(dst / src.name))
    if dst.exists() or dst.is_symlink():
        raise ToolError(f"{display(dst)} already exists; copying would replace it.")
    is_dir = src.is_dir()
    if is_dir:
        files, size = measure(src, MAX_COPY_FILES + 1)
        if files > MAX_COPY_FILES or size > MAX_COPY_BYTES:
            raise ToolError(f"{display(src)} holds {files:,} files, {size:,} bytes; llmos copies at most "
                            f"{MAX_COPY_FILES:,} files and {MAX_COPY_BYTES:,} bytes at once.")
    else:
        _existing_regular(fs, src)
    with fs.journal.recording("create", f"copied {display(src)} to {display(dst)}", path=str(dst),
                              is_dir=is_dir) as entry:
        if is_dir:
            shutil.copytree(src, dst, symlinks=True, ignore=_skip_special_and_secret(fs),
                            copy_function=lambda s, d: safe_io.copy_file(fs.sandbox, Path(s), Path(d),
                                                                         MAX_COPY_BYTES))
        else:
            safe_io.copy_file(fs.sandbox, src, dst, MAX_COPY_BYTES)
        entry.after["after"] = {**(fingerprint(dst) or {}), "marker": mark_made(dst, entry.id) if is_dir else None}
    return Changed(path=display(dst), action="copied", undo_id=entry.id, source=display(src))
