"""Interop with a client no one here wrote: the official MCP Inspector CLI (npm) lists and calls the tools
of every built-in server started with `llmos mcp serve NAME`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from llmos.servers import BUILTIN
from tests.node_tools import npm_tool

# One read-only call per server, with arguments the Inspector passes as --tool-arg key=value.
READ_ONLY_CALL = {
    "filesystem": ("list_directory", {"path": "{root}"}),
    "git": ("git_status", {"repo": "{root}"}),
    "system": ("system_overview", {}),
    "apps": ("list_apps", {}),
    "browser": ("search_page", None),  # needs a page; listing its tools is the interop check
}


def inspector(server: str, *method: str, cwd: Path) -> dict:
    command = [npm_tool("mcp-inspector"), "--cli", sys.executable, "-m", "llmos", "mcp", "serve", server, *method]
    out = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=cwd, env=dict(os.environ))
    assert out.returncode == 0, out.stderr + out.stdout
    return json.loads(out.stdout)


@pytest.mark.parametrize("server", list(BUILTIN))
def test_inspector_lists_and_calls_every_builtin_server(server: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    listed = inspector(server, "--method", "tools/list", cwd=tmp_path)
    tools = {t["name"]: t for t in listed["tools"]}
    assert len(tools) >= 3
    for tool in tools.values():
        assert tool["description"] and tool["inputSchema"]["type"] == "object"
        assert tool.get("outputSchema", {}).get("type") == "object", tool["name"]
        assert set(tool["annotations"]) >= {"readOnlyHint", "destructiveHint"}, tool["name"]
    name, arguments = READ_ONLY_CALL[server]
    assert name in tools and tools[name]["annotations"]["readOnlyHint"] is True
    if arguments is None:
        return
    args = [f"{k}={v.format(root=tmp_path)}" for k, v in arguments.items()]
    called = inspector(server, "--method", "tools/call", "--tool-name", name,
                       *[part for a in args for part in ("--tool-arg", a)], cwd=tmp_path)
    assert not called.get("isError"), called
    assert isinstance(called.get("structuredContent"), dict)
