"""The undo journal as a table or JSON."""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import datetime

from llmos.servers.undo import Entry


def print_journal(entries: list[Entry], json_output: bool) -> None:
    if json_output:
        json.dump([dataclasses.asdict(e) for e in entries], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not entries:
        console.print("The undo journal is empty.")
        return
    table = Table(header_style="bold")
    for column in ("when", "action", "state"):
        table.add_column(column)
    for e in entries[-50:]:
        state = "undone" if e.undone else ("can undo" if e.reversible else "permanent")
        table.add_row(datetime.fromtimestamp(e.ts).strftime("%Y-%m-%d %H:%M:%S"), e.summary,
                      f"[dim]{state}[/]" if e.undone else state)
    console.print(table)
