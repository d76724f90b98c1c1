"""The filesystem server: look at, search, change and delete files — inside allowed roots, reversibly."""

from __future__ import annotations

import fnmatch
import heapq
import mimetypes
import os
import re
import shutil
import stat as stat_module
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from llmos.servers.common import ADDITIVE, DESTRUCTIVE, READ_ONLY, ToolError, cap, new_server
from llmos.servers.sandbox import Sandbox, display, not_found
from llmos.servers.undo import UndoJournal, trash

PathArg = Annotated[str, Field(description="A file or folder path: absolute, relative, or starting with ~")]
MAX_READ_BYTES = 256 * 1024


class Entry(BaseModel):
    name: str
    path: str
    type: Literal["file", "directory", "symlink", "other"]
    size: int
    modified: str


class Listing(BaseModel):
    path: str
    entries: list[Entry]
    more: int = Field(description="How many further entries were left out")


class TreeResult(BaseModel):
    path: str
    tree: str
    more: int


class StatResult(BaseModel):
    path: str
    type: str
    size: int
    modified: str
    permissions: str
    owner: str
    symlink_target: str | None = None
    mime_type: str | None = None


class FileText(BaseModel):
    path: str
    text: str | None = Field(description="The text read; null for binary files")
    encoding: str | None
    offset: int
    bytes_read: int
    total_bytes: int
    next_offset: int | None = Field(description="Offset to continue reading from; null at end of file")
    binary: bool = False
    description: str | None = None


class Matches(BaseModel):
    path: str
    paths: list[str]
    more: int


class ContentMatch(BaseModel):
    path: str
    line_number: int
    line: str


class ContentMatches(BaseModel):
    path: str
    matches: list[ContentMatch]
    more: int
    files_skipped: int = Field(description="Binary or very large files not searched")


class SizedPath(BaseModel):
    path: str
    size: int


class Largest(BaseModel):
    path: str
    files: list[SizedPath]


class DiskUsage(BaseModel):
    path: str
    total_bytes: int
    files: int
    largest_children: list[SizedPath]


class Changed(BaseModel):
    path: str
    action: str
    undo_id: str | None = Field(None, description="Journal entry; `llmos undo` reverses it")
    reversible: bool = True
    source: str | None = None
    size: int | None = None


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).astimezone().isoformat(timespec="seconds")


def _kind(st: os.stat_result) -> Literal["file", "directory", "symlink", "other"]:
    if stat_module.S_ISLNK(st.st_mode):
        return "symlink"
    if stat_module.S_ISDIR(st.st_mode):
        return "directory"
    return "file" if stat_module.S_ISREG(st.st_mode) else "other"


def _decode(data: bytes) -> tuple[str, str] | None:
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


def _walk_files(root: Path, hidden: bool):
    """Every regular file below ``root`` (not following symlinks), skipping hidden ones unless asked."""
    for directory, dirnames, filenames in os.walk(root, onerror=lambda _e: None):
        if not hidden:
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if hidden or not name.startswith("."):
                yield Path(directory) / name


def _facts(reversible: bool, path_args: list[str]) -> dict[str, Any]:
    """What a tool declares as MCP `_meta` (read by llmos.agent.facts): undo reverses it; its path arguments."""
    return {"llmos/reversible": reversible, "llmos/path_args": path_args, "llmos/url_args": [], "llmos/network": False}


def build_server(settings: dict) -> object:
    sandbox = Sandbox.from_settings(settings)
    journal = UndoJournal()
    server = new_server("filesystem", "Files and folders on this computer: list, read, search, create, move, "
                        "and delete (to the trash, undoable). Paths may use ~.")

    def existing(raw: str, write: bool = False) -> Path:
        path = sandbox.resolve(raw, write=write)
        if not path.exists() and not path.is_symlink():
            raise not_found(path)
        return path

    def lstat(path: Path) -> os.stat_result:
        try:
            return path.lstat()
        except OSError as exc:
            raise ToolError(f"Cannot read {display(path)}: {(exc.strerror or str(exc)).lower()}.") from exc

    @server.tool(annotations=READ_ONLY, meta=_facts(False, ["path"]))
    def list_directory(
        path: PathArg = ".",
        show_hidden: Annotated[bool, Field(description="Include names starting with a dot")] = False,
        sort: Annotated[Literal["name", "size", "time"], Field(description="Order: name, size (largest first) "
                                                               "or time (newest first)")] = "name",
        limit: Annotated[int, Field(ge=1, le=1000, description="Most entries to return")] = 100,
    ) -> Listing:
        """List a folder's contents with sizes and modification times. Use to see what is in a folder."""
        folder = existing(path)
        if not folder.is_dir():
            raise ToolError(f"{display(folder)} is a file, not a folder.")
        entries = []
        with os.scandir(folder) as it:
            for e in it:
                if not show_hidden and e.name.startswith("."):
                    continue
                try:
                    st = e.stat(follow_symlinks=False)
                except OSError:
                    continue
                entries.append(Entry(name=e.name, path=display(folder / e.name), type=_kind(st),
                                     size=st.st_size, modified=_iso(st.st_mtime)))
        key = {"name": lambda x: x.name.lower(), "size": lambda x: -x.size, "time": lambda x: x.modified}[sort]
        entries.sort(key=key, reverse=(sort == "time"))
        shown, more = cap(entries, limit)
        return Listing(path=display(folder), entries=shown, more=more)

    @server.tool(annotations=READ_ONLY, meta=_facts(False, ["path"]))
    def tree(
        path: PathArg = ".",
        depth: Annotated[int, Field(ge=1, le=6, description="How many levels deep")] = 2,
        limit: Annotated[int, Field(ge=1, le=2000, description="Most lines")] = 200,
    ) -> TreeResult:
        """Show a folder and its subfolders as an indented tree. Use for an overview of a project."""
        root = existing(path)
        lines: list[str] = [display(root)]
        total = 0

        def walk(folder: Path, prefix: str, level: int) -> None:
            nonlocal total
            try:
                children = sorted((c for c in folder.iterdir() if not c.name.startswith(".")),
                                  key=lambda c: (not c.is_dir(), c.name.lower()))
            except OSError:
                return
            for i, child in enumerate(children):
                total += 1
                last = i == len(children) - 1
                if len(lines) <= limit:
                    lines.append(f"{prefix}{'└── ' if last else '├── '}{child.name}{'/' if child.is_dir() else ''}")
                if child.is_dir() and not child.is_symlink() and level < depth:
                    walk(child, prefix + ("    " if last else "│   "), level + 1)

        walk(root, "", 1)
        return TreeResult(path=display(root), tree="\n".join(lines[: limit + 1]), more=max(0, total - limit))

    @server.tool(annotations=READ_ONLY, meta=_facts(False, ["path"]))
    def stat(path: PathArg) -> StatResult:
        """Details of one file or folder: type, size, modified time, permissions, owner."""
        target = existing(path)
        st = lstat(target)
        try:
            import pwd

            owner = pwd.getpwuid(st.st_uid).pw_name
        except (KeyError, ImportError):
            owner = str(st.st_uid)
        size = st.st_size
        return StatResult(path=display(target), type=_kind(st), size=size, modified=_iso(st.st_mtime),
                          permissions=stat_module.filemode(st.st_mode), owner=owner,
                          symlink_target=os.readlink(target) if target.is_symlink() else None,
                          mime_type=mimetypes.guess_type(target.name)[0])

    @server.tool(annotations=READ_ONLY, meta=_facts(False, ["path"]))
    def read_file(
        path: PathArg,
        offset: Annotated[int, Field(ge=0, description="Byte offset to start at")] = 0,
        limit: Annotated[int, Field(ge=1, le=MAX_READ_BYTES, description="Most bytes to read")] = 32 * 1024,
    ) -> FileText:
        """Read a text file (or part of a large one, with offset and limit). Binary files are described."""
        target = existing(path)
        if target.is_dir():
            raise ToolError(f"{display(target)} is a folder; use list_directory to see inside it.")
        total = lstat(target).st_size
        try:
            with open(target, "rb") as f:
                f.seek(offset)
                data = f.read(limit)
        except OSError as exc:
            raise ToolError(f"Cannot read {display(target)}: {(exc.strerror or str(exc)).lower()}.") from exc
        decoded = _decode(data)
        if decoded is None:
            kind = mimetypes.guess_type(target.name)[0] or "binary data"
            return FileText(path=display(target), text=None, encoding=None, offset=offset, bytes_read=0,
                            total_bytes=total, next_offset=None, binary=True,
                            description=f"{kind}, {total:,} bytes — not shown as text")
        text, encoding = decoded
        read = len(text.encode(encoding if encoding != "utf-16" else "utf-16-le")) if encoding == "utf-8" else len(data)
        end = offset + read
        return FileText(path=display(target), text=text, encoding=encoding, offset=offset, bytes_read=read,
                        total_bytes=total, next_offset=end if end < total else None)

    @server.tool(annotations=READ_ONLY, meta=_facts(False, ["path"]))
    def search_files(
        pattern: Annotated[str, Field(description="Name pattern, e.g. *.pdf or report*")],
        path: PathArg = ".",
        show_hidden: bool = False,
        limit: Annotated[int, Field(ge=1, le=1000)] = 100,
    ) -> Matches:
        """Find files whose names match a pattern, in a folder and all its subfolders."""
        root = existing(path)
        pattern_l = pattern.lower()
        found = [display(p) for p in _walk_files(root, show_hidden) if fnmatch.fnmatch(p.name.lower(), pattern_l)]
        shown, more = cap(sorted(found), limit)
        return Matches(path=display(root), paths=shown, more=more)

    @server.tool(annotations=READ_ONLY, meta=_facts(False, ["path"]))
    def search_content(
        query: Annotated[str, Field(description="Text to look for (or a regular expression with regex=true)")],
        path: PathArg = ".",
        name_pattern: Annotated[str, Field(description="Only files whose names match, e.g. *.py")] = "*",
        regex: bool = False,
        case_sensitive: bool = False,
        limit: Annotated[int, Field(ge=1, le=1000)] = 50,
    ) -> ContentMatches:
        """Find lines containing some text inside the files of a folder (like grep)."""
        root = existing(path)
        flags = 0 if case_sensitive else re.IGNORECASE
        try:
            matcher = re.compile(query if regex else re.escape(query), flags)
        except re.error as exc:
            raise ToolError(f"That is not a valid regular expression: {exc}.") from exc
        matches: list[ContentMatch] = []
        skipped = more = 0
        files = [root] if root.is_file() else _walk_files(root, False)
        for file in files:
            if not fnmatch.fnmatch(file.name, name_pattern):
                continue
            try:
                if file.stat().st_size > 10 * 1024 * 1024:
                    skipped += 1
                    continue
                decoded = _decode(file.read_bytes())
            except OSError:
                skipped += 1
                continue
            if decoded is None:
                skipped += 1
                continue
            for number, line in enumerate(decoded[0].splitlines(), 1):
                if matcher.search(line):
                    if len(matches) < limit:
                        matches.append(ContentMatch(path=display(file), line_number=number, line=line[:300]))
                    else:
                        more += 1
        return ContentMatches(path=display(root), matches=matches, more=more, files_skipped=skipped)

    @server.tool(annotations=READ_ONLY, meta=_facts(False, ["path"]))
    def find_largest(
        path: PathArg = ".",
        count: Annotated[int, Field(ge=1, le=200, description="How many files")] = 10,
        show_hidden: bool = True,
    ) -> Largest:
        """Find the biggest files in a folder and its subfolders. Use for 'what is eating my disk?'."""
        root = existing(path)
        sized = []
        for file in _walk_files(root, show_hidden):
            try:
                st = file.lstat()
            except OSError:
                continue
            if stat_module.S_ISREG(st.st_mode):
                sized.append((st.st_size, str(file)))
        top = heapq.nlargest(count, sized)
        return Largest(path=display(root), files=[SizedPath(path=display(p), size=s) for s, p in top])

    @server.tool(annotations=READ_ONLY, meta=_facts(False, ["path"]))
    def disk_usage(path: PathArg = ".", top: Annotated[int, Field(ge=1, le=100)] = 10) -> DiskUsage:
        """Total size of a folder, and which of its direct children take the most space."""
        root = existing(path)
        if not root.is_dir():
            size = lstat(root).st_size
            return DiskUsage(path=display(root), total_bytes=size, files=1, largest_children=[])
        per_child: dict[str, int] = {}
        total = files = 0
        for file in _walk_files(root, True):
            try:
                size = file.lstat().st_size
            except OSError:
                continue
            total += size
            files += 1
            child = root / file.relative_to(root).parts[0]
            per_child[str(child)] = per_child.get(str(child), 0) + size
        largest = heapq.nlargest(top, per_child.items(), key=lambda kv: kv[1])
        return DiskUsage(path=display(root), total_bytes=total, files=files,
                         largest_children=[SizedPath(path=display(p), size=s) for p, s in largest])

    # ---- changes: each one journaled so `llmos undo` can reverse it -------------------------------------

    @server.tool(annotations=ADDITIVE, meta=_facts(True, ["path"]))
    def create_file(path: PathArg, content: Annotated[str, Field(description="The text to write")]) -> Changed:
        """Create a new text file. Refuses if the file already exists (use write_file to replace one)."""
        target = sandbox.resolve(path, write=True)
        if not target.parent.is_dir():
            raise not_found(target.parent)
        try:
            with open(target, "x", encoding="utf-8") as f:
                f.write(content)
        except FileExistsError:
            raise ToolError(f"{display(target)} already exists; use write_file to replace it.") from None
        entry = journal.record("create", f"created {display(target)}", path=str(target))
        return Changed(path=display(target), action="created", undo_id=entry.id, size=target.stat().st_size)

    @server.tool(annotations=DESTRUCTIVE, meta=_facts(True, ["path"]))
    def write_file(path: PathArg, content: Annotated[str, Field(description="The new full text")]) -> Changed:
        """Replace a file's whole content (a backup is kept; undoable). Creates the file if missing."""
        target = sandbox.resolve(path, write=True)
        if target.is_dir():
            raise ToolError(f"{display(target)} is a folder, not a file.")
        if not target.exists():
            return create_file(path, content)
        backup = journal.backup(target)
        target.write_text(content, encoding="utf-8")
        entry = journal.record("overwrite", f"overwrote {display(target)}", path=str(target), backup=str(backup))
        return Changed(path=display(target), action="overwritten", undo_id=entry.id, size=target.stat().st_size)

    @server.tool(annotations=DESTRUCTIVE, meta=_facts(True, ["path"]))
    def append_file(path: PathArg, content: Annotated[str, Field(description="Text to add at the end")]) -> Changed:
        """Add text to the end of a file (a backup is kept; undoable)."""
        target = existing(path, write=True)
        if not target.is_file():
            raise ToolError(f"{display(target)} is not a regular file.")
        backup = journal.backup(target)
        with open(target, "a", encoding="utf-8") as f:
            f.write(content)
        entry = journal.record("overwrite", f"appended to {display(target)}", path=str(target), backup=str(backup))
        return Changed(path=display(target), action="appended", undo_id=entry.id, size=target.stat().st_size)

    @server.tool(annotations=ADDITIVE, meta=_facts(True, ["path"]))
    def make_directory(path: PathArg) -> Changed:
        """Create a folder (and any missing parent folders)."""
        target = sandbox.resolve(path, write=True)
        if target.exists():
            raise ToolError(f"{display(target)} already exists.")
        missing = [target, *[p for p in target.parents if not p.exists()]]
        target.mkdir(parents=True)
        entry = None
        for folder in reversed(missing):  # outermost first, so undo (newest first) removes innermost first
            entry = journal.record("mkdir", f"created folder {display(folder)}", path=str(folder))
        return Changed(path=display(target), action="created folder", undo_id=entry.id if entry else None)

    @server.tool(annotations=ADDITIVE, meta=_facts(True, ["source", "destination"]))
    def copy(source: PathArg, destination: PathArg) -> Changed:
        """Copy a file or folder. Refuses to replace an existing destination."""
        src = existing(source)
        dst = sandbox.resolve(destination, write=True)
        if dst.is_dir():
            dst = sandbox.resolve(str(dst / src.name), write=True)
        if dst.exists() or dst.is_symlink():
            raise ToolError(f"{display(dst)} already exists; copying would replace it.")
        if src.is_dir() and not src.is_symlink():
            shutil.copytree(src, dst, symlinks=True)
        else:
            shutil.copy2(src, dst, follow_symlinks=False)
        entry = journal.record("create", f"copied {display(src)} to {display(dst)}", path=str(dst))
        return Changed(path=display(dst), action="copied", undo_id=entry.id, source=display(src))

    @server.tool(annotations=DESTRUCTIVE, meta=_facts(True, ["source", "destination"]))
    def move(source: PathArg, destination: PathArg,
             overwrite: Annotated[bool, Field(description="Replace an existing destination (kept as a backup)")]
             = False) -> Changed:
        """Move or rename a file or folder (undoable)."""
        src = existing(source, write=True)
        dst = sandbox.resolve(destination, write=True)
        if dst.is_dir() and not dst.is_symlink():
            dst = sandbox.resolve(str(dst / src.name), write=True)
        if dst == src:
            raise ToolError("The source and destination are the same.")
        replaced = None
        if dst.exists() or dst.is_symlink():
            if not overwrite:
                raise ToolError(f"{display(dst)} already exists; set overwrite to replace it.")
            replaced = journal.backup(dst)
            shutil.rmtree(dst) if dst.is_dir() and not dst.is_symlink() else dst.unlink()
        shutil.move(src, dst)
        entry = journal.record("move", f"moved {display(src)} to {display(dst)}", source=str(src),
                               destination=str(dst), replaced_backup=str(replaced) if replaced else None)
        return Changed(path=display(dst), action="moved", undo_id=entry.id, source=display(src))

    @server.tool(annotations=DESTRUCTIVE, meta=_facts(True, ["path"]))
    def delete(path: PathArg) -> Changed:
        """Delete a file or folder by moving it to the trash (undoable with `llmos undo`)."""
        target = existing(path, write=True)
        size = lstat(target).st_size
        trashed, info = trash(target)
        entry = journal.record("trash", f"moved {display(target)} to the trash", path=str(target),
                               trash_file=str(trashed), trash_info=str(info))
        return Changed(path=display(target), action="moved to trash", undo_id=entry.id, size=size)

    @server.tool(annotations=DESTRUCTIVE, meta=_facts(False, ["path"]))
    def delete_permanently(path: PathArg) -> Changed:
        """Delete a file or folder for good, skipping the trash. Cannot be undone: prefer delete."""
        target = existing(path, write=True)
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        else:
            target.unlink()
        entry = journal.record("delete_permanently", f"permanently deleted {display(target)}", path=str(target))
        return Changed(path=display(target), action="deleted permanently", undo_id=entry.id, reversible=False)

    return server
