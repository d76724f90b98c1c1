"""What the person sees during a turn: the streamed answer, one compact line per tool call, warnings."""

from __future__ import annotations

import json
import sys
from typing import Any

from llmos.agent.host import ToolInfo
from llmos.agent.loop import ToolRun
from llmos.llm.messages import ToolCall
from llmos.ui.stream import MarkdownStream, PlainStream, answer_stream, notice


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


class CliEvents:
    """Agent events for `llmos run`: the answer on stdout, activity on stderr."""

    def __init__(self) -> None:
        self._stream: PlainStream | MarkdownStream | None = None

    def on_text(self, text: str) -> None:
        if self._stream is None:
            self._stream = answer_stream()
            self._stream.__enter__()
        self._stream.write(text)

    def close_stream(self) -> None:
        if self._stream is not None:
            self._stream.__exit__(None, None, None)
            self._stream = None

    def on_tool_start(self, tool: ToolInfo | None, call: ToolCall) -> None:
        self.close_stream()  # a confirmation prompt may follow; it must not fight a live display

    def on_tool_end(self, run: ToolRun) -> None:
        name = run.tool.qualified if run.tool else run.call.name
        mark = "▸" if run.ok else ("✗" if not run.refused else "⊘")
        notice(f"{mark} {name} {summarize_arguments(run.call.arguments)} … {summarize_result(run)}")

    def on_resolution(self, text: str) -> None:
        notice(text)

    def on_warning(self, message: str) -> None:
        self.close_stream()
        notice(f"⚠ {message}")
        sys.stderr.flush()
