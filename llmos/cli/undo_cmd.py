"""`llmos undo [ID]`: reverse the last change llmos made to files (or entry ID); `--list` shows the journal."""

from __future__ import annotations

import sys

import typer


def undo(
    entry_id: str = typer.Argument(None, metavar="[ID]", help="Undo this journal entry (see --list) instead of "
                                   "the newest one; a unique prefix is enough."),
    list_: bool = typer.Option(False, "--list", "-l", help="Show the journal instead of undoing."),
    json_output: bool = typer.Option(False, "--json", help="With --list: print the journal as JSON."),
) -> None:
    """Undo the last file change llmos made (delete, write, append, move, copy, create, make folder).

    Deleted files come back from the trash; overwritten ones from the backup kept in the undo journal.
    Entries that can never be undone (deleted permanently, trash emptied) are skipped with a note; a change
    interrupted by a crash is finished from the files; nothing changed since the action is discarded."""
    from llmos.servers.undo import UndoJournal

    journal = UndoJournal()
    if list_:
        from llmos.ui.undo_view import print_journal

        entries = journal.entries()
        _notes(journal.problems)
        print_journal(entries, json_output)
        return
    from llmos.servers.undo import Conflict

    try:
        entry = journal.undo(entry_id)
    except Conflict as conflict:
        if not (conflict.entry_id and _ask(str(conflict))):
            raise
        entry = journal.undo(conflict.entry_id, force=True)  # the person said yes, at the terminal
    finally:
        _notes(journal.problems)
    _notes(journal.notes)
    print(f"undone: {entry.summary}")


def _ask(problem: str) -> bool:
    """On a terminal only: undo anyway? The later version is kept in the trash. Anything but y is no."""
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return False
    print(f"llmos: {problem}", file=sys.stderr)
    try:
        answer = input("Undo anyway? The later version is kept in the trash. [y/N] ")
    except (EOFError, KeyboardInterrupt):
        return False
    return answer.strip().lower() in ("y", "yes")


def _notes(lines: list[str]) -> None:
    for line in lines:
        print(f"llmos: note: {line}", file=sys.stderr)
