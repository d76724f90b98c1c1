"""A third-party MCP server for real: @modelcontextprotocol/server-everything from npm, via mcpServers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import servers_config, write_user_config
from tests.node_tools import npm_tool
from tests.replay_server import ReplayServer
from tests.inprocess import llmos
from tests.scripted_model import ScriptedModel, openai_text, openai_tool_calls





def test_everything_server_tools_listed_and_called_through_the_gate(isolated_home: Path, tmp_path: Path) -> None:
    servers = tmp_path / "mcp.json"
    # trust_annotations: its readOnlyHint is believed (the default, asking first, is in tests/security/)
    servers.write_text(json.dumps({"mcpServers": {"everything": {"command": npm_tool("mcp-server-everything"),
                                                                  "args": [], "trust_annotations": True}}}))
    with ReplayServer() as server:
        model = ScriptedModel(server)
        write_user_config(isolated_home, model.config(servers_config() + f"mcp_config_file: {servers}\n"))

        listed = llmos("tools", "--json")
        assert listed.returncode == 0, listed.stderr
        tools = {t["name"]: t for t in json.loads(listed.stdout)["tools"]}
        assert tools["echo"]["server"] == "everything" and not tools["echo"]["builtin"]
        assert tools["echo"]["annotations"]["readOnlyHint"] is True

        model.say(openai_tool_calls(("echo", {"message": "hello from llmos"})),
                  openai_tool_calls(("toggle-simulated-logging", {})),
                  openai_text("Echoed, but logging was not toggled."))
        out = llmos("run", "--json", "echo hello")
        calls = json.loads(out.stdout)["tool_calls"]
        echoed = model.requests()[1]["messages"][-1]["content"]
    assert "hello from llmos" in echoed
    assert [(c["tool"], c["decision"]) for c in calls] == [("everything.echo", "allow"),
                                                           ("everything.toggle-simulated-logging", "refused")]
    assert out.returncode == 4  # a third-party tool not marked read-only needs a yes; no terminal to ask


def test_yaml_mcpservers_entry_and_a_broken_server_reported(isolated_home: Path) -> None:
    write_user_config(isolated_home, servers_config() + (
        "mcpServers:\n"
        f"  everything: {{command: {npm_tool('mcp-server-everything')}, args: []}}\n"
        "  broken: {command: /nonexistent/server, args: []}\n"))
    out = llmos("tools", "--json")
    assert out.returncode == 0, out.stderr
    listing = json.loads(out.stdout)
    assert any(t["server"] == "everything" for t in listing["tools"]), (listing["down"], out.stderr)
    assert "broken" in listing["down"] and listing["down"]["broken"]


def test_malformed_mcp_config_file_names_file_and_line(isolated_home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "mcp.json"
    bad.write_text('{"mcpServers": {\n  "x": {"command": "a",}\n}}')
    write_user_config(isolated_home, f"mcp_config_file: {bad}\n")
    out = llmos("tools")
    assert out.returncode == 2 and f"{bad}:2:" in out.stderr and "invalid JSON" in out.stderr


def test_streamable_http_server_as_a_third_party_entry(isolated_home: Path, tmp_path: Path) -> None:
    """`llmos mcp serve filesystem --http PORT` is a Streamable HTTP server; llmos connects to it by URL."""
    import time
    import urllib.request

    from tests.llm_server import free_port

    port = free_port()
    (tmp_path / "shared.txt").write_text("over http")
    write_user_config(isolated_home, f"servers:\n  filesystem:\n    roots: [{tmp_path}]\n")
    server = subprocess.Popen([sys.executable, "-m", "llmos", "mcp", "serve", "filesystem", "--http", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ))
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/mcp", timeout=1)
            except urllib.error.HTTPError:
                break  # it answers (with an error for a bare GET): it is up
            except OSError:
                time.sleep(0.1)
        with ReplayServer() as replay:
            model = ScriptedModel(replay)
            write_user_config(isolated_home, model.config(
                servers_config() + "mcpServers:\n  remotefs: {type: http, trust_annotations: true, "
                f"url: 'http://127.0.0.1:{port}/mcp'}}\n"))
            model.say(openai_tool_calls(("read_file", {"path": str(tmp_path / "shared.txt")})),
                      openai_text("It says: over http."))
            out = llmos("run", "--json", "read shared.txt")
            result_message = model.requests()[1]["messages"][-1]["content"]
    finally:
        server.terminate()
        server.wait(10)
    calls = json.loads(out.stdout)["tool_calls"]
    assert calls[0]["tool"] == "remotefs.read_file" and calls[0]["decision"] == "allow"
    assert "over http" in result_message
