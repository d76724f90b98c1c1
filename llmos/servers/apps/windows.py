"""Running applications on an X11 display: their top-level windows, the process behind each, and closing
them politely (WM_DELETE_WINDOW) or by signal."""

from __future__ import annotations

import os
import signal
from typing import Any

from llmos.servers import launch
from llmos.servers.apps.desktop import entries
from llmos.servers.apps.exec_line import split_exec
from llmos.servers.apps.models import RunningApp
from llmos.servers.common import ToolError


# Measured: "is backup-daemon running?" → list_running_apps, which failed (no X server) and was sent again
# until the loop guard stopped the turn; a program without a window is a process.
_PROCESSES = " Programs without a window are found with find_processes (the system tools)."


def open_display() -> Any:
    try:
        launch.require_display()
    except ToolError as exc:
        raise ToolError(f"{exc}{_PROCESSES}") from exc
    if not os.environ.get("DISPLAY"):
        raise ToolError("Only WAYLAND_DISPLAY is set: listing and closing windows needs an X11 display "
                        f"(DISPLAY), which this session does not have.{_PROCESSES}")
    from Xlib import display, error

    try:
        return display.Display()
    except (error.DisplayError, error.ConnectionClosedError, OSError) as exc:
        raise ToolError(f"Cannot connect to the X display {os.environ['DISPLAY']}: {exc}.{_PROCESSES}") from exc


def _client_windows(d: Any) -> list[Any]:
    """The applications' top-level windows: the window manager's list when a live EWMH manager keeps one
    (a manager that exited leaves its properties behind), else the root's mapped children."""
    from Xlib import X, error

    root = d.screen().root
    check = d.intern_atom("_NET_SUPPORTING_WM_CHECK")
    try:
        wm = root.get_full_property(check, X.AnyPropertyType)
        wm_alive = wm is not None and d.create_resource_object("window", wm.value[0]).get_full_property(
            check, X.AnyPropertyType) is not None
    except error.XError:
        wm_alive = False  # its check window is gone: the manager is
    client_list = root.get_full_property(d.intern_atom("_NET_CLIENT_LIST"), X.AnyPropertyType)
    if wm_alive and client_list is not None:
        return [d.create_resource_object("window", w) for w in client_list.value]
    found = []
    for child in root.query_tree().children:
        try:
            attrs = child.get_attributes()
            if not attrs.override_redirect and attrs.map_state == X.IsViewable and child.get_wm_class():
                found.append(child)  # not menus, tooltips or unmapped helpers
        except error.XError:
            continue  # the window closed while we looked
    return found


def _pid_and_title(d: Any, window: Any) -> tuple[int | None, str]:
    from Xlib import X
    from Xlib.ext import res

    pid = None
    if d.has_extension("X-Resource"):  # the server knows a local client's PID even if the app never said
        ids = d.res_query_client_ids([{"client": window.id, "mask": res.LocalClientPIDMask}]).ids
        pid = int(ids[0].value[0]) if ids and ids[0].value else None
    if pid is None:
        prop = window.get_full_property(d.intern_atom("_NET_WM_PID"), X.AnyPropertyType)
        pid = int(prop.value[0]) if prop is not None and len(prop.value) else None
    prop = window.get_full_property(d.intern_atom("_NET_WM_NAME"), d.intern_atom("UTF8_STRING"))
    title = prop.value if prop is not None else window.get_wm_name()
    return pid, (title.decode("utf-8", "replace") if isinstance(title, bytes) else title) or ""


def running(d: Any) -> list[tuple[RunningApp, list[Any]]]:
    """Running applications, one per process, each with its windows (the model and the Xlib objects).
    The app's name comes from its desktop entry when StartupWMClass, the id or the program matches."""
    import psutil
    from Xlib import error

    installed = entries()
    by_exec = {os.path.basename((split_exec(e.get("Exec")) or [""])[0]): e for e in installed}
    by_class = {k.lower(): e for e in installed for k in (e.get("StartupWMClass"), e.stem) if k}
    apps: dict[int, tuple[RunningApp, list[Any]]] = {}
    for window in _client_windows(d):
        try:
            instance, klass = window.get_wm_class() or ("", "")
            pid, title = _pid_and_title(d, window)
        except error.XError:
            continue  # the window closed while we looked
        key = pid if pid is not None else -window.id
        if key not in apps:
            try:
                proc = psutil.Process(pid) if pid else None
                names = [proc.name(), *(os.path.basename(p) for p in proc.cmdline()[:1])] if proc else []
            except psutil.Error:
                names = []
            entry = by_class.get(klass.lower()) or by_class.get(instance.lower()) or next(
                (by_exec[n] for n in [*names, instance] if n in by_exec), None)
            name = entry.name if entry else klass or (names[0] if names else title)
            apps[key] = (RunningApp(pid=pid, name=name, app_id=entry.id if entry else None, wm_class=klass,
                                    windows=[]), [])
        apps[key][0].windows.append(title)
        apps[key][1].append(window)
    return sorted(apps.values(), key=lambda pair: pair[0].name.lower())


def match(running: list[tuple[RunningApp, list[Any]]], app: str) -> list[tuple[RunningApp, list[Any]]]:
    """What close_app means by ``app``: a PID; else an exact name, id or window class; else a title part."""
    wanted = app.strip().lower()
    if wanted.isdigit():
        if not alive(int(wanted)):
            raise ToolError(f"No process with PID {wanted} is running.")
        return [p for p in running if p[0].pid == int(wanted)] or [
            (RunningApp(pid=int(wanted), name=f"PID {wanted}", wm_class="", windows=[]), [])]
    matched = [p for p in running if wanted in (p[0].name.lower(), p[0].wm_class.lower(),
                                                 (p[0].app_id or "").lower().removesuffix(".desktop"),
                                                 (p[0].app_id or "").lower())]
    matched = matched or [p for p in running if any(wanted in title.lower() for title in p[0].windows)]
    if not matched:
        names = ", ".join(p[0].name for p in running) or "none"
        raise ToolError(f"No running application matches {app!r}. Running: {names}.")
    if any(info.pid is None for info, _ in matched):
        raise ToolError(f"The X server cannot tell which process owns {app!r}, so it cannot be closed.")
    return matched


def stop(d: Any, pid: int, windows: list[Any], force: bool) -> str:
    from Xlib import X
    from Xlib.protocol import event

    if force:
        _signal(pid, signal.SIGKILL)
        return "killed (SIGKILL)"
    # WM_DELETE_WINDOW is what a window manager's close button sends: the app may ask to save first.
    delete = d.intern_atom("WM_DELETE_WINDOW") if d else 0
    polite = [w for w in windows if delete in (w.get_wm_protocols() or [])]
    protocols = d.intern_atom("WM_PROTOCOLS") if d else 0
    for window in polite:
        window.send_event(event.ClientMessage(window=window, client_type=protocols,
                                              data=(32, [delete, X.CurrentTime, 0, 0, 0])), event_mask=0)
    if polite:
        d.sync()
        return "asked its windows to close"
    _signal(pid, signal.SIGTERM)
    return "asked to quit (SIGTERM)"


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass  # already gone: that is what was wanted
    except PermissionError as exc:
        raise ToolError(f"Not allowed to stop PID {pid}: it belongs to another user.") from exc


def alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE  # a zombie has exited; its parent reaps
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True  # someone else's process, and it exists
