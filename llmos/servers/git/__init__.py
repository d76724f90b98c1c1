"""The git server: status, diffs, history, branches, commits, stashes and the remote round trip (clone, pull,
push). Every command runs the real `git`, never prompts, never runs a program the repository's own
configuration or hooks name (see policy.py), and answers in structured fields.

Modules: repository (finding a repository, asking git about it), runner (running git), policy (what a
repository may make git run), status, history, branches, changes, stash, remote, create (the tools)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

INSTRUCTIONS = ("Git repositories: status, diffs and history; commit, branch, stash; clone, pull and push. "
                "Every tool takes an optional repo path (default: the repository containing the current "
                "folder).")


def build_server(settings: dict[str, Any]) -> MCPServer:
    """``settings`` is servers.git; its ``filesystem`` entry, when given, is servers.filesystem (whose roots
    and protected paths git obeys too), read from the config otherwise."""
    from llmos.servers import common, tooling
    from llmos.servers.git import branches, changes, create, history, remote, stash, status
    from llmos.servers.git.repository import GitContext

    server = common.new_server("git", INSTRUCTIONS)
    tools = [*status.TOOLS, *history.TOOLS, *branches.TOOLS, *changes.TOOLS, *stash.TOOLS,
             *changes.DISCARDING, *remote.TOOLS, *create.TOOLS]
    tooling.register(server, GitContext.from_settings(settings), tools)
    return server
