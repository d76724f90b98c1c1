"""The apps server's tools, as plain functions registered by the package (they need no context)."""

from __future__ import annotations

import os
import re
import time
from typing import Annotated

from pydantic import Field

from llmos.servers import launch
from llmos.servers.apps.desktop import entries, find, ranked
from llmos.servers.apps.exec_line import URL, as_file, command
from llmos.servers.apps.models import AppList, Closed, CloseResult, Launched, Opened, RunningList
from llmos.servers.apps.windows import alive, match, open_display, running, stop
from llmos.servers.common import ToolError, cap


def list_apps(
    limit: Annotated[int, Field(description="most apps to return", ge=1, le=500)] = 100,
) -> AppList:
    """List the installed desktop applications (those shown in the app menu), sorted by name."""
    apps, more = cap(sorted((e for e in entries() if e.visible), key=lambda e: e.name.lower()), limit)
    return AppList(apps=[e.public() for e in apps], more=more)


def search_apps(
    query: Annotated[str, Field(description="part of an app's name, or a category such as Graphics")],
    limit: Annotated[int, Field(description="most apps to return", ge=1, le=100)] = 20,
) -> AppList:
    """Find installed applications by name or category, best matches first. Use before launch_app."""
    if not query.strip():
        raise ToolError("Give part of an app's name or a category to search for.")
    apps, more = cap(ranked(entries(), query.strip().lower()), limit)
    return AppList(apps=[e.public() for e in apps], more=more)


def launch_app(
    app: Annotated[str, Field(description="the app's id (e.g. org.gnome.gedit.desktop) or its name")],
    target: Annotated[str | None, Field(description="a file path or URL to open in it")] = None,
) -> Launched:
    """Start an installed desktop application, optionally opening a file or URL in it."""
    launch.require_display()
    entry = find(app)
    argv = command(entry, target)
    if not argv:
        raise ToolError(f"{entry.name} has an empty Exec line, so it cannot be started.")
    cwd = entry.get("Path")
    pid = launch.spawn_detached(argv, cwd=cwd if cwd and os.path.isdir(cwd) else None)
    return Launched(pid=pid, app_id=entry.id, app_name=entry.name, command=argv, target=target)


def list_running_apps(
    limit: Annotated[int, Field(description="most apps to return", ge=1, le=200)] = 50,
) -> RunningList:
    """List the applications that have windows open on screen, with their window titles and PIDs."""
    d = open_display()
    try:
        apps, more = cap([app for app, _ in running(d)], limit)
    finally:
        d.close()
    return RunningList(apps=apps, more=more)


def close_app(
    app: Annotated[str, Field(description="a running app's name, id, window title, or PID")],
    force: Annotated[bool, Field(description="kill at once (SIGKILL); unsaved work is lost")] = False,
    wait_seconds: Annotated[float, Field(description="how long to wait for it to exit", ge=0, le=30)] = 5,
) -> CloseResult:
    """Close a running application politely (as its close button would), or kill it with force."""
    pid = int(app) if app.strip().isdigit() else None
    if pid is not None and (pid in (os.getpid(), os.getppid()) or pid <= 1):
        raise ToolError(f"PID {pid} is llmos itself or the system; it will not be closed.")
    # A PID needs no display (a windowless process gets SIGTERM); a name is looked up on screen.
    d = open_display() if pid is None or os.environ.get("DISPLAY") else None
    try:
        matched = match(running(d) if d else [], app)
        methods = [stop(d, info.pid or 0, windows, force) for info, windows in matched]
    finally:
        if d:
            d.close()
    deadline = time.monotonic() + wait_seconds
    while not all(exited := [not alive(info.pid or 0) for info, _ in matched]):
        if time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    closed = [Closed(pid=info.pid or 0, name=info.name, method=method, exited=gone)
              for (info, _), method, gone in zip(matched, methods, exited, strict=True)]
    note = "All exited." if all(exited) else (
        "Still running: it may be asking to save work; look at its window, or close it again with force.")
    return CloseResult(closed=closed, all_exited=all(exited), note=note)


def open_with_default(
    target: Annotated[str, Field(description="a file path or a URL (with its scheme, e.g. https://)")],
) -> Opened:
    """Open a file or URL with the desktop's default application for it (browser, viewer, editor…)."""
    if URL.match(target) and not target.startswith("file:"):
        if re.search(r"\s", target.strip()):  # measured: the 0.5B made up "https://notepad deluxe.com"
            raise ToolError(f"{target!r} is not a web address (it has a space in it).")
        return Opened(target=target, kind="url", pid=launch.open_with_default(target))
    path = as_file(target, "open_with_default")
    if not os.path.exists(path):
        # "open notepad deluxe" → open_with_default("notepad deluxe"): a name, not a file. Told only to add
        # https://, the 0.5B opened a made-up web address next; it is pointed at the launcher instead.
        app = "" if re.search(r"[/\\]|\.\w{1,5}$", target) else (
            f" To start an application by its name, call launch_app with app {target.strip()!r}.")
        raise ToolError(f"There is no file or folder at {path}.{app} A web address needs its https://.")
    return Opened(target=path, kind="file", pid=launch.open_with_default(path))
