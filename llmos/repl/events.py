"""Agent events inside the shell: streamed markdown, compact tool lines, warnings — on the REPL's console."""

from __future__ import annotations

from typing import Any

from llmos.ui.stream import MarkdownStream, PlainStream


class ReplEvents:
    def __init__(self, console: Any):
        self.console = console
        self._stream: MarkdownStream | PlainStream | None = None
        self.runs: list[Any] = []  # this turn's tool runs, for /last

    def start_turn(self) -> None:
        self.runs = []

    def on_text(self, text: str) -> None:
        if self._stream is None:
            terminal = self.console.is_terminal and not self.console.is_dumb_terminal
            self._stream = MarkdownStream(self.console) if terminal else PlainStream(self.console.file)
            self._stream.__enter__()
        self._stream.write(text)

    def close_stream(self) -> None:
        if self._stream is not None:
            self._stream.__exit__(None, None, None)
            self._stream = None

    def on_tool_start(self, tool: Any, call: Any) -> None:
        self.close_stream()

    def on_tool_end(self, run: Any) -> None:
        from llmos.ui.activity import summarize_arguments, summarize_result

        self.runs.append(run)
        name = run.tool.qualified if run.tool else run.call.name
        mark, style = ("▸", "dim") if run.ok else (("⊘", "yellow") if run.refused else ("✗", "red"))
        self.console.print(f"{mark} {name} {summarize_arguments(run.call.arguments)} … {summarize_result(run)}",
                           style=style, markup=False, highlight=False)

    def on_warning(self, message: str) -> None:
        self.close_stream()
        self.console.print(f"⚠ {message}", style="yellow", markup=False, highlight=False)

    def on_resolution(self, text: str) -> None:
        self.console.print(text, style="dim", markup=False, highlight=False)
