"""The `llmos doctor` table."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from llmos.health.providers import ProviderCheck


def print_checks(console: Any, checks: list[ProviderCheck]) -> None:
    table = Table(title="Providers", title_justify="left", header_style="bold")
    table.add_column("", no_wrap=True)
    table.add_column("provider", no_wrap=True)
    table.add_column("type", style="dim", no_wrap=True)
    table.add_column("status", overflow="fold")
    table.add_column("fix", overflow="fold")
    for c in checks:
        mark = Text("✔", style="green") if c.ok and not c.fix else Text("!", style="yellow") if c.ok else Text(
            "✘", style="red")
        table.add_row(mark, c.name, c.type, c.status, c.fix)
    console.print(table)
    if not any(c.ok for c in checks):
        console.print("[red]No provider can answer.[/] Fix one of the rows above, then run `llmos doctor` again.")
