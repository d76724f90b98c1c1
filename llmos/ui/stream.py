"""Streaming an answer to the terminal: rich markdown on a TTY, plain text when piped."""

from __future__ import annotations

import sys
from typing import TextIO


class PlainStream:
    """Writes text as it arrives; for pipes and dumb terminals."""

    def __init__(self, out: TextIO = sys.stdout):
        self._out = out
        self._last = ""

    def __enter__(self) -> PlainStream:
        return self

    def write(self, text: str) -> None:
        self._out.write(text)
        self._out.flush()
        self._last = text or self._last

    def __exit__(self, *exc: object) -> None:
        if self._last and not self._last.endswith("\n"):
            self._out.write("\n")
        self._out.flush()


class MarkdownStream:
    """Renders the growing answer as markdown; refreshes are rate-limited by rich.Live."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.live import Live

        self._console = Console()
        self._text = ""
        self._live = Live(console=self._console, refresh_per_second=12, vertical_overflow="visible")

    def __enter__(self) -> MarkdownStream:
        self._live.__enter__()
        return self

    def write(self, text: str) -> None:
        from rich.markdown import Markdown

        self._text += text
        self._live.update(Markdown(self._text))

    def __exit__(self, *exc: object) -> None:
        self._live.__exit__(*exc)


def answer_stream(out: TextIO = sys.stdout) -> PlainStream | MarkdownStream:
    import os

    if out.isatty() and os.environ.get("TERM") != "dumb":
        return MarkdownStream()
    return PlainStream(out)


def notice(message: str) -> None:
    """One dim line on stderr (fallbacks, warnings) that never mixes into piped output."""
    if sys.stderr.isatty() and not _no_color():
        sys.stderr.write(f"\x1b[2m{message}\x1b[0m\n")
    else:
        sys.stderr.write(message + "\n")
    sys.stderr.flush()


def _no_color() -> bool:
    import os

    return "NO_COLOR" in os.environ or os.environ.get("TERM") == "dumb"
