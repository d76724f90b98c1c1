"""`llmos run`: one request, answered and printed."""

from __future__ import annotations

import sys

import typer


def run(
    words: list[str] = typer.Argument(None, metavar="REQUEST...",
                                      help="The request; unquoted words are joined. '-' reads it from stdin."),
    provider: str = typer.Option(None, "--provider", "-p", help="Use only this provider (a name from the config)."),
    model: str = typer.Option(None, "--model", "-m", help="Use this model."),
    no_stream: bool = typer.Option(False, "--no-stream", help="Wait for the whole answer instead of streaming."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object: text, provider, model, usage, "
                                     "latency."),
) -> None:
    """Ask one question and print the answer."""
    from llmos.errors import UsageError
    from llmos.oneshot import ask

    text = " ".join(words or [])
    if text.strip() == "-":
        text = sys.stdin.read()
    if not text.strip():
        raise UsageError("nothing to ask: give a request, e.g. llmos run \"why is the sky blue?\"")
    ask(text, provider=provider, model=model, stream=not no_stream, json_output=json_output)
