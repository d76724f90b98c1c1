"""What the person sees during a turn: the streamed answer, one compact line per tool call, warnings."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from llmos.terminal import Terminal, current
from llmos.ui.stream import MarkdownStream, PlainStream, answer_stream

if TYPE_CHECKING:
    from llmos.agent.host import ToolInfo
    from llmos.agent.loop import ToolRun
    from llmos.llm.messages import ToolCall


def summarize_arguments(arguments: dict[str, Any], width: int = 60) -> str:
    text = " ".join(f"{v}" if k in ("path", "url", "name", "query", "pattern") else f"{k}={json.dumps(v)}"
                    for k, v in arguments.items())
    return text if len(text) <= width else text[: width - 1] + "…"


def summarize_result(run: ToolRun) -> str:
    if not run.ok:
        return run.text.splitlines()[0][:100] if run.text else "failed"
    s = run.structured or {}
    for key in ("entries", "files", "paths", "matches", "processes", "apps", "commits", "branches", "tools"):
        if isinstance(s.get(key), list):
            more = s.get("more") or 0
            n = len(s[key]) + (more if isinstance(more, int) else 0)
            return f"{n} {key}"
    return s.get("action") or "done"


def tool_line(run: ToolRun) -> tuple[str, str]:
    """The one line shown for a finished tool call, and its style."""
    name = run.tool.qualified if run.tool else run.call.name
    mark, style = ("▸", "dim") if run.ok else (("⊘", "yellow") if run.refused else ("✗", "red"))
    return f"{mark} {name} {summarize_arguments(run.call.arguments)} … {summarize_result(run)}", style


class CliEvents:
    """Agent events for `llmos run`: the answer on stdout, activity as dim lines on stderr.
    The shell's events (repl/events.py) change only where lines go."""

    def __init__(self, terminal: Terminal | None = None) -> None:
        self.terminal = terminal or current()
        self._stream: PlainStream | MarkdownStream | None = None
        self.runs: list[ToolRun] = []  # this turn's tool runs
        self.partial = ""  # text streamed since the last model step began (kept if the step is cancelled)

    def _open_stream(self) -> PlainStream | MarkdownStream:
        return answer_stream(self.terminal)

    def _line(self, text: str, style: str = "dim") -> None:
        self.terminal.notice(text)

    def start_turn(self) -> None:
        self.runs = []
        self.partial = ""

    def on_text(self, text: str) -> None:
        self.partial += text
        if self._stream is None:
            self._stream = self._open_stream()
            self._stream.__enter__()
        self._stream.write(text)

    def close_stream(self) -> None:
        if self._stream is not None:
            self._stream.__exit__(None, None, None)
            self._stream = None

    def on_tool_start(self, tool: ToolInfo | None, call: ToolCall) -> None:
        self.close_stream()  # a confirmation prompt may follow; it must not fight a live display
        self.partial = ""

    def on_tool_end(self, run: ToolRun) -> None:
        self.runs.append(run)
        self._line(*tool_line(run))

    def on_resolution(self, text: str) -> None:
        self._line(text)

    def on_warning(self, message: str) -> None:
        self.close_stream()
        self._line(f"⚠ {message}", "yellow")
