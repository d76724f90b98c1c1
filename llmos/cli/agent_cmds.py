"""`llmos tools` and `llmos audit`: what the agent can do, and what it did."""

from __future__ import annotations

import typer


def tools(json_output: bool = typer.Option(False, "--json", help="Print the tools as JSON.")) -> None:
    """List every tool of every connected MCP server, with its annotations."""
    import asyncio
    import json
    import sys

    from llmos.agent.host import McpHost
    from llmos.agent.servers_config import server_specs
    from llmos.config import load_config

    async def collect():
        host = McpHost(server_specs(load_config()))
        try:
            await host.ready()
            for warning in host.warnings:
                print(f"llmos: {warning}", file=sys.stderr)
            return list(host.tools.values()), host.down()
        finally:
            await host.aclose()

    found, down = asyncio.run(collect())
    if json_output:
        json.dump({"tools": [{"name": t.exposed, "server": t.server, "tool": t.name, "description": t.description,
                              "annotations": t.annotations, "builtin": t.builtin, "trusted": t.trusted}
                             for t in found],
                   "down": down}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    from llmos.ui.tools_view import print_tools

    print_tools(found, down)


def audit(
    count: int = typer.Option(30, "--count", "-n", help="How many recent calls to show."),
    json_output: bool = typer.Option(False, "--json", help="Print the records as JSON lines."),
) -> None:
    """Show the most recent tool calls: arguments, the gate's decision and who made it, the outcome."""
    import json

    from llmos.agent.audit import AuditLog

    records = AuditLog().recent(count)
    if json_output:
        for r in records:
            print(json.dumps(r, ensure_ascii=False))
        return
    from llmos.ui.tools_view import print_audit

    print_audit(records)
