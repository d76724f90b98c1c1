"""What llmos does with a local file it wrote that is now damaged or hostile, or a place it cannot write: it
never crashes or hangs on either.

A file that cannot be used is moved aside as ``NAME.corrupt-YYYYMMDD-HHMMSS`` (kept, for the person to look
at or delete) and a fresh one is started where that is safe; either way one line on stderr names the path and
what was done. Special files (FIFOs, sockets, devices) are never opened: reading one can block forever.
A record that cannot be written (the folder is read-only, a file stands where it should be, the disk is
full) is reported once per writer in one line naming it, the path and why (`unsaved`), and llmos
goes on without it.
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


def unsaved(what: str, path: Path, exc: Exception, consequence: str) -> None:
    """``what`` (the conversation, the audit log…) could not be written to ``path``: one line saying so. The
    writer calls it once (it remembers it failed), so a long session does not repeat it."""
    report(f"could not save {what} to {path}: {why_unwritable(path, exc)}; {consequence}")


def why_unwritable(path: Path, exc: Exception) -> str:
    """The reason a write to ``path`` failed, in words: which file stands where a folder should be, rather
    than "File exists" or "Not a directory"."""
    if isinstance(exc, (FileExistsError, NotADirectoryError)):
        for folder in [path.parent, *path.parent.parents]:
            if os.path.lexists(folder) and not os.path.isdir(folder):
                return f"{folder} is a file, not a folder"
    reason = (exc.strerror if isinstance(exc, OSError) else None) or str(exc) or type(exc).__name__
    return reason[0].lower() + reason[1:]


def not_a_regular_file(path: Path) -> str | None:
    """Why ``path`` may not be opened as a data file (a folder, FIFO, socket, device), or None when it may.
    Checked without following a symlink's target kind first, so a FIFO behind a link is caught too."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):  # not there (a file where a folder is: cannot be there)
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

