"""The apps server: installed desktop applications (XDG .desktop files), launching them, the running ones
(X11 windows) and closing them, and opening files or URLs with the default handler."""

from __future__ import annotations

import configparser
import os
import re
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import unquote, urlparse

from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel, Field

from llmos.servers import launch
from llmos.servers.common import ADDITIVE, DESTRUCTIVE, READ_ONLY, WEB_ACTION, ToolError, cap, new_server

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


class App(BaseModel):
    id: str = Field(description="desktop file id, e.g. org.gnome.Calculator.desktop")
    name: str
    exec: str = Field(description="the Exec command line, with field codes such as %U")
    categories: list[str]
    path: str = Field(description="the .desktop file")


class AppList(BaseModel):
    apps: list[App]
    more: int = Field(description="how many more matched but were left out")


class Launched(BaseModel):
    pid: int
    app_id: str
    app_name: str
    command: list[str]
    target: str | None = None


class RunningApp(BaseModel):
    pid: int | None = Field(description="process id; None if the X server could not tell")
    name: str
    app_id: str | None = Field(None, description="its desktop file id, when one matches")
    wm_class: str
    windows: list[str] = Field(description="window titles")


class RunningList(BaseModel):
    apps: list[RunningApp]
    more: int


class Closed(BaseModel):
    pid: int
    name: str
    method: str = Field(description="how it was asked to stop")
    exited: bool


class CloseResult(BaseModel):
    closed: list[Closed]
    all_exited: bool
    note: str


class Opened(BaseModel):
    target: str = Field(description="the absolute path or URL that was opened")
    kind: str = Field(description="file or url")
    pid: int = Field(description="PID of the opener (xdg-open)")


# --- installed applications ------------------------------------------------------------------------------

@dataclass
class _Entry:
    id: str
    path: str
    fields: dict[str, str]
    visible: bool  # False: NoDisplay, not for this desktop, or its TryExec program is missing

    def get(self, key: str) -> str:
        return _unescape(self.fields.get(key, ""))

    @property
    def name(self) -> str:
        key = next((k for k in _locale_keys("Name") if k in self.fields), "Name")
        return self.get(key) or self.stem

    @property
    def stem(self) -> str:
        return self.id.removesuffix(".desktop")

    def split(self, key: str) -> list[str]:
        return [item for item in self.get(key).split(";") if item]

    def public(self) -> App:
        return App(id=self.id, name=self.name, exec=self.get("Exec"), categories=self.split("Categories"),
                   path=self.path)


def _unescape(value: str) -> str:
    # The spec's string escapes, in one pass (replacing \\ first would turn "\\s" into a space).
    return re.sub(r"\\(.)", lambda m: {"s": " ", "n": "\n", "t": "\t", "r": "\r"}.get(m[1], m[1]), value)


def _locale_keys(key: str) -> list[str]:
    """Key[lang_COUNTRY@MOD], Key[lang_COUNTRY], Key[lang@MOD], Key[lang], Key: the spec's lookup order."""
    raw = os.environ.get("LC_ALL") or os.environ.get("LC_MESSAGES") or os.environ.get("LANG") or ""
    match = re.match(r"([a-z]+)(?:_([A-Z]+))?(?:\.[^@]*)?(?:@(.+))?$", raw)
    if not match:
        return [key]
    lang, country, mod = match.groups()
    tags = [country and mod and f"{lang}_{country}@{mod}", country and f"{lang}_{country}",
            mod and f"{lang}@{mod}", lang]
    return [f"{key}[{tag}]" for tag in tags if tag] + [key]


def _parse(path: Path) -> dict[str, str] | None:
    # Desktop files are INI-like: only "=" separates, only "#" comments, keys are case-sensitive, and "%"
    # (field codes) must not be interpolated.
    parser = configparser.ConfigParser(interpolation=None, strict=False, delimiters=("=",),
                                       comment_prefixes=("#",), default_section="\0")
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(path.read_text(encoding="utf-8", errors="replace"), source=str(path))
    except (OSError, configparser.Error):
        return None  # unreadable or not a desktop file: skipped, as desktops skip it
    return dict(parser["Desktop Entry"]) if parser.has_section("Desktop Entry") else None


def _entries() -> list[_Entry]:
    """Every application entry. $XDG_DATA_HOME comes first, then $XDG_DATA_DIRS in order, and the first
    file seen for a desktop-file id wins, so a user's file (even a Hidden one) overrides the system's."""
    import shutil

    home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local/share")
    dirs = [home, *(os.environ.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share").split(":")]
    desktops = {d.lower() for d in os.environ.get("XDG_CURRENT_DESKTOP", "").split(":") if d}
    seen: dict[str, _Entry | None] = {}
    for base in (Path(d) / "applications" for d in dirs if d):
        for path in sorted(base.rglob("*.desktop")) if base.is_dir() else []:
            desktop_id = path.relative_to(base).as_posix().replace("/", "-")
            if desktop_id in seen:
                continue
            fields = _parse(path)
            if not fields or fields.get("Type") != "Application" or fields.get("Hidden") == "true":
                seen[desktop_id] = None  # deleted, a link, or broken: masks lower dirs all the same
                continue
            only = {d.lower() for d in fields.get("OnlyShowIn", "").split(";") if d}
            never = {d.lower() for d in fields.get("NotShowIn", "").split(";") if d}
            try_exec = fields.get("TryExec")
            visible = not (fields.get("NoDisplay") == "true" or (only and not only & desktops)
                           or never & desktops or (try_exec and not shutil.which(_unescape(try_exec))))
            seen[desktop_id] = _Entry(desktop_id, str(path), fields, bool(visible))
    return [e for e in seen.values() if e is not None and e.get("Exec")]


def _score(entry: _Entry, query: str) -> int:
    """How well ``entry`` matches a lower-case query: exact name, name prefix, word prefix, substring,
    category, then generic name, keywords or comment."""
    name = entry.name.lower()
    if query in (name, entry.stem.lower()):
        return 100
    if name.startswith(query):
        return 80
    if any(word.startswith(query) for word in re.split(r"[\s.-]+", name)):
        return 60
    if query in name or query in entry.stem.lower():
        return 50
    if query in (c.lower() for c in entry.split("Categories")):
        return 40
    return 20 if any(query in entry.get(k).lower() for k in ("GenericName", "Keywords", "Comment")) else 0


def _ranked(entries: list[_Entry], query: str) -> list[_Entry]:
    scored = [(s, e) for e in entries if e.visible and (s := _score(e, query))]
    return [e for _, e in sorted(scored, key=lambda p: (-p[0], p[1].name.lower()))]


def _find(app: str) -> _Entry:
    """The entry ``app`` names: an exact id or name (even a NoDisplay one), else the single best match."""
    entries, wanted = _entries(), app.strip().lower()
    for entry in entries:
        if wanted in (entry.id.lower(), entry.stem.lower(), entry.name.lower()):
            return entry
    ranked = _ranked(entries, wanted)
    best = [e for e in ranked if _score(e, wanted) == _score(ranked[0], wanted)] if ranked else []
    if len(best) == 1:
        return best[0]
    hint = f" Did you mean: {', '.join(e.name for e in best[:5])}?" if best else ""
    raise ToolError(f"No installed application is called {app!r}.{hint}")


# --- Exec lines ------------------------------------------------------------------------------------------

def _split_exec(line: str) -> list[str]:
    """Exec quoting (not a shell's): double quotes only, inside which \\" \\` \\$ \\\\ are escapes."""
    args: list[str] = []
    current: list[str] = []
    in_arg = quoted = escaped = False
    for char in line:
        if escaped:
            current.append(char if char in '"`$\\' else "\\" + char)
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted, in_arg = not quoted, True
        elif char in " \t" and not quoted:
            if in_arg:
                args.append("".join(current))
            current, in_arg = [], False
        else:
            current.append(char)
            in_arg = True
    if quoted:
        raise ToolError("The application's Exec line has an unclosed quote, so it cannot be started.")
    return args + ["".join(current)] if in_arg else args


def _as_file(target: str, who: str) -> str:
    if target.startswith("file://"):
        return unquote(urlparse(target).path)
    if _URL.match(target):
        raise ToolError(f"{who} opens local files, not URLs like {target}.")
    return os.path.abspath(os.path.expanduser(target))


def _command(entry: _Entry, target: str | None) -> list[str]:
    """The argv for ``entry``: %f %u %F %U take the target (%F %U as a list, so none without one); %i %c %k
    expand as the spec says, so an argument like `--name %c` is never left dangling; %d %n %v… vanish."""
    args = _split_exec(entry.get("Exec"))
    takes = {code for code in "fFuU" if any(f"%{code}" in arg for arg in args)}
    if target and not takes:
        raise ToolError(f"{entry.name} does not take files or URLs; start it without one, or use "
                        "open_with_default to open the target with its default application.")
    value = None
    if target:  # %f/%F want a local path; %u/%U take a URL or a path
        value = _as_file(target, entry.name) if takes <= {"f", "F"} else (
            target if _URL.match(target) else os.path.abspath(os.path.expanduser(target)))
    codes = {"f": value, "F": value, "u": value, "U": value, "c": entry.name, "k": entry.path, "%": "%"}
    out: list[str] = []
    for arg in args:
        if arg in ("%F", "%U"):
            out += [value] if value else []
        elif arg == "%i":
            out += ["--icon", entry.get("Icon")] if entry.get("Icon") else []
        elif (expanded := re.sub(r"%(.)", lambda m: codes.get(m[1]) or "", arg)) or not arg:
            out.append(expanded)  # an argument that was only an empty field code is dropped
    return out


# --- running applications (X11) --------------------------------------------------------------------------

def _display() -> Any:
    launch.require_display()
    if not os.environ.get("DISPLAY"):
        raise ToolError("Only WAYLAND_DISPLAY is set: listing and closing windows needs an X11 display "
                        "(DISPLAY), which this session does not have.")
    from Xlib import display, error

    try:
        return display.Display()
    except (error.DisplayError, error.ConnectionClosedError, OSError) as exc:
        raise ToolError(f"Cannot connect to the X display {os.environ['DISPLAY']}: {exc}.") from exc


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


def _running(d: Any) -> list[tuple[RunningApp, list[Any]]]:
    """Running applications, one per process, each with its windows (the model and the Xlib objects).
    The app's name comes from its desktop entry when StartupWMClass, the id or the program matches."""
    import psutil
    from Xlib import error

    entries = _entries()
    by_exec = {os.path.basename((_split_exec(e.get("Exec")) or [""])[0]): e for e in entries}
    by_class = {k.lower(): e for e in entries for k in (e.get("StartupWMClass"), e.stem) if k}
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
            apps[key] = (RunningApp(pid=pid, name=name, app_id=entry and entry.id, wm_class=klass,
                                    windows=[]), [])
        apps[key][0].windows.append(title)
        apps[key][1].append(window)
    return sorted(apps.values(), key=lambda pair: pair[0].name.lower())


def _match(running: list[tuple[RunningApp, list[Any]]], app: str) -> list[tuple[RunningApp, list[Any]]]:
    """What close_app means by ``app``: a PID; else an exact name, id or window class; else a title part."""
    wanted = app.strip().lower()
    if wanted.isdigit():
        if not _alive(int(wanted)):
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


def _stop(d: Any, pid: int, windows: list[Any], force: bool) -> str:
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


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE  # a zombie has exited; its parent reaps
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True  # someone else's process, and it exists


# --- the server ------------------------------------------------------------------------------------------

def build_server(settings: dict[str, Any]) -> MCPServer:
    server = new_server("apps", "Desktop applications: find installed apps, launch them (optionally with a "
                                "file or URL), list and close running ones, open files and URLs.")

    @server.tool(annotations=READ_ONLY)
    def list_apps(
        limit: Annotated[int, Field(description="most apps to return", ge=1, le=500)] = 100,
    ) -> AppList:
        """List the installed desktop applications (those shown in the app menu), sorted by name."""
        apps, more = cap(sorted((e for e in _entries() if e.visible), key=lambda e: e.name.lower()), limit)
        return AppList(apps=[e.public() for e in apps], more=more)

    @server.tool(annotations=READ_ONLY)
    def search_apps(
        query: Annotated[str, Field(description="part of an app's name, or a category such as Graphics")],
        limit: Annotated[int, Field(description="most apps to return", ge=1, le=100)] = 20,
    ) -> AppList:
        """Find installed applications by name or category, best matches first. Use before launch_app."""
        if not query.strip():
            raise ToolError("Give part of an app's name or a category to search for.")
        apps, more = cap(_ranked(_entries(), query.strip().lower()), limit)
        return AppList(apps=[e.public() for e in apps], more=more)

    @server.tool(annotations=ADDITIVE)
    def launch_app(
        app: Annotated[str, Field(description="the app's id (e.g. org.gnome.gedit.desktop) or its name")],
        target: Annotated[str | None, Field(description="a file path or URL to open in it")] = None,
    ) -> Launched:
        """Start an installed desktop application, optionally opening a file or URL in it."""
        launch.require_display()
        entry = _find(app)
        command = _command(entry, target)
        if not command:
            raise ToolError(f"{entry.name} has an empty Exec line, so it cannot be started.")
        cwd = entry.get("Path")
        pid = launch.spawn_detached(command, cwd=cwd if cwd and os.path.isdir(cwd) else None)
        return Launched(pid=pid, app_id=entry.id, app_name=entry.name, command=command, target=target)

    @server.tool(annotations=READ_ONLY)
    def list_running_apps(
        limit: Annotated[int, Field(description="most apps to return", ge=1, le=200)] = 50,
    ) -> RunningList:
        """List the applications that have windows open on screen, with their window titles and PIDs."""
        d = _display()
        try:
            apps, more = cap([app for app, _ in _running(d)], limit)
        finally:
            d.close()
        return RunningList(apps=apps, more=more)

    @server.tool(annotations=DESTRUCTIVE)
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
        d = _display() if pid is None or os.environ.get("DISPLAY") else None
        try:
            matched = _match(_running(d) if d else [], app)
            methods = [_stop(d, info.pid or 0, windows, force) for info, windows in matched]
        finally:
            if d:
                d.close()
        deadline = time.monotonic() + wait_seconds
        while not all(exited := [not _alive(info.pid or 0) for info, _ in matched]):
            if time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        closed = [Closed(pid=info.pid or 0, name=info.name, method=method, exited=gone)
                  for (info, _), method, gone in zip(matched, methods, exited, strict=True)]
        note = "All exited." if all(exited) else (
            "Still running: it may be asking to save work; look at its window, or close it again with force.")
        return CloseResult(closed=closed, all_exited=all(exited), note=note)

    @server.tool(annotations=WEB_ACTION)
    def open_with_default(
        target: Annotated[str, Field(description="a file path or a URL (with its scheme, e.g. https://)")],
    ) -> Opened:
        """Open a file or URL with the desktop's default application for it (browser, viewer, editor…)."""
        if _URL.match(target) and not target.startswith("file://"):
            return Opened(target=target, kind="url", pid=launch.open_with_default(target))
        path = _as_file(target, "open_with_default")
        if not os.path.exists(path):
            raise ToolError(f"There is no file or folder at {path}. For a web address, include https://.")
        return Opened(target=path, kind="file", pid=launch.open_with_default(path))

    return server
