"""llmos's built-in MCP tool servers: its hands. Each module builds one server with the official `mcp` SDK,
usable by llmos in-process and by any MCP client over stdio (`llmos mcp serve NAME`)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

# name -> (module, one-line summary). Modules are imported only when a server is built: `import mcp` is slow.
BUILTIN: dict[str, tuple[str, str]] = {
    "filesystem": ("llmos.servers.filesystem", "files and folders: list, read, search, write, move, delete (to trash)"),
    "git": ("llmos.servers.git", "git repositories: status, diff, log, commit, branches, push, pull"),
    "system": ("llmos.servers.system", "the machine: CPU, memory, disks, processes, network, battery, GPU"),
    "apps": ("llmos.servers.apps", "desktop applications: list, launch, close, open files and URLs"),
    "browser": ("llmos.servers.browser", "the web: open URLs, fetch pages as text, download files"),
}


def build_server(name: str, settings: dict[str, Any] | None = None) -> MCPServer:
    """The built-in server ``name``; ``settings`` is its section of the config (``servers.NAME``)."""
    if name not in BUILTIN:
        from llmos.errors import UsageError

        raise UsageError(f"no built-in server named {name!r} (built-in: {', '.join(BUILTIN)})")
    module = importlib.import_module(BUILTIN[name][0])
    return module.build_server(settings or {})
