"""What a tool declares about itself, read from its MCP `_meta` — the agent keeps no lists of its own.

Built-in servers declare, per tool: ``llmos/reversible`` (`llmos undo` reverses it), ``llmos/path_args``
and ``llmos/url_args`` (which arguments are paths or URLs), ``llmos/network`` (it sends data off the
machine), ``llmos/reads_content`` (its result holds what files say: a read, matching lines, a patch — not a
listing, a process table or disk usage). Only built-in servers are believed: a third-party server's `_meta`
is ignored, and its tools count as reaching the network unless they are read-only.
"""

from __future__ import annotations

from typing import Any

from llmos.agent.host import ToolInfo


def _declared(tool: ToolInfo, key: str) -> Any:
    return tool.meta.get(f"llmos/{key}") if tool.builtin else None


def _names(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def reversible(tool: ToolInfo) -> bool | None:
    """True/False as the built-in tool declares; None when unknown (third-party, or nothing declared)."""
    value = _declared(tool, "reversible")
    return value if isinstance(value, bool) else None


def path_args(tool: ToolInfo) -> list[str]:
    return _names(_declared(tool, "path_args"))


def url_args(tool: ToolInfo) -> list[str]:
    return _names(_declared(tool, "url_args"))


def reads_content(tool: ToolInfo) -> bool:
    """Whether the built-in tool's result holds file content (what arms the exfiltration question)."""
    return _declared(tool, "reads_content") is True


def sends_off_machine(tool: ToolInfo) -> bool:
    """Whether a call may carry data off the machine: a built-in that says so, or any third-party tool
    that is not read-only (what it does with its arguments is unknown)."""
    if tool.builtin:
        return _declared(tool, "network") is True
    return not tool.read_only



def path_values(tool: ToolInfo, arguments: dict[str, Any]) -> list[str]:
    """The paths a call touches: its path arguments, and the literal paths a built-in computed for the call
    (``llmos/paths``: the words of a `!` command)."""
    given = [arguments[k] for k in path_args(tool) if isinstance(arguments.get(k), str) and arguments[k]]
    return given + _names(_declared(tool, "paths"))
