"""`llmos history`: the saved conversations."""

from __future__ import annotations

import typer


def history(json_output: bool = typer.Option(False, "--json", help="Print the sessions as JSON.")) -> None:
    """List saved conversations (continue one with `llmos run --continue` or `--session ID`)."""
    import json
    from datetime import datetime

    from llmos.conversation.store import list_sessions
    from llmos.terminal import current

    terminal = current()

    sessions = list_sessions()
    if json_output:
        terminal.write(json.dumps([{"id": s.id, "started": s.started, "cwd": s.cwd, "title": s.title,
                                    "messages": s.messages} for s in sessions], indent=2) + "\n")
        return
    if not sessions:
        terminal.write("No saved conversations yet.\n")
        return
    from rich.table import Table

    table = Table(header_style="bold")
    for column in ("id", "started", "messages", "first request"):
        table.add_column(column, overflow="fold")
    for s in sessions[-30:]:
        table.add_row(s.id, datetime.fromtimestamp(s.started).strftime("%Y-%m-%d %H:%M"), str(s.messages), s.title)
    terminal.console.print(table)
