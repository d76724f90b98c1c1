"""`llmos mcp serve NAME` and `llmos mcp list`: the built-in servers, for llmos and for other MCP clients."""

from __future__ import annotations

import typer

app = typer.Typer(help="Run llmos's built-in MCP servers for other clients (Claude Desktop, Goose, …).",
                  no_args_is_help=True)


@app.command("list")
def list_servers(json_output: bool = typer.Option(False, "--json", help="Print an mcpServers JSON block.")) -> None:
    """List the built-in servers and how to add them to another client's mcpServers config."""
    import json
    import shutil

    from llmos.servers import BUILTIN
    from llmos.terminal import current

    terminal = current()

    command = shutil.which("llmos") or "llmos"
    block = {"mcpServers": {f"llmos-{name}": {"command": command, "args": ["mcp", "serve", name]}
                            for name in BUILTIN}}
    if json_output:
        terminal.write(json.dumps(block, indent=2) + "\n")
        return
    lines = [f"{name:<11} {summary}" for name, (_module, summary) in BUILTIN.items()]
    terminal.write("\n".join(lines) + "\n\nTo use them from another MCP client, add to its config:\n\n"
                   + json.dumps(block, indent=2) + "\n")


@app.command("serve")
def serve(
    name: str = typer.Argument(..., metavar="NAME", help="Built-in server: filesystem, git, system, apps or browser."),
    http: int = typer.Option(None, "--http", metavar="PORT",
                             help="Serve Streamable HTTP on 127.0.0.1:PORT/mcp instead of stdio."),
) -> None:
    """Run one built-in server over stdio (default) or Streamable HTTP."""
    from llmos.config import load_config
    from llmos.servers import build_server

    settings = (load_config().get("servers") or {}).get(name) or {}
    server = build_server(name, settings)
    if http is None:
        server.run()
    else:
        server.run("streamable-http", host="127.0.0.1", port=http)
