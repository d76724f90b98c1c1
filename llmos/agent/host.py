"""The MCP host: connects every configured server concurrently and routes tool calls to them.

Each connection lives in its own task (an MCP client must be entered and exited in the same task);
calls from any task go through it. A slow or broken server is reported and the rest keep working; a
server that dies mid-session is restarted once, then marked down.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any

from llmos.agent import tool_names
from llmos.agent.servers_config import ServerSpec
from llmos.servers import BUILTIN

log = logging.getLogger(__name__)

DEFAULT_TOOL_TIMEOUT_S = 60.0
DEFAULT_START_TIMEOUT_S = 20.0
_ABANDONED: list[str] = []  # in-process tool calls that timed out


def abandoned_calls() -> list[str]:
    """In-process tool calls llmos stopped waiting for. Their worker threads may block forever (a pipe, a
    dead mount), and Python waits for such threads at exit, so the process must then exit without them."""
    return list(_ABANDONED)


@dataclass(frozen=True)
class ToolInfo:
    server: str  # the real server: the key of its config entry (rules and approvals match this …)
    name: str  # … and the server's own name for the tool, never the exposed one
    exposed: str  # the name offered to the model (see tool_names: sanitised, namespaced on collision)
    description: str
    input_schema: dict[str, Any]
    annotations: dict[str, Any]  # camelCase hints as the server sent them
    builtin: bool
    trusted: bool = False  # annotations are believed: built-ins, and servers with `trust_annotations: true`
    meta: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)  # the tool's MCP `_meta`

    @property
    def qualified(self) -> str:
        """For display. Ambiguous when names hold dots: match on ``identity`` instead."""
        return f"{self.server}.{self.name}"

    @property
    def identity(self) -> tuple[str, str]:
        """(server, tool) as the server itself knows them."""
        return self.server, self.name

    @property
    def read_only(self) -> bool:
        return self.annotations.get("readOnlyHint", False) is True

    @property
    def destructive(self) -> bool:
        # MCP's defaults when a hint is absent: not read-only, destructive.
        return not self.read_only and self.annotations.get("destructiveHint", True) is not False


@dataclass
class ToolOutcome:
    ok: bool
    text: str  # what the model reads
    structured: dict[str, Any] | None = None
    duration_s: float = 0.0
    timed_out: bool = False


@dataclass
class _Connection:
    spec: ServerSpec
    client: Any = None
    task: asyncio.Task | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    error: str | None = None
    restarts: int = 0
    tools: list[dict[str, Any]] = field(default_factory=list)  # name, description, input_schema, annotations
    connecting: asyncio.Task | None = None  # a connection being made in the background (tools from cache)


class McpHost:
    def __init__(self, specs: list[ServerSpec], connect_timeout_s: float = DEFAULT_START_TIMEOUT_S, cache: Any = None,
                 tool_timeout_s: float = DEFAULT_TOOL_TIMEOUT_S):
        """``cache``: a ToolCache; built-in servers found in it are connected in the background.
        ``tool_timeout_s``: how long one tool call may take before llmos stops waiting for it."""
        self._connections = {s.name: _Connection(s) for s in specs}
        self._timeout = connect_timeout_s
        self._tool_timeout = tool_timeout_s
        self._cache = cache
        self.tools: dict[str, ToolInfo] = {}  # exposed name -> tool
        self.warnings: list[str] = []  # tool names that collided or could not be offered
        self._started: asyncio.Task | None = None
        self._deferred: list[_Connection] = []  # offered from the cache, not connected yet

    # ---- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> asyncio.Task:
        """Begin connecting every server in the background; await ``ready()`` before using tools."""
        if self._started is None:
            self._started = asyncio.create_task(self._start_all())
        return self._started

    async def ready(self) -> None:
        await self.start()

    async def _start_all(self) -> None:
        now, later = [], []
        for conn in self._connections.values():
            cached = self._cache.get(conn.spec) if self._cache is not None and conn.spec.builtin else None
            if cached is None:
                now.append(conn)
            else:
                conn.tools = cached
                later.append(conn)
        if later:
            self._index_tools()  # offered at once; connected by connect_deferred(), or at their first call
            self._deferred = later
        await self._connect_all(now)

    def connect_deferred(self) -> None:
        """Connect the servers whose tools came from the cache, in the background. Callers start this once
        the first model request is under way, so the SDK import does not compete with it."""
        if not self._deferred:
            return
        background = asyncio.create_task(self._connect_all(self._deferred))
        for conn in self._deferred:
            conn.connecting = background
        self._deferred = []

    async def _connect_all(self, connections: list[_Connection]) -> None:
        import importlib

        if not connections:
            return
        # Importing the SDK and the server modules takes most of a second: do it off the event loop, so
        # whatever else is starting (the model picker's survey, the shell's prompt) goes on meanwhile.
        modules = ["mcp"] + [BUILTIN[c.spec.name][0] for c in connections
                             if c.spec.builtin and c.spec.transport == "memory"]
        await asyncio.to_thread(lambda: [importlib.import_module(m) for m in modules])
        await asyncio.gather(*(self._connect(c) for c in connections))
        for conn in connections:
            conn.connecting = None
            if self._cache is not None and conn.spec.builtin and conn.error is None:
                self._cache.put(conn.spec, conn.tools)
        self._index_tools()

    async def _connect(self, conn: _Connection) -> None:
        conn.stop = asyncio.Event()
        connected = asyncio.get_running_loop().create_future()
        conn.task = asyncio.create_task(self._serve(conn, connected), name=f"mcp-{conn.spec.name}")
        try:
            await asyncio.wait_for(asyncio.shield(connected), self._timeout)
            # A server that connects but never lists its tools must not hold llmos up either.
            listing = await asyncio.wait_for(conn.client.list_tools(), self._timeout)
            conn.tools = [_tool_record(t) for t in listing.tools]
            conn.error = None
        except TimeoutError:
            conn.error = f"did not start within {self._timeout:g}s (agent.server_start_timeout_s)"
            conn.stop.set()
        except Exception as exc:  # a broken server is reported in one line; the others keep working
            conn.error = _one_line(exc)
            if conn.spec.transport == "stdio":
                conn.error += f" (its output is in {server_log_path(conn.spec.name)})"
            conn.stop.set()
            log.debug("server %s failed to start", conn.spec.name, exc_info=True)

    async def _serve(self, conn: _Connection, connected: asyncio.Future) -> None:
        from mcp import Client

        errlog = _server_log(conn.spec) if conn.spec.transport == "stdio" else None
        try:
            async with Client(_target(conn.spec, errlog)) as client:
                conn.client = client
                connected.set_result(True)
                await conn.stop.wait()
        except BaseException as exc:
            if not connected.done():
                connected.set_exception(exc if isinstance(exc, Exception) else RuntimeError("cancelled"))
            elif not conn.stop.is_set():
                conn.error = f"stopped: {_one_line(exc)}"
        finally:
            conn.client = None
            if errlog is not None:
                errlog.close()

    def _index_tools(self) -> None:
        records = {tool_names.Entry(c.spec.name, t["name"], c.spec.builtin): (c.spec, t)
                   for c in self._connections.values() for t in c.tools}
        exposed, warnings = tool_names.assign(list(records))
        for message in warnings:
            if message not in self.warnings:
                log.info("%s", message)  # callers show host.warnings to the person
                self.warnings.append(message)
        tools = {}
        for entry, name in exposed.items():
            spec, t = records[entry]
            tools[name] = ToolInfo(spec.name, t["name"], name, t["description"], t["input_schema"], t["annotations"],
                                   spec.builtin, spec.builtin or spec.trust_annotations, dict(t.get("meta") or {}))
        self.tools = tools

    async def aclose(self) -> None:
        pending = {c.connecting for c in self._connections.values() if c.connecting is not None}
        if pending:  # let background connections finish starting, so each is closed by its own task
            await asyncio.wait(pending, timeout=self._timeout)
        for conn in self._connections.values():
            conn.stop.set()
        tasks = [c.task for c in self._connections.values() if c.task]
        if tasks:
            await asyncio.wait(tasks, timeout=5)

    # ---- state -------------------------------------------------------------------------------------------

    def down(self) -> dict[str, str]:
        """Servers that are not working, with the reason in a few words."""
        return {n: c.error for n, c in self._connections.items() if c.error}

    # ---- calls -------------------------------------------------------------------------------------------

    async def call(self, exposed: str, arguments: dict[str, Any]) -> ToolOutcome:
        tool = self.tools.get(exposed)
        if tool is None:
            return ToolOutcome(False, f"There is no tool named {exposed!r}.")
        conn = self._connections[tool.server]
        start = time.perf_counter()
        if conn in self._deferred:
            self.connect_deferred()
        if conn.connecting is not None:  # offered from the cache; the server is still starting
            await asyncio.shield(conn.connecting)
        for attempt in (0, 1):
            if conn.client is None and not await self._restart(conn):
                return ToolOutcome(False, f"The {tool.server} server is down ({conn.error}).")
            try:
                result = await asyncio.wait_for(conn.client.call_tool(tool.name, arguments), self._tool_timeout)
            except TimeoutError:  # the server may still be working; llmos stops waiting and says so
                log.debug("call %s timed out", tool.qualified)
                if conn.spec.transport == "memory":
                    _ABANDONED.append(tool.qualified)  # its worker thread may never end: see abandoned_calls()
                return ToolOutcome(False, f"{tool.qualified} did not answer within {self._tool_timeout:g}s "
                                   "(agent.tool_timeout_s); llmos stopped waiting for it.",
                                   duration_s=time.perf_counter() - start, timed_out=True)
            except Exception as exc:  # the connection broke: restart once, retry only what cannot harm
                log.debug("call %s failed", tool.qualified, exc_info=True)
                conn.error = _one_line(exc)
                conn.stop.set()
                conn.client = None
                if attempt == 0 and tool.read_only and await self._restart(conn):
                    continue
                return ToolOutcome(False, f"The {tool.server} server failed: {conn.error}",
                                   duration_s=time.perf_counter() - start)
            text = "\n".join(getattr(c, "text", "") for c in result.content if getattr(c, "type", "") == "text")
            structured = result.structured_content if isinstance(result.structured_content, dict) else None
            return ToolOutcome(not result.is_error, text, structured, time.perf_counter() - start)
        raise AssertionError("unreachable")

    async def _restart(self, conn: _Connection) -> bool:
        if conn.restarts >= 1:
            return False
        conn.restarts += 1
        if conn.task:
            conn.stop.set()
            await asyncio.wait([conn.task], timeout=5)
        await self._connect(conn)
        return conn.client is not None


def _tool_record(tool: Any) -> dict[str, Any]:
    """What the host keeps of a tool (also what the tool cache stores)."""
    return {"name": tool.name, "description": tool.description or "",
            "input_schema": tool.input_schema or {"type": "object"},
            "annotations": tool.annotations.model_dump(by_alias=True, exclude_none=True) if tool.annotations else {},
            "meta": dict(tool.meta) if isinstance(tool.meta, dict) else {}}


def _target(spec: ServerSpec, errlog: Any = None) -> Any:
    if spec.transport == "memory":
        from llmos.servers import build_server

        from llmos.redact import install_log_filter

        _quiet_tool_crashes()
        server = build_server(spec.name, spec.settings)
        install_log_filter()  # building a server may have given the root logger a handler of its own
        return server
    from mcp import StdioServerParameters
    from mcp.client.stdio import stdio_client

    if spec.transport == "stdio" and spec.builtin:
        import sys

        params = StdioServerParameters(command=sys.executable, args=["-m", "llmos", "mcp", "serve", spec.name],
                                       env=dict(os.environ))
        return stdio_client(params, errlog=errlog or sys.stderr)
    if spec.transport == "stdio":
        import sys

        from mcp.client.stdio import get_default_environment

        params = StdioServerParameters(command=spec.command, args=list(spec.args),
                                       env={**get_default_environment(), **spec.env})
        return stdio_client(params, errlog=errlog or sys.stderr)
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    return streamable_http_client(spec.url, http_client=httpx2.AsyncClient(headers=spec.headers, timeout=30))


def server_log_path(name: str) -> Any:
    """Where a stdio server's stderr goes (its tracebacks and banners stay out of the person's terminal)."""
    from llmos import paths

    return paths.state_dir() / "servers" / f"{name}.log"


def _server_log(spec: ServerSpec) -> Any:
    path = server_log_path(spec.name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.stat().st_size > 1_000_000:  # keep one old generation, not an ever-growing file
            path.replace(path.with_name(path.name + ".1"))
        return open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed when the connection ends
    except OSError:
        log.debug("cannot open %s; the server's stderr stays on the terminal", path, exc_info=True)
        return None


class _ToolCrashFilter(logging.Filter):
    """An in-process built-in tool that crashes is reported to the model as a failed call; the SDK also logs
    its traceback at ERROR, which would reach the person's terminal. Keep it for --debug only."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.levelno >= logging.ERROR:
            if not logging.getLogger().isEnabledFor(logging.DEBUG):
                return False
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


def _quiet_tool_crashes() -> None:
    logger = logging.getLogger("mcp.server.mcpserver.server")
    if not any(isinstance(f, _ToolCrashFilter) for f in logger.filters):
        logger.addFilter(_ToolCrashFilter())


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        return _one_line(exc.exceptions[0])
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
