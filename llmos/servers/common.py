"""What every built-in server shares: construction, truthful annotation presets, bounded results."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations

from llmos import __version__

__all__ = ["ToolError", "new_server", "READ_ONLY", "ADDITIVE", "DESTRUCTIVE", "READ_ONLY_WEB", "WEB_ACTION",
           "cap", "sentence"]

# Annotation presets. The confirmation gate relies on these, so they must tell the truth.
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
# Changes something but destroys nothing (create a file that did not exist, make a directory, launch an app).
ADDITIVE = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False)
# Deletes, overwrites, moves, kills, pushes, resets, installs or changes settings.
DESTRUCTIVE = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False,
                              open_world_hint=False)
READ_ONLY_WEB = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True,
                                open_world_hint=True)
WEB_ACTION = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False,
                             open_world_hint=True)


def new_server(name: str, instructions: str) -> MCPServer:
    # log_level WARNING: creating a server must not turn the host's logging up to INFO.
    return MCPServer(f"llmos-{name}", version=__version__, instructions=instructions, log_level="WARNING")


T = TypeVar("T")


def cap(items: Sequence[T], limit: int) -> tuple[list[T], int]:
    """At most ``limit`` items, and how many were left out (for an "N more" note)."""
    limit = max(0, limit)
    return list(items[:limit]), max(0, len(items) - limit)


def sentence(exc: OSError, what: str) -> str:
    """An OSError as a sentence a person understands."""
    reason = exc.strerror or type(exc).__name__
    return f"{what}: {reason.lower()}"
