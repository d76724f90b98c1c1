"""Agent events inside the shell: the same as `llmos run`'s, printed on the shell's console."""

from __future__ import annotations

from typing import Any

from llmos.ui.activity import CliEvents
from llmos.ui.stream import MarkdownStream, PlainStream


class ReplEvents(CliEvents):
    def __init__(self, console: Any, terminal: Any = None):
        super().__init__(terminal)
        self.console = console

    def _open_stream(self) -> MarkdownStream | PlainStream:
        terminal = self.console.is_terminal and not self.console.is_dumb_terminal
        return MarkdownStream(self.console) if terminal else PlainStream(self.console.file)

    def _line(self, text: str, style: str = "dim") -> None:
        self.console.print(text, style=style, markup=False, highlight=False)
