"""Tables for `llmos tools` and `llmos audit`."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from rich.table import Table

from llmos.agent.host import ToolInfo


def _kind(t: ToolInfo) -> str:
    if t.read_only:
        return "[green]read-only[/]"
    if t.destructive:
        return "[red]destructive[/]" if t.builtin else "[yellow]asks (third-party)[/]"
    return "changes"


def print_tools(console: Any, tools: list[ToolInfo], down: dict[str, str]) -> None:
    table = Table(header_style="bold")
    for column in ("tool", "server", "kind", "description"):
        table.add_column(column, overflow="fold")
    for t in sorted(tools, key=lambda t: (t.server, t.exposed)):
        table.add_row(t.exposed, t.server, _kind(t), (t.description or "").splitlines()[0] if t.description else "")
    console.print(table)
    for name, reason in down.items():
        console.print(f"[red]✘ {name}[/]: {reason}")


def print_audit(console: Any, records: list[dict[str, Any]]) -> None:
    if not records:
        console.print("No tool calls recorded yet.")
        return
    table = Table(header_style="bold")
    for column in ("when", "tool", "arguments", "decision", "by", "status", "ms"):
        table.add_column(column, overflow="fold")
    for r in records:
        ms = "" if r.get("duration_s") is None else f"{r['duration_s'] * 1000:.0f}"
        table.add_row(datetime.fromtimestamp(r["ts"]).strftime("%m-%d %H:%M:%S"), f"{r['server']}.{r['tool']}",
                      json.dumps(r.get("arguments"), ensure_ascii=False)[:80], r["decision"], r["by"],
                      r["status"], ms)
    console.print(table)
