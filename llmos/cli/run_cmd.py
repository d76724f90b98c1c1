"""`llmos run`: one request, answered (and acted on, through the gate) and printed."""

from __future__ import annotations

from typing import Any

import typer


def run(
    words: list[str] = typer.Argument(None, metavar="REQUEST",
                                      help="The request; unquoted words are joined. '-' reads it from stdin."),
    provider: str = typer.Option(None, "--provider", "-p", help="Use only this provider (a name from the config)."),
    model: str = typer.Option(None, "--model", "-m", help="Use this model."),
    no_stream: bool = typer.Option(False, "--no-stream", help="Wait for the whole answer instead of streaming."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object: text, provider, model, usage, "
                                     "latency, tool calls."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Approve every action that needs confirmation."),
    allow: list[str] = typer.Option(None, "--allow", metavar="TOOL",
                                    help="Approve this tool (e.g. filesystem.delete) without asking; repeatable."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the calls that would run; run only read-only ones."),
    no_tools: bool = typer.Option(False, "--no-tools", help="Just talk: offer the model no tools."),
    continue_: bool = typer.Option(False, "--continue", "-c", help="Continue the most recent conversation."),
    session: str = typer.Option(None, "--session", metavar="ID", help="Continue this saved conversation "
                                "(an id from `llmos history`, or its start)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Say which provider and model answer, and why "
                                 "(preferences.verbose_output)."),
) -> None:
    """Ask one question or give one instruction; llmos answers and acts.

    Actions that delete, overwrite, move, kill, push or install ask first. Without a terminal to ask
    (a script or a pipe) they are refused unless --yes or --allow says otherwise, and the exit status is 4.
    """
    from llmos.errors import UsageError
    from llmos.oneshot import ask
    from llmos.runtime import Options
    from llmos.terminal import current

    terminal = current()
    text = " ".join(words or [])
    if text.strip() == "-":
        text = _stdin_text(terminal.stdin)
    _refuse_undecodable(text)
    if not text.strip():
        raise UsageError("nothing to ask: give a request, e.g. llmos run \"why is the sky blue?\"")
    options = Options(provider=provider, model=model, yes=yes, allow=allow or [], dry_run=dry_run,
                      continue_session=session if session else ("" if continue_ else None), stream=not no_stream,
                      json=json_output, verbose=verbose)
    status = ask(text, options, tools=not no_tools, terminal=terminal)
    if status:
        raise typer.Exit(status)


def _stdin_text(stdin: Any) -> str:
    """The request from stdin, which must be UTF-8 text: a request made of guessed characters is not sent."""
    from llmos.errors import UsageError

    if not hasattr(stdin, "buffer"):  # a text stream given in-process: already decoded
        return str(stdin.read())
    data = stdin.buffer.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"the request on stdin is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
                         f"{exc.start}); convert it first, e.g. iconv -f latin1 -t utf-8") from None


def _refuse_undecodable(text: str) -> None:
    """Arguments that were not UTF-8 reach Python as lone surrogates; no provider can be sent those."""
    from llmos.errors import UsageError

    for position, char in enumerate(text):
        if "\ud800" <= char <= "\udfff":
            raw = ord(char) - 0xDC00 if "\udc80" <= char <= "\udcff" else ord(char)
            raise UsageError(f"the request is not UTF-8 text (byte 0x{raw:02x} at character {position}); "
                             "check the terminal's encoding (locale) or convert the text first")
