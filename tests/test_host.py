"""The MCP host: a server that dies mid-session is restarted once, then marked down."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import psutil

from llmos.agent.host import McpHost
from llmos.agent.servers_config import ServerSpec


def _server_processes() -> list[psutil.Process]:
    me = psutil.Process(os.getpid())
    return [p for p in me.children(recursive=True) if "serve" in " ".join(p.cmdline()) and
            "filesystem" in p.cmdline()]


def test_a_dead_server_is_restarted_once_then_marked_down(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f.txt").write_text("x")
    host = McpHost([ServerSpec("filesystem", True, "stdio")])

    async def go():
        await host.ready()
        assert "stat" in host.tools and host.down() == {}
        first = await host.call("stat", {"path": str(tmp_path / "f.txt")})
        [process] = _server_processes()
        process.kill()
        process.wait(10)
        time.sleep(0.2)
        after_restart = await host.call("stat", {"path": str(tmp_path / "f.txt")})  # read-only: retried
        [replacement] = _server_processes()
        assert replacement.pid != process.pid
        replacement.kill()
        replacement.wait(10)
        time.sleep(0.2)
        gone = await host.call("stat", {"path": str(tmp_path / "f.txt")})
        down = host.down()
        await host.aclose()
        return first, after_restart, gone, down

    first, after_restart, gone, down = asyncio.run(go())
    assert first.ok and after_restart.ok and after_restart.structured["size"] == 1
    assert not gone.ok and "filesystem" in gone.text
    assert "filesystem" in down


def test_colliding_tool_names_are_namespaced(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    host = McpHost([ServerSpec("filesystem", True, "memory", settings={"roots": [str(tmp_path)]}),
                    ServerSpec("system", True, "memory")])

    async def go():
        await host.ready()
        names = set(host.tools)
        await host.aclose()
        return names
    names = asyncio.run(go())
    assert {"filesystem_disk_usage", "system_disk_usage"} <= names and "disk_usage" not in names
    assert "find_largest" in names  # unique names stay plain


def test_cached_tool_lists_are_offered_at_once_and_connected_on_demand(tmp_path: Path, monkeypatch) -> None:
    from llmos.agent.tool_cache import ToolCache

    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "f.txt").write_text("abc")
    cache = ToolCache(tmp_path / "cache")
    spec = ServerSpec("filesystem", True, "memory", settings={"roots": [str(tmp_path)]})

    async def first():
        host = McpHost([spec], cache=cache)
        await host.ready()
        names = set(host.tools)
        await host.aclose()
        return names

    async def second():
        host = McpHost([spec], cache=cache)
        await host.ready()
        connection = host._connections["filesystem"]
        offered_before_connecting = set(host.tools) if connection.client is None else None
        result = await host.call("stat", {"path": str(tmp_path / "f.txt")})  # connects on demand
        connected = host._connections["filesystem"].client is not None
        await host.aclose()
        return offered_before_connecting, result, connected

    names = asyncio.run(first())
    offered, result, connected = asyncio.run(second())
    assert offered == names and "delete" in offered
    assert result.ok and result.structured["size"] == 3 and connected
    other = ServerSpec("filesystem", True, "memory", settings={"roots": ["/elsewhere"]})
    assert cache.get(spec) is not None and cache.get(other) is None  # different settings, different entry
