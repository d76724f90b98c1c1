"""The one JSON-lines writer and reader for every log llmos keeps: the audit log, saved sessions, the undo
journal.

Durability rule: the records of one ``append`` are written whole with one ``write`` and flushed before it
returns, so a crash of llmos loses nothing already appended; a line torn by an earlier crash is ended first,
so a new record is never glued onto it. Records that protect data (the undo journal: what is needed to get
a file back) are also fsynced, so they survive a crash of the machine too. The audit log and sessions are
flushed, not fsynced: they describe what happened, they are not needed to get anything back.

Reading is tolerant: a torn, non-UTF-8 or non-object line is reported as such and skipped, never fatal.
Neither side opens a FIFO, socket or device where a log should be (that could block forever).
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmos.damaged import not_a_regular_file

TORN = "not a complete JSON line (a crash while writing?)"
NOT_AN_OBJECT = "not a record (expected a JSON object)"


def append(path: Path, *records: Mapping[str, Any], durable: bool = False) -> None:
    """Append ``records`` to ``path`` (its folder is created), one line each; ``durable``: fsync too.
    Raises OSError when the folder or file cannot be written (read-only, full, a file or pipe in the way)."""
    if not records:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    _refuse_special(path)
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
    with open(path, "ab+") as f:
        if f.seek(0, os.SEEK_END):
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":  # the last line was torn by a crash: end it, keep the new line whole
                data = b"\n" + data
        f.write(data)
        f.flush()
        if durable:
            os.fsync(f.fileno())


def _refuse_special(path: Path) -> None:
    problem = not_a_regular_file(path)
    if problem:  # strerror is the whole reason ("PATH is a folder, not a file"), filename the path
        raise OSError(errno.EINVAL, f"{path} {problem}", str(path))


@dataclass(frozen=True)
class Line:
    number: int  # 1-based, counting blank lines, so a message can name file:line
    record: dict[str, Any] | None  # None: the line is damaged
    problem: str | None = None  # why it is damaged


def lines(path: Path) -> Iterator[Line]:
    """Every non-blank line of ``path``, parsed. A missing file has none; a folder, FIFO, socket or device in
    its place raises OSError (it is never opened)."""
    _refuse_special(path)
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed below; a missing file is simply empty
    except (FileNotFoundError, NotADirectoryError):
        return
    with f:
        for number, raw in enumerate(f, 1):
            if raw.strip():
                yield _parse(number, raw)


def _parse(number: int, raw: bytes) -> Line:
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return Line(number, None, TORN)
    if not isinstance(value, dict):
        return Line(number, None, NOT_AN_OBJECT)
    return Line(number, value)


def read_counted(path: Path) -> tuple[list[dict[str, Any]], int]:
    """The records of ``path`` in order, and how many non-blank lines were damaged."""
    records, damaged = [], 0
    for line in lines(path):
        if line.record is None:
            damaged += 1
        else:
            records.append(line.record)
    return records, damaged


def read(path: Path) -> Iterator[dict[str, Any]]:
    """The records of ``path`` in order, damaged lines skipped."""
    return (line.record for line in lines(path) if line.record is not None)


def tail(path: Path, count: int) -> list[dict[str, Any]]:
    """The last ``count`` records of ``path``."""
    from collections import deque

    return list(deque(read(path), maxlen=count)) if count > 0 else []
