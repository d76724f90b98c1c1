"""`llmos undo [ID]`: reverse the last change llmos made to files (or entry ID); `--list` shows the journal."""

from __future__ import annotations

import typer

from llmos.terminal import Terminal, current


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
        print_journal(current(), entries, json_output)
        return
    from llmos.servers.undo import Conflict

    try:
        entry = journal.undo(entry_id)
    except Conflict as conflict:
        if not (conflict.entry_id and _ask(current(), str(conflict))):
            raise
        entry = journal.undo(conflict.entry_id, force=True)  # the person said yes, at the terminal
    finally:
        _notes(journal.problems)
    _notes(journal.notes)
    current().write(f"undone: {entry.summary}\n")


def _ask(terminal: Terminal, problem: str) -> bool:
    """With a person at the terminal only: undo anyway? The later version is kept in the trash. Anything but
    y is no."""
    if not terminal.interactive:
        return False
    terminal.notice(f"llmos: {problem}")
    terminal.stderr.write("Undo anyway? The later version is kept in the trash. [y/N] ")
    terminal.stderr.flush()
    try:
        answer = terminal.stdin.readline()
    except KeyboardInterrupt:
        return False
    return answer.strip().lower() in ("y", "yes")


def _notes(lines: list[str]) -> None:
    for line in lines:
        current().notice(f"llmos: note: {line}")
