"""Looking: list a folder, draw a tree, describe one path, read a file. Secrets are never shown."""

from __future__ import annotations

import mimetypes
import os
import stat as stat_module
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from llmos.paths import display
from llmos.servers.common import ToolError, cap
from llmos.servers.filesystem import safe_io
from llmos.servers.filesystem.models import Entry, FileText, Listing, PathArg, StatResult, TreeResult
from llmos.servers.filesystem.state import MAX_READ_BYTES, Fs, iso, kind, lstat

MAX_LIST_SCAN = 50_000  # entries list_directory looks at in one folder


def decode(data: bytes) -> tuple[str, str] | None:
    """(text, encoding), or None for binary data."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), "utf-16"
    if b"\x00" in data[:8192]:
        return None
    for encoding in ("utf-8-sig", "utf-8"):
        try:
            return data.decode(encoding), "utf-8"
        except UnicodeDecodeError as exc:
            if exc.start >= len(data) - 3:  # a read cut a multi-byte character in half
                return data[: exc.start].decode(encoding), "utf-8"
    return data.decode("cp1252", errors="replace"), "cp1252"


def _visible_entries(fs: Fs, folder: Path, show_hidden: bool) -> tuple[list[Entry], bool]:
    entries: list[Entry] = []
    truncated = False
    with os.scandir(folder) as it:
        for n, e in enumerate(it):
            if n >= MAX_LIST_SCAN:
                truncated = True
                break
            if not show_hidden and e.name.startswith("."):
                continue
            try:
                st = e.stat(follow_symlinks=False)
            except OSError:
                continue
            if fs.sandbox.is_secret(folder / e.name, st):
                continue  # a credential is not even named
            entries.append(Entry(name=e.name, path=display(folder / e.name), type=kind(st),
                                 size=st.st_size, modified=iso(st.st_mtime)))
    return entries, truncated


def list_directory(
    fs: Fs,
    path: PathArg = ".",
    show_hidden: Annotated[bool, Field(description="Include names starting with a dot")] = False,
    sort: Annotated[Literal["name", "size", "time"], Field(description="Order: name, size (largest first) "
                                                           "or time (newest first)")] = "name",
    limit: Annotated[int, Field(ge=1, le=1000, description="Most entries to return")] = 100,
) -> Listing:
    """List a folder's contents with sizes and modification times. Use to see what is in a folder."""
    folder = fs.existing(path)
    if not folder.is_dir():
        raise ToolError(f"{display(folder)} is a file, not a folder.")
    entries, truncated = _visible_entries(fs, folder, show_hidden)
    keys = {"name": lambda x: x.name.lower(), "size": lambda x: -x.size, "time": lambda x: x.modified}
    entries.sort(key=keys[sort], reverse=(sort == "time"))
    shown, more = cap(entries, limit)
    note = f"Only the first {MAX_LIST_SCAN:,} entries of this folder were looked at." if truncated else None
    return Listing(path=display(folder), entries=shown, more=more, note=note)


def tree(
    fs: Fs,
    path: PathArg = ".",
    depth: Annotated[int, Field(ge=1, le=6, description="How many levels deep")] = 2,
    limit: Annotated[int, Field(ge=1, le=2000, description="Most lines")] = 200,
) -> TreeResult:
    """Show a folder and its subfolders as an indented tree. Use for an overview of a project."""
    root = fs.existing(path)
    lines: list[str] = [display(root)]
    total = 0

    def children_of(folder: Path) -> list[tuple[str, bool]]:
        found = []
        with os.scandir(folder) as it:
            for n, child in enumerate(it):
                if n >= MAX_LIST_SCAN:
                    break
                try:
                    st = child.stat(follow_symlinks=False)
                except OSError:
                    continue
                if not child.name.startswith(".") and not fs.sandbox.is_secret(folder / child.name, st):
                    found.append((child.name, stat_module.S_ISDIR(st.st_mode)))
        return sorted(found, key=lambda c: (not c[1], c[0].lower()))

    def walk(folder: Path, prefix: str, level: int) -> None:
        nonlocal total
        try:
            children = children_of(folder)
        except OSError:
            return
        for i, (name, is_dir) in enumerate(children):
            total += 1
            last = i == len(children) - 1
            if len(lines) <= limit:
                lines.append(f"{prefix}{'└── ' if last else '├── '}{name}{'/' if is_dir else ''}")
            if is_dir and level < depth and total < limit * 4:
                walk(folder / name, prefix + ("    " if last else "│   "), level + 1)

    walk(root, "", 1)
    return TreeResult(path=display(root), tree="\n".join(lines[: limit + 1]), more=max(0, total - limit))


def stat(fs: Fs, path: PathArg) -> StatResult:
    """Details of one file or folder: type, size, when it was last changed (modified), permissions, owner."""
    target = fs.existing(path)
    st = lstat(target)
    try:
        import pwd

        owner = pwd.getpwuid(st.st_uid).pw_name
    except (KeyError, ImportError):
        owner = str(st.st_uid)
    return StatResult(path=display(target), type=kind(st), size=st.st_size, modified=iso(st.st_mtime),
                      permissions=stat_module.filemode(st.st_mode), owner=owner,
                      symlink_target=os.readlink(target) if target.is_symlink() else None,
                      mime_type=mimetypes.guess_type(target.name)[0])


def read_file(
    fs: Fs,
    path: PathArg,
    offset: Annotated[int, Field(ge=0, description="Byte offset to start at")] = 0,
    limit: Annotated[int, Field(ge=1, le=MAX_READ_BYTES, description="Most bytes to read")] = 32 * 1024,
) -> FileText:
    """Read a text file (or part of a large one, with offset and limit). Binary files are described."""
    target = fs.existing(path)
    if target.is_dir():
        raise ToolError(f"{display(target)} is a folder; use list_directory to see inside it.")
    data, total = safe_io.read_capped(fs.sandbox, target, offset, min(limit, MAX_READ_BYTES))
    decoded = decode(data)
    if decoded is None:
        what = mimetypes.guess_type(target.name)[0] or "binary data"
        return FileText(path=display(target), text=None, encoding=None, offset=offset, bytes_read=0,
                        total_bytes=total, next_offset=None, binary=True,
                        description=f"{what}, {total:,} bytes — not shown as text")
    text, encoding = decoded
    read = len(text.encode("utf-8")) if encoding == "utf-8" else len(data)
    end = offset + read
    return FileText(path=display(target), text=text, encoding=encoding, offset=offset, bytes_read=read,
                    total_bytes=total, next_offset=end if end < total else None)
