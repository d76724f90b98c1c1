"""The apps server against real .desktop files, a real X server (Xvfb), real X11 programs and xdg-open.

Needs Debian's xvfb, x11-apps (xeyes, xclock), openbox, xdg-utils and shared-mime-info; a missing one
fails."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from llmos.servers.common import DESTRUCTIVE, READ_ONLY, WEB_ACTION
from tests.mcp_helpers import annotations_of, call, call_error, memory_client, stdio_client
from tests.xserver import _window_manager, x_display, xvfb  # noqa: F401  (fixtures, used by name)

TOOLS = {"list_apps": READ_ONLY, "search_apps": READ_ONLY, "launch_app": WEB_ACTION,  # it may open a URL: open world
         "list_running_apps": READ_ONLY, "close_app": DESTRUCTIVE, "open_with_default": WEB_ACTION}
RECORDER = """#!/bin/sh
# Writes its arguments, one per line, beside itself: what a launched program was given.
printf '%s\\n' "$@" > "$0.out.tmp" && mv "$0.out.tmp" "$0.out"
"""
APP = "[Desktop Entry]\nType=Application\n"


def entry(directory: Path, name: str, body: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")
    return path


@pytest.fixture
def desktop(tmp_path: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Two system data dirs and the user's, holding real .desktop files (and the recorder program)."""
    sys1, sys2 = tmp_path / "sys1" / "applications", tmp_path / "sys2" / "applications"
    user = isolated_home / "data" / "applications"
    monkeypatch.setenv("XDG_DATA_DIRS", f"{sys1.parent}:{sys2.parent}")
    for var in ("LC_ALL", "LC_MESSAGES", "LANG", "XDG_CURRENT_DESKTOP"):
        monkeypatch.delenv(var, raising=False)
    recorder = tmp_path / "bin" / "recorder"
    entry(recorder.parent, "recorder", RECORDER).chmod(0o755)

    entry(sys1, "xeyes.desktop", APP + "Name=Eyes\nName[de]=Augen\nGenericName=Eye watcher\n"
                                       "Exec=xeyes\nCategories=Utility;Graphics;\n")
    entry(sys1, "xclock.desktop", APP + "Name=Clock\nName[de_DE]=Uhr\nExec=xclock\n"
                                        "# a comment; with a semicolon\nCategories=Utility;Clock;\n"
                                        "Keywords=time;watch;\n")
    entry(sys2, "xclock.desktop", APP + "Name=Old Clock\nExec=oclock\n")  # shadowed by sys1's
    entry(sys1, "secret.desktop", APP + "Name=Secret Tool\nExec=xeyes\nNoDisplay=true\n")
    entry(sys1, "unwanted.desktop", APP + "Name=Unwanted\nExec=xeyes\n")
    entry(sys1, "missing.desktop", APP + "Name=Missing\nExec=nothere\nTryExec=llmos-no-such-program\n")
    entry(sys1, "kdeonly.desktop", APP + "Name=Kde Only\nExec=xeyes\nOnlyShowIn=KDE;\n")
    entry(sys1, "site.desktop", "[Desktop Entry]\nType=Link\nName=Web Site\nURL=https://example.com\n")
    entry(sys1, "broken.desktop", "Name=No group header\nExec=xeyes\n")
    entry(sys1, "kde/editor.desktop", APP + "Name=Editor\nExec=xeyes %f\nCategories=Development;\n")
    entry(sys1, "sleeper.desktop", APP + "Name=Sleeper\nExec=sleep 120\n")
    entry(sys1, "recorder.desktop", APP + "Name=Recorder Files\nIcon=recorder-icon\nCategories=Utility;\n"
          f'Exec={recorder} --title=%c --from %k %i %F %% "quoted \\\\"arg\\\\" $x" %d\n')
    entry(sys1, "recorder-url.desktop", APP + f"Name=Recorder Links\nExec={recorder} --url %u\n")
    entry(sys2, "gamma.desktop", APP + "Name=Gamma\nExec=xeyes\nCategories=Game;\n")
    # The user's files override the system's by desktop-file id: a new name and command, and a deletion.
    entry(user, "xeyes.desktop", APP + "Name=My Eyes\nExec=xeyes -geometry 120x90\n"
                                       "Categories=Utility;Graphics;\n")
    entry(user, "unwanted.desktop", APP + "Name=Unwanted\nExec=xeyes\nHidden=true\n")
    return {"sys1": sys1, "user": user, "recorder": recorder}


@pytest.fixture
def reap() -> Iterator[list[int]]:
    """PIDs a test started; any still alive at the end are killed, so a failing test leaves no program."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def wait_for(predicate: Callable[[], Any], timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := predicate()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return result


def gone(pid: int) -> bool:
    """Exited and reaped: not even a zombie is left."""
    return not psutil.pid_exists(pid)


def recorded(recorder: Path) -> list[str]:
    """The arguments the recorder was started with (waiting for it to run), then forget them."""
    out = Path(f"{recorder}.out")
    assert wait_for(out.exists), "the launched program never ran"
    args = out.read_text().splitlines()
    out.unlink()
    return args


def names(result: dict) -> list[str]:
    return [a["name"] for a in result["apps"]]


async def window_of(client: Any, pid: int) -> dict | None:
    """The running-app entry for ``pid``, once its window is on screen (None if it never shows)."""
    deadline = time.monotonic() + 10
    while True:
        apps = (await call(client, "list_running_apps"))["apps"]
        found = next((a for a in apps if a["pid"] == pid), None)
        if found or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.1)


def test_tools_schemas_and_annotations() -> None:
    async def go() -> None:
        async with memory_client("apps") as client:
            tools = await client.list_tools()
            annotations = annotations_of(tools)
            assert set(annotations) == set(TOOLS)
            for name, preset in TOOLS.items():
                assert annotations[name] == preset.model_dump(by_alias=True, exclude_none=True), name
            for tool in tools.tools:
                assert tool.description and tool.output_schema, tool.name
                for prop in tool.input_schema["properties"].values():
                    assert prop.get("description"), tool.name
    asyncio.run(go())


def test_tools_declare_their_facts_as_meta() -> None:
    async def go():
        async with memory_client("apps") as client:
            return (await client.list_tools()).tools
    tools = {t.name: t.meta or {} for t in asyncio.run(go())}
    assert all(meta["llmos/reversible"] is False for meta in tools.values())
    for name in ("launch_app", "open_with_default"):
        assert tools[name]["llmos/url_args"] == ["target"] and tools[name]["llmos/network"] is True
    assert tools["list_apps"] == {"llmos/reversible": False, "llmos/path_args": [], "llmos/url_args": [],
                                  "llmos/network": False, "llmos/reads_content": False}


def test_list_apps_visibility_and_precedence(desktop: dict[str, Path]) -> None:
    async def go() -> None:
        async with memory_client("apps") as client:
            listed = await call(client, "list_apps")
            by_id = {a["id"]: a for a in listed["apps"]}
            assert names(listed) == ["Clock", "Editor", "Gamma", "My Eyes", "Recorder Files",
                                     "Recorder Links", "Sleeper"] and listed["more"] == 0
            # the user's file beats the system's; the first system dir beats the second
            assert by_id["xeyes.desktop"] == {
                "id": "xeyes.desktop", "name": "My Eyes", "exec": "xeyes -geometry 120x90",
                "categories": ["Utility", "Graphics"], "path": str(desktop["user"] / "xeyes.desktop")}
            assert by_id["xclock.desktop"]["path"] == str(desktop["sys1"] / "xclock.desktop")
            # a file in a subdirectory gets a dashed id
            assert by_id["kde-editor.desktop"]["exec"] == "xeyes %f"
            capped = await call(client, "list_apps", limit=2)
            assert names(capped) == ["Clock", "Editor"] and capped["more"] == 5
    asyncio.run(go())


def test_only_show_in_follows_the_desktop(desktop: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CURRENT_DESKTOP", "ubuntu:KDE")

    async def go() -> None:
        async with memory_client("apps") as client:
            assert "Kde Only" in names(await call(client, "list_apps"))
    asyncio.run(go())


def test_localized_names(desktop: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    async def listed() -> dict[str, str]:
        async with memory_client("apps") as client:
            return {a["id"]: a["name"] for a in (await call(client, "list_apps"))["apps"]}

    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    german = asyncio.run(listed())
    assert german["xclock.desktop"] == "Uhr"  # Name[de_DE]
    assert german["gamma.desktop"] == "Gamma"  # no translation: plain Name
    assert german["xeyes.desktop"] == "My Eyes"  # the user's override has no Name[de]
    # LC_MESSAGES beats LANG, and de_AT falls back to Name[de]
    monkeypatch.setenv("LC_MESSAGES", "de_AT.UTF-8")
    entry(desktop["user"], "xeyes.desktop", APP + "Name=Eyes\nName[de]=Augen\nExec=xeyes\n")
    austrian = asyncio.run(listed())
    assert austrian["xeyes.desktop"] == "Augen" and austrian["xclock.desktop"] == "Clock"


def test_search_by_name_and_category(desktop: dict[str, Path]) -> None:
    async def search(client: Any, query: str, **more: Any) -> list[str]:
        return names(await call(client, "search_apps", query=query, **more))

    async def go() -> None:
        async with memory_client("apps") as client:
            assert await search(client, "CLOCK") == ["Clock"]
            assert await search(client, "recorder") == ["Recorder Files", "Recorder Links"]
            # a name's prefix, then a word's prefix, then a substring, then a keyword (Clock's "time")
            assert await search(client, "e") == ["Editor", "My Eyes", "Recorder Files", "Recorder Links",
                                                 "Sleeper", "Clock"]
            assert await search(client, "graphics") == ["My Eyes"]  # category
            assert await search(client, "utility") == ["Clock", "My Eyes", "Recorder Files"]
            assert await search(client, "watch") == ["Clock"]  # keyword
            # an everyday word for a kind of app finds it by category ("pictures" → Graphics), last
            assert await search(client, "something for my pictures") == ["My Eyes"]
            assert await search(client, "music") == []  # no audio app here
            assert await search(client, "secret") == []  # NoDisplay is not offered
            capped = await call(client, "search_apps", query="utility", limit=1)
            assert names(capped) == ["Clock"] and capped["more"] == 2
            assert "search for" in await call_error(client, "search_apps", query="  ")
    asyncio.run(go())


def test_no_display_is_a_clear_error(desktop: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)

    async def go() -> None:
        async with memory_client("apps") as client:
            for tool, args in (("launch_app", {"app": "Clock"}), ("list_running_apps", {}),
                               ("close_app", {"app": "Clock"}),
                               ("open_with_default", {"target": "https://example.org"})):
                message = await call_error(client, tool, **args)
                assert "No graphical display is available" in message, tool
    asyncio.run(go())


@pytest.mark.usefixtures("x_display")
def test_launch_see_and_close_a_real_app(desktop: dict[str, Path], reap: list[int]) -> None:
    async def go() -> None:
        async with memory_client("apps") as client:
            launched = await call(client, "launch_app", app="xeyes")  # the id without .desktop
            pid = launched["pid"]
            reap.append(pid)
            assert launched["app_name"] == "My Eyes" and launched["app_id"] == "xeyes.desktop"
            assert launched["command"] == ["xeyes", "-geometry", "120x90"]
            assert os.getsid(pid) == pid  # its own session: not tied to llmos's terminal

            seen = await window_of(client, pid)
            assert seen == {"pid": pid, "name": "My Eyes", "app_id": "xeyes.desktop", "wm_class": "XEyes",
                            "windows": ["xeyes"]}

            closed = await call(client, "close_app", app="my eyes")
            assert closed["closed"] == [{"pid": pid, "name": "My Eyes", "exited": True,
                                         "method": "asked its windows to close"}]
            assert closed["all_exited"] is True and closed["note"] == "All exited."
            assert wait_for(lambda: gone(pid), 5), "xeyes was left behind as a zombie"
            assert all(a["pid"] != pid for a in (await call(client, "list_running_apps"))["apps"])
    asyncio.run(go())


def test_running_apps_under_a_window_manager(desktop: dict[str, Path], reap: list[int],
                                             window_manager: subprocess.Popen) -> None:
    async def go() -> None:
        async with memory_client("apps") as client:
            pid = (await call(client, "launch_app", app="xeyes"))["pid"]
            reap.append(pid)
            # Openbox frames the window (the root's child is its frame): only its client list names xeyes.
            assert (await window_of(client, pid))["name"] == "My Eyes"
            # A manager that exits leaves a stale, empty client list behind; the window is the root's again.
            window_manager.terminate()
            window_manager.wait(timeout=10)
            assert (await window_of(client, pid))["windows"] == ["xeyes"]
            assert (await call(client, "close_app", app="xeyes"))["all_exited"] is True
            assert wait_for(lambda: gone(pid), 5)
    asyncio.run(go())


@pytest.mark.usefixtures("x_display")
def test_close_by_title_pid_force_and_sigterm(desktop: dict[str, Path], reap: list[int]) -> None:
    async def go() -> None:
        async with memory_client("apps") as client:
            clock = (await call(client, "launch_app", app="xclock.desktop"))["pid"]
            sleeper = (await call(client, "launch_app", app="sleeper"))["pid"]
            reap.extend([clock, sleeper])
            assert (await window_of(client, clock))["name"] == "Clock"

            missing = await call_error(client, "close_app", app="Calculator")
            assert "No running application matches 'Calculator'. Running: Clock." in missing
            killed = await call(client, "close_app", app="CLOC", force=True)  # part of the window title
            assert killed["closed"] == [{"pid": clock, "name": "Clock", "method": "killed (SIGKILL)",
                                         "exited": True}]
            # A process with no window, by PID: asked to quit with SIGTERM.
            stopped = await call(client, "close_app", app=str(sleeper))
            assert stopped["closed"] == [{"pid": sleeper, "name": f"PID {sleeper}",
                                          "method": "asked to quit (SIGTERM)", "exited": True}]
            assert wait_for(lambda: gone(clock) and gone(sleeper), 5)
            assert f"No process with PID {sleeper}" in await call_error(client, "close_app", app=str(sleeper))
            assert "llmos itself" in await call_error(client, "close_app", app=str(os.getpid()))
    asyncio.run(go())


@pytest.mark.usefixtures("x_display")
def test_exec_field_codes(desktop: dict[str, Path], tmp_path: Path, reap: list[int]) -> None:
    recorder, desktop_file = desktop["recorder"], str(desktop["sys1"] / "recorder.desktop")
    notes = str(tmp_path / "my notes.txt")
    fixed = ["--title=Recorder Files", "--from", desktop_file, "--icon", "recorder-icon"]

    async def go() -> None:
        async with memory_client("apps") as client:
            launched = await call(client, "launch_app", app="Recorder Files",
                                  target=f"file://{tmp_path}/my%20notes.txt")  # %F wants a path
            assert launched["command"] == [str(recorder), *fixed, notes, "%", 'quoted "arg" $x']
            assert recorded(recorder) == launched["command"][1:]
            bare = await call(client, "launch_app", app="recorder.desktop")  # %F with no file: no argument
            assert recorded(recorder) == bare["command"][1:] == [*fixed, "%", 'quoted "arg" $x']
            url = await call(client, "launch_app", app="Recorder Links", target="https://example.org/a?b=c d")
            assert recorded(recorder) == url["command"][1:] == ["--url", "https://example.org/a?b=c d"]

            wrong = await call_error(client, "launch_app", app="Editor", target="https://example.org")
            assert "opens local files, not URLs" in wrong
            refused = await call_error(client, "launch_app", app="Clock", target=notes)
            assert "does not take files" in refused and "call launch_app with app 'Clock' and no target" in refused
            ambiguous = await call_error(client, "launch_app", app="record")
            assert "Did you mean: Recorder Files, Recorder Links?" in ambiguous
            assert "No installed application" in await call_error(client, "launch_app", app="photoshop")
            hidden = await call(client, "launch_app", app="Secret Tool")  # NoDisplay: launchable by name
            reap.append(hidden["pid"])
            assert hidden["command"] == ["xeyes"]
    asyncio.run(go())


@pytest.mark.usefixtures("x_display")
def test_open_with_default(desktop: dict[str, Path], isolated_home: Path, tmp_path: Path,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    # The real xdg-open, with our recorder as the handler of text files and of llmostest: URLs. The MIME
    # database it needs to recognise a text file is in /usr/share (Debian's shared-mime-info).
    monkeypatch.setenv("XDG_DATA_DIRS", f"{os.environ['XDG_DATA_DIRS']}:/usr/share")
    recorder = desktop["recorder"]
    entry(desktop["user"], "opener.desktop", APP + f"Name=Opener\nExec={recorder} %u\n"
                                                   "MimeType=text/plain;x-scheme-handler/llmostest;\n")
    entry(isolated_home / "config", "mimeapps.list", "[Default Applications]\ntext/plain=opener.desktop\n"
                                                     "x-scheme-handler/llmostest=opener.desktop\n")
    note = tmp_path / "note.txt"
    note.write_text("hello\n")

    async def go() -> None:
        async with memory_client("apps") as client:
            opened = await call(client, "open_with_default", target=str(note))
            assert opened["kind"] == "file" and opened["target"] == str(note) and opened["pid"] > 0
            assert recorded(recorder) == [str(note)]
            url = await call(client, "open_with_default", target="llmostest://hello/world")
            assert url["kind"] == "url" and url["target"] == "llmostest://hello/world"
            assert recorded(recorder) == ["llmostest://hello/world"]
            absent = await call_error(client, "open_with_default", target=str(tmp_path / "absent.txt"))
            assert "There is no file or folder" in absent and "launch_app" not in absent
            # a name, not a file: pointed at the launcher; a "web address" with a space is opened nowhere
            windows = await call_error(client, "open_with_default", target="C:\\Program Files\\x\\x.exe")
            assert "There is no file or folder" in windows  # a drive letter is no URL scheme
            named = await call_error(client, "open_with_default", target="notepad deluxe")
            assert "call launch_app with app 'notepad deluxe'" in named
            assert "not a web address" in await call_error(client, "open_with_default",
                                                           target="https://notepad deluxe.com")
            time.sleep(0.5)
            assert not Path(f"{recorder}.out").exists()  # nothing was started
    asyncio.run(go())


def test_over_stdio(desktop: dict[str, Path]) -> None:
    async def go() -> None:
        async with stdio_client("apps") as client:
            annotations = annotations_of(await client.list_tools())
            assert set(annotations) == set(TOOLS) and annotations["close_app"]["destructiveHint"] is True
            listed = await call(client, "list_apps", limit=3)
            assert names(listed) == ["Clock", "Editor", "Gamma"] and listed["more"] == 4
            found = await call(client, "search_apps", query="eyes")
            assert found["apps"][0]["path"] == str(desktop["user"] / "xeyes.desktop")
    asyncio.run(go())
