"""The undo journal as a table or JSON."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import TYPE_CHECKING

from llmos.servers.undo import Entry

if TYPE_CHECKING:
    from llmos.terminal import Terminal

_STATES = {"pending": "interrupted — llmos undo finishes it", "failed": "failed", "skipped": "cannot undo",
           "undone": "undone"}


def state_of(entry: Entry) -> str:
    if entry.undone:
        return "undone"
    if entry.state in _STATES:
        return _STATES[entry.state]
    return "can undo" if entry.reversible else "permanent"


def print_journal(terminal: Terminal, entries: list[Entry], json_output: bool) -> None:
    if json_output:
        rows = [{k: v for k, v in dataclasses.asdict(e).items() if k != "after"} | {"status": state_of(e)}
                for e in entries]
        terminal.write(json.dumps(rows, indent=2) + "\n")
        return
    from rich.table import Table
    from rich.text import Text

    console = terminal.console
    if not entries:
        console.print("The undo journal is empty.")
        return
    table = Table(header_style="bold")
    for column in ("id", "when", "action", "state"):
        table.add_column(column)
    for e in entries[-50:]:
        state = state_of(e) + (f" ({e.note})" if e.note and e.state == "skipped" else "")
        # Names come from the filesystem: shown as text, never parsed as markup.
        table.add_row(e.id, datetime.fromtimestamp(e.ts).strftime("%Y-%m-%d %H:%M:%S"), Text(e.summary),
                      Text(state, style="dim" if e.undone else ""))
    console.print(table)
