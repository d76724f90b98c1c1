"""The shell's input history file, opened so that a damaged or hostile one never stops the shell.

A folder, FIFO or device at its path, a file too large to be history, or bytes that are not UTF-8 text are
moved aside (`history.corrupt-<time>`) and a new history is started; if even that fails, the shell keeps its
history in memory for this session and says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llmos.damaged import is_utf8_text, not_a_regular_file, report, set_aside, why_unwritable

MAX_BYTES = 16 * 1024 * 1024  # years of typing; anything larger is not a history llmos wrote


def open_history(path: Path) -> Any:
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        problem = _problem(path)
        if problem and set_aside(path, problem, "started a new history") is None:
            return InMemoryHistory()
        return FileHistory(str(path))
    except OSError as exc:
        report(f"the shell history {path} cannot be used: {why_unwritable(path, exc)}; history is kept in memory "
               "only")
        return InMemoryHistory()


def _problem(path: Path) -> str | None:
    special = not_a_regular_file(path)
    if special or not path.exists():
        return special
    if path.stat().st_size > MAX_BYTES:
        return f"is larger than {MAX_BYTES // (1024 * 1024)} MiB, too large to be the shell history"
    if not is_utf8_text(path.read_bytes()):
        return "holds bytes that are not UTF-8 text"
    return None
