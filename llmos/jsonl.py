"""The one JSON-lines writer (and tolerant reader) for every log llmos keeps: the audit log, saved
sessions, the undo journal.

Durability rule: every record is written whole with one ``write`` and flushed before ``append`` returns,
so a crash of llmos loses nothing already appended. Records that protect data (the undo journal: what is
needed to get a file back) are also fsynced, so they survive a crash of the machine too.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any


def append(path: Path, *records: Mapping[str, Any], durable: bool = False) -> None:
    """Append ``records`` to ``path`` (its folder is created), one line each; ``durable``: fsync too."""
    if not records:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    with open(path, "a", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        if durable:
            os.fsync(f.fileno())


def read(path: Path) -> Iterator[dict[str, Any]]:
    """The records of ``path`` in order. A line torn by a crash, or one that is not a JSON object, is
    skipped: a log is never unreadable because of one bad line."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.readlines()
    except FileNotFoundError:
        return
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            yield record


def tail(path: Path, count: int) -> list[dict[str, Any]]:
    """The last ``count`` records of ``path``."""
    from collections import deque

    return list(deque(read(path), maxlen=count)) if count > 0 else []
