"""`llmos tools` and `llmos audit`: what the agent can do, and what it did."""

from __future__ import annotations

import typer


def tools(json_output: bool = typer.Option(False, "--json", help="Print the tools as JSON.")) -> None:
    """List every tool of every connected MCP server, with its annotations."""
    import asyncio
    import json

    from llmos.runtime import load_with_warnings, open_host
    from llmos.terminal import current

    terminal = current()
    host = open_host(load_with_warnings(terminal=terminal))

    async def collect():
        try:
            await host.ready()
            for warning in host.warnings:
                terminal.notice(f"llmos: {warning}")
            return list(host.tools.values()), host.down()
        finally:
            await host.aclose()

    found, down = asyncio.run(collect())
    if json_output:
        listing = {"tools": [{"name": t.exposed, "server": t.server, "tool": t.name, "description": t.description,
                              "annotations": t.annotations, "builtin": t.builtin, "trusted": t.trusted}
                             for t in found], "down": down}
        terminal.write(json.dumps(listing, indent=2) + "\n")
        return
    from llmos.ui.tools_view import print_tools

    print_tools(terminal.console, found, down)


def audit(
    count: int = typer.Option(30, "--count", "-n", help="How many recent calls to show."),
    json_output: bool = typer.Option(False, "--json", help="Print the records as JSON lines."),
) -> None:
    """Show the most recent tool calls: arguments, the gate's decision and who made it, the outcome."""
    import json

    from llmos.agent.audit import AuditLog
    from llmos.terminal import current

    terminal = current()
    records = AuditLog().recent(count)
    if json_output:
        terminal.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
        return
    from llmos.ui.tools_view import print_audit

    print_audit(terminal.console, records)
