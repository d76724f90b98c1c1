"""`llmos undo`: reverse the last change llmos made to files; `--list` shows the journal."""

from __future__ import annotations

import typer


def undo(
    list_: bool = typer.Option(False, "--list", "-l", help="Show the journal instead of undoing."),
    json_output: bool = typer.Option(False, "--json", help="With --list: print the journal as JSON."),
) -> None:
    """Undo the last file change llmos made (delete, write, append, move, copy, create, make folder).

    Deleted files come back from the trash; overwritten ones from the backup kept in the undo journal."""
    from llmos.servers.undo import UndoJournal

    journal = UndoJournal()
    if list_:
        from llmos.ui.undo_view import print_journal

        print_journal(journal.entries(), json_output)
        return
    entry = journal.undo_last()
    print(f"undone: {entry.summary}")
