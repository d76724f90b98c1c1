"""The facts built-in servers declare about their tools (MCP `_meta`: reversible by undo, path and URL
arguments, network reach), read the way the agent reads them: over a real stdio MCP session."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import pytest

from llmos.servers.tooling import CONTENT, META_KEYS, NETWORK, PATH_ARGS, REVERSIBLE, URL_ARGS
from tests.mcp_helpers import stdio_client

DECLARING = ("git", "system", "browser", "filesystem", "apps")
# Tools that send something off the machine, by server: every other tool of these servers stays local.
NETWORK_TOOLS = {
    "git": {"git_clone", "git_pull", "git_push"},
    "system": set(),
    "browser": {"open_url", "fetch_page", "search_page", "download", "download_overwrite"},
    "filesystem": set(),
    "apps": {"launch_app", "open_with_default"},  # they may open a URL in the browser
}
# Tools whose results hold what files say (they arm the exfiltration question); listings do not.
CONTENT_TOOLS = {"git": {"git_diff", "git_show"}, "system": set(), "browser": set(),
                 "filesystem": {"read_file", "search_content"}, "apps": set()}


@functools.cache
def listed(server: str) -> list[Any]:
    async def scenario() -> list[Any]:
        async with stdio_client(server) as client:
            return (await client.list_tools()).tools

    return asyncio.run(scenario())


@pytest.mark.parametrize("server", DECLARING)
def test_every_tool_declares_sane_facts(server: str) -> None:
    tools = listed(server)
    assert tools
    for tool in tools:
        meta = tool.meta or {}
        assert set(META_KEYS) <= set(meta), (tool.name, meta)
        assert isinstance(meta[REVERSIBLE], bool) and isinstance(meta[NETWORK], bool), tool.name
        arguments = set(tool.input_schema.get("properties", {}))
        assert not arguments & {"ctx", "fs", "settings"}, f"{tool.name} shows the model its server's context"
        paths, urls = meta[PATH_ARGS], meta[URL_ARGS]
        assert all(isinstance(a, str) for a in paths + urls), tool.name
        assert set(paths) <= arguments and set(urls) <= arguments, (tool.name, paths, urls, arguments)
        # an argument may be either (launch_app opens a file or a URL): it is then checked as both
        assert meta[NETWORK] == (tool.name in NETWORK_TOOLS[server]), tool.name
        assert meta[CONTENT] is (tool.name in CONTENT_TOOLS[server]), tool.name
        if urls:
            assert meta[NETWORK], f"{tool.name} takes a URL but says it stays on this machine"
        notes = tool.annotations.model_dump(by_alias=True, exclude_none=True) if tool.annotations else {}
        if meta[NETWORK]:
            assert notes.get("openWorldHint") is True, tool.name
        if meta[REVERSIBLE]:
            assert notes.get("readOnlyHint") is not True, f"{tool.name}: nothing to undo after a read"


def test_git_declares_its_paths_urls_and_that_undo_reverses_none() -> None:
    tools = {t.name: t for t in listed("git")}
    for name, tool in tools.items():
        assert tool.meta[REVERSIBLE] is False, name  # `llmos undo` does not reverse git operations
        if "repo" in tool.input_schema["properties"]:
            assert tool.meta[PATH_ARGS] == ["repo"], name
    assert tools["git_clone"].meta[URL_ARGS] == ["url"] and tools["git_clone"].meta[PATH_ARGS] == ["directory"]
    assert tools["git_push"].meta[URL_ARGS] == ["url"] and tools["git_pull"].meta[URL_ARGS] == ["url"]
