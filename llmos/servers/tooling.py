"""Tools as plain functions: each built-in server lists its tools as data (function, annotations, facts) and
registers them here. The facts travel as the tool's MCP `_meta`, so the agent reads them from the server
instead of keeping its own lists."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer
    from mcp.types import ToolAnnotations

# The `_meta` keys llmos's own servers declare (namespaced, as the MCP spec asks of `_meta` keys).
REVERSIBLE = "llmos/reversible"  # `llmos undo` can reverse the call
PATH_ARGS = "llmos/path_args"  # arguments naming a file or folder (absolute, ~ or from the current folder)
URL_ARGS = "llmos/url_args"  # argument names that are URLs
NETWORK = "llmos/network"  # the call reaches, or sends data to, another machine
CONTENT = "llmos/reads_content"  # the result holds what files say (a file read, matching lines, a patch)
META_KEYS = (REVERSIBLE, PATH_ARGS, URL_ARGS, NETWORK, CONTENT)


def facts(*, reversible: bool = False, paths: Iterable[str] = (), urls: Iterable[str] = (),
          network: bool = False, content: bool = False) -> dict[str, Any]:
    return {REVERSIBLE: reversible, PATH_ARGS: list(paths), URL_ARGS: list(urls), NETWORK: network,
            CONTENT: content}


@dataclass(frozen=True)
class Tool:
    """One tool: ``fn(**arguments)``, or ``fn(context, **arguments)`` when its first parameter is annotated
    with the server's context type (`Fs`, `GitContext`, `Policy`…: what the tool needs to know or keep);
    ``defaults`` maps argument names to context attributes whose values become the argument's default (a
    setting such as the diff size limit)."""
    fn: Callable[..., Any]
    annotations: ToolAnnotations
    meta: dict[str, Any]
    defaults: Mapping[str, str] = field(default_factory=dict)
    title: str | None = None


def register(server: MCPServer, context: Any, tools: Iterable[Tool]) -> None:
    """Add every tool to ``server`` as the MCP tool ``fn.__name__``, its input schema the function's
    signature without the context."""
    for tool in tools:
        server.add_tool(bind(tool.fn, context, {k: getattr(context, v) for k, v in tool.defaults.items()}),
                        title=tool.title, annotations=tool.annotations, meta=tool.meta)


def bind(fn: Callable[..., Any], context: Any, defaults: Mapping[str, Any]) -> Callable[..., Any]:
    """``fn`` as an MCP tool: its first parameter filled in with ``context`` when that parameter is annotated
    with the context's type (the MCP schema comes from the rest), and an `LlmosError` it raises turned into
    a `ToolError`, so its message (not only "Error executing tool") reaches the model and the person."""
    from mcp.server.mcpserver.exceptions import ToolError

    from llmos.errors import LlmosError

    signature = inspect.signature(fn, eval_str=True)
    params = list(signature.parameters.values())
    takes_context = bool(params) and isinstance(params[0].annotation, type) and isinstance(context,
                                                                                         params[0].annotation)
    if takes_context:
        params = [p.replace(default=defaults[p.name]) if p.name in defaults else p for p in params[1:]]
    elif defaults:
        raise TypeError(f"{fn.__name__} takes no context, so it cannot take defaults from it")
    given = (context,) if takes_context else ()

    @functools.wraps(fn)
    def tool(**arguments: Any) -> Any:
        try:
            return fn(*given, **arguments)
        except LlmosError as exc:
            raise ToolError(str(exc)) from exc

    tool.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    # Resolved annotations without the context's, so the SDK's own introspection sees what the schema says.
    tool.__annotations__ = {p.name: p.annotation for p in params} | {"return": signature.return_annotation}
    del tool.__wrapped__
    return tool
