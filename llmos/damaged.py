"""What llmos does with a local file it wrote that is now damaged or hostile: it never crashes or hangs on it.

A file that cannot be used is moved aside as ``NAME.corrupt-YYYYMMDD-HHMMSS`` (kept, for the person to look
at or delete) and a fresh one is started where that is safe; either way one line on stderr names the path and
what was done. Special files (FIFOs, sockets, devices) are never opened: reading one can block forever.
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path


def report(message: str) -> None:
    """One line on stderr, starting with ``llmos:``."""
    from llmos.terminal import current

    current().notice(f"llmos: {message}")


def not_a_regular_file(path: Path) -> str | None:
    """Why ``path`` may not be opened as a data file (a folder, FIFO, socket, device), or None when it may.
    Checked without following a symlink's target kind first, so a FIFO behind a link is caught too."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot be examined ({exc.strerror or exc})"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    if stat.S_ISFIFO(mode):
        return "is a named pipe, not a file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a file"
    return "is a device or special file, not a file"


def set_aside(path: Path, why: str, then: str = "started a new one") -> Path | None:
    """Move ``path`` to ``path.corrupt-<time>`` and report it; None (reported too) when it cannot be moved."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while os.path.lexists(target):
        n += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    try:
        os.replace(path, target)
    except OSError as exc:
        report(f"{path} {why}, and it could not be moved aside ({exc.strerror or exc}); move or delete it by hand")
        return None
    report(f"{path} {why}; moved it to {target.name} and {then}")
    return target


def is_utf8_text(data: bytes) -> bool:
    """Text llmos could have written: valid UTF-8 without NUL bytes."""
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True

