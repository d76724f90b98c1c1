"""Starting desktop programs properly detached: own session, no zombie, no tie to llmos's terminal."""

from __future__ import annotations

import os
import shutil
import subprocess

from mcp.server.mcpserver.exceptions import ToolError


def require_display() -> None:
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise ToolError("No graphical display is available (neither DISPLAY nor WAYLAND_DISPLAY is set), "
                        "so nothing can be opened on screen.")


def spawn_detached(argv: list[str], cwd: str | None = None) -> int:
    """Start ``argv`` in a new session with no inherited terminal; return its PID.

    Not a double fork, which would hide the PID the user may want to close later: a daemon thread waits
    on the child instead, so it never lingers as a zombie while llmos runs."""
    if not argv or shutil.which(argv[0]) is None:
        raise ToolError(f"Cannot start {argv[0] if argv else 'nothing'}: the program was not found on PATH.")
    try:
        process = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True)
    except OSError as exc:
        raise ToolError(f"Cannot start {argv[0]}: {exc.strerror or exc}.") from exc
    _reap_later(process)
    return process.pid


def open_with_default(target: str) -> int:
    """Open a file or URL with the desktop's default handler (xdg-open); return the opener's PID."""
    require_display()
    if shutil.which("xdg-open") is None:
        raise ToolError("Cannot open it: xdg-open is not installed (package xdg-utils).")
    return spawn_detached(["xdg-open", target])


def _reap_later(process: subprocess.Popen) -> None:
    import threading

    threading.Thread(target=process.wait, daemon=True, name=f"reap-{process.pid}").start()
