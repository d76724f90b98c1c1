"""The apps server: installed desktop applications (XDG .desktop files), launching them, the running ones
(X11 windows) and closing them, and opening files or URLs with the default handler.

`desktop` reads the installed entries, `exec_line` turns one into an argv, `windows` finds and closes running
apps on X11, `tools` holds the tools as plain functions; each is registered here with its annotations and
the facts it declares as MCP `_meta`."""

from __future__ import annotations

from typing import Any


def build_server(settings: dict[str, Any]) -> Any:
    from llmos.servers.apps import tools
    from llmos.servers.common import DESTRUCTIVE, READ_ONLY, WEB_ACTION, new_server
    from llmos.servers.tooling import Tool, facts, register

    server = new_server("apps", "Desktop applications: find installed apps, launch them (optionally with a "
                                "file or URL), list and close running ones, open files and URLs.")
    # A launched app or the default handler may fetch a URL target: they count as reaching the network.
    register(server, None, [  # the apps tools need no context
        Tool(tools.list_apps, READ_ONLY, facts()),
        Tool(tools.search_apps, READ_ONLY, facts()),
        Tool(tools.launch_app, WEB_ACTION, facts(paths=["target"], urls=["target"], network=True)),
        Tool(tools.list_running_apps, READ_ONLY, facts()),
        Tool(tools.close_app, DESTRUCTIVE, facts()),
        Tool(tools.open_with_default, WEB_ACTION, facts(paths=["target"], urls=["target"], network=True)),
    ])
    return server
