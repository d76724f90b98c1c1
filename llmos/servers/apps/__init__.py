"""The apps server: installed desktop applications (XDG .desktop files), launching them, the running ones
(X11 windows) and closing them, and opening files or URLs with the default handler.

`desktop` reads the installed entries, `exec_line` turns one into an argv, `windows` finds and closes running
apps on X11, `tools` holds the tools as plain functions; each is registered here with its annotations and
the facts it declares as MCP `_meta`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def build_server(settings: dict[str, Any]) -> Any:
    from llmos.servers.apps import tools
    from llmos.servers.tooling import facts
    from llmos.servers.common import DESTRUCTIVE, READ_ONLY, WEB_ACTION, new_server, register

    server = new_server("apps", "Desktop applications: find installed apps, launch them (optionally with a "
                                "file or URL), list and close running ones, open files and URLs.")
    # A launched app or the default handler may fetch a URL target: they count as reaching the network.
    table: list[tuple[Callable[..., Any], Any, dict[str, Any]]] = [
        (tools.list_apps, READ_ONLY, facts()),
        (tools.search_apps, READ_ONLY, facts()),
        (tools.launch_app, WEB_ACTION, facts(paths=["target"], urls=["target"], network=True)),
        (tools.list_running_apps, READ_ONLY, facts()),
        (tools.close_app, DESTRUCTIVE, facts()),
        (tools.open_with_default, WEB_ACTION, facts(paths=["target"], urls=["target"], network=True)),
    ]
    for fn, preset, meta in table:
        register(server, fn, settings, annotations=preset, meta=meta)
    return server
