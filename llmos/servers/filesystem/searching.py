"""Searching: files by name, lines by content, the biggest files, a folder's size. Every walk stays below
its folder (symlinks are not followed), passes over special files and secrets, and stops at a size cap."""

from __future__ import annotations

import fnmatch
import heapq
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

from pydantic import Field

from llmos.paths import display
from llmos.servers.common import ToolError, cap
from llmos.servers.filesystem import safe_io
from llmos.servers.filesystem.models import (ContentMatch, ContentMatches, DiskUsage, Largest, Matches, PathArg,
                                            SizedPath)
from llmos.servers.filesystem.reading import decode
from llmos.servers.filesystem.state import MAX_SEARCH_FILE_BYTES, MAX_SEARCH_TOTAL_BYTES, Fs, Walk, lstat


def search_files(
    fs: Fs,
    pattern: Annotated[str, Field(description="Name pattern, e.g. *.pdf or report*; a plain word matches anywhere "
                                              "in the name")],
    path: PathArg = ".",
    show_hidden: bool = False,
    limit: Annotated[int, Field(ge=1, le=1000)] = 100,
) -> Matches:
    """Find files whose names match a pattern, in a folder and all its subfolders."""
    root = fs.existing(path)
    matches = name_matcher(pattern)
    walk = Walk(fs, root, show_hidden, fs.walk_limit)
    found = [display(p) for p, _fd, _st in walk.files() if matches(p.name)]
    shown, more = cap(sorted(found), limit)
    note = walk.note
    if not found and note is None:
        note = (f"No file name matches {pattern!r}. To find files whose text mentions it, use search_content."
                if " " in pattern.strip() else None)
    return Matches(path=display(root), paths=shown, more=more, note=note)


_REGEX_SIGNS = re.compile(r"\.\*|\.\+|\\\.|\$$|^\^|\|")


def name_matcher(pattern: str) -> Callable[[str], bool]:
    """How a name pattern is read, the ways people and small models write one: a glob (``*.pdf``); a word
    with no wildcard, matched anywhere in the name ("passport" finds passport.pdf — Qwen2.5-Coder-0.5B sent
    that and an exact match found nothing); a regular expression (the 0.5B sent ``.*pdf$`` for "find all
    my pdfs"). Case is ignored."""
    text = pattern.strip().lower()
    if _REGEX_SIGNS.search(text):
        try:
            regex = re.compile(text, re.IGNORECASE)
        except re.error:
            pass
        else:
            return lambda name: regex.search(name) is not None
    if not any(c in text for c in "*?["):
        return lambda name: text in name.lower()
    return lambda name: fnmatch.fnmatch(name.lower(), text)


def search_content(
    fs: Fs,
    query: Annotated[str, Field(description="Text to look for (or a regular expression with regex=true)")],
    path: PathArg = ".",
    name_pattern: Annotated[str, Field(description="Only files whose names match, e.g. *.py")] = "*",
    regex: bool = False,
    case_sensitive: bool = False,
    limit: Annotated[int, Field(ge=1, le=1000)] = 50,
) -> ContentMatches:
    """Find lines containing some text inside the files of a folder (like grep)."""
    root = fs.existing(path)
    flags = 0 if case_sensitive else re.IGNORECASE
    try:
        matcher = re.compile(query if regex else re.escape(query), flags)
    except re.error as exc:
        raise ToolError(f"That is not a valid regular expression: {exc}.") from exc
    matches: list[ContentMatch] = []
    skipped = more = scanned = 0
    note = None
    walk = Walk(fs, root, False, fs.walk_limit)
    for file, text in _texts(fs, root, name_pattern, walk):
        if text is None:
            skipped += 1
            continue
        scanned += len(text)
        if scanned > MAX_SEARCH_TOTAL_BYTES:
            note = f"Stopped after reading {MAX_SEARCH_TOTAL_BYTES // 2**20} MiB; search a smaller folder."
            break
        for number, line in enumerate(text.splitlines(), 1):
            if matcher.search(line):
                if len(matches) < limit:
                    matches.append(ContentMatch(path=display(file), line_number=number, line=line[:300]))
                else:
                    more += 1
    return ContentMatches(path=display(root), matches=matches, more=more, files_skipped=skipped,
                          note=note or walk.note)


def _texts(fs: Fs, root: Path, name_pattern: str, walk: Walk) -> Iterator[tuple[Path, str | None]]:
    """(file, its text or None if binary, too big, special or unreadable) for each file to search."""
    if not root.is_dir():
        if not fnmatch.fnmatch(root.name, name_pattern):
            return
        try:
            whole, _size = safe_io.read_capped(fs.sandbox, root, 0, MAX_SEARCH_FILE_BYTES)
        except ToolError:
            yield root, None
            return
        decoded = decode(whole)
        yield root, decoded[0] if decoded else None
        return
    for file, dir_fd, _st in walk.files():
        if not fnmatch.fnmatch(file.name, name_pattern):
            continue
        data = safe_io.read_at_dir(fs.sandbox, dir_fd, file.name, MAX_SEARCH_FILE_BYTES)
        decoded = decode(data) if data is not None else None
        yield file, decoded[0] if decoded else None


def find_largest(
    fs: Fs,
    path: PathArg = ".",
    count: Annotated[int, Field(ge=1, le=200, description="How many files")] = 10,
    show_hidden: bool = True,
) -> Largest:
    """Find the biggest files in a folder and its subfolders. Use for 'what is eating my disk?'."""
    root = fs.existing(path)
    walk = Walk(fs, root, show_hidden, fs.walk_limit)
    top = heapq.nlargest(count, ((st.st_size, str(p)) for p, _fd, st in walk.files()))
    return Largest(path=display(root), files=[SizedPath(path=display(p), size=s) for s, p in top], note=walk.note)


def disk_usage(fs: Fs, path: PathArg = ".", top: Annotated[int, Field(ge=1, le=100)] = 10) -> DiskUsage:
    """Total size of a folder, and which of its direct children take the most space."""
    root = fs.existing(path)
    if not root.is_dir():
        size = lstat(root).st_size
        return DiskUsage(path=display(root), total_bytes=size, files=1, largest_children=[])
    per_child: dict[str, int] = {}
    total = files = 0
    walk = Walk(fs, root, True, fs.walk_limit)
    for file, _fd, st in walk.files():
        total += st.st_size
        files += 1
        child = root / file.relative_to(root).parts[0]
        per_child[str(child)] = per_child.get(str(child), 0) + st.st_size
    largest = heapq.nlargest(top, per_child.items(), key=lambda kv: kv[1])
    return DiskUsage(path=display(root), total_bytes=total, files=files,
                     largest_children=[SizedPath(path=display(p), size=s) for p, s in largest], note=walk.note)
