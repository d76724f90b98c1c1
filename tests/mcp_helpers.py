"""Talking to the built-in MCP servers the way real clients do: over stdio (a real subprocess running
`python -m llmos mcp serve NAME`) and over the SDK's in-memory transport."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import AsyncIterator
from typing import Any

from mcp import Client, StdioServerParameters


@contextlib.asynccontextmanager
async def stdio_client(name: str, env: dict[str, str] | None = None, cwd: str | None = None) -> AsyncIterator[Client]:
    params = StdioServerParameters(command=sys.executable, args=["-m", "llmos", "mcp", "serve", name],
                                   env={**os.environ, **(env or {})}, cwd=cwd)
    async with Client(params) as client:
        yield client


@contextlib.asynccontextmanager
async def memory_client(name: str, settings: dict[str, Any] | None = None) -> AsyncIterator[Client]:
    from llmos.servers import build_server

    async with Client(build_server(name, settings)) as client:
        yield client


async def call(client: Client, tool: str, **arguments: Any) -> Any:
    """The structured result of a successful call; fails the test with the tool's message otherwise."""
    result = await client.call_tool(tool, arguments)
    if result.is_error:
        raise AssertionError(f"{tool} failed: {result.content[0].text if result.content else '?'}")
    return result.structured_content


async def call_error(client: Client, tool: str, **arguments: Any) -> str:
    """The message of a call that must fail as a tool error (not a protocol error, not a crash)."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error, f"{tool} should have failed but returned {result.structured_content}"
    text = result.content[0].text
    assert "Traceback" not in text
    return text


def annotations_of(tools: Any) -> dict[str, dict[str, Any]]:
    return {t.name: (t.annotations.model_dump(by_alias=True, exclude_none=True) if t.annotations else {})
            for t in tools.tools}
