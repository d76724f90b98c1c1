"""The audit log: every tool call, its gate decision and outcome, as JSON lines in the XDG state dir.

Each record is one line written and flushed before the call returns (llmos.jsonl), so a crash loses
nothing already logged. Arguments are redacted: values under secret-looking keys, and anything shaped
like an API key.
"""

from __future__ import annotations

import os
import time
from collections import deque
from pathlib import Path
from typing import Any

from llmos import jsonl, paths
from llmos.damaged import not_a_regular_file, report, set_aside, unsaved
from llmos.redact import redact


class AuditLog:
    def __init__(self, file: Path | None = None):
        self.file = file or paths.state_dir() / "audit.jsonl"
        self.unsaved = False  # a write failed and was reported

    def record(self, *, server: str, tool: str, arguments: dict[str, Any], decision: str, by: str,
               status: str, duration_s: float | None = None, note: str = "") -> None:
        entry = {"ts": time.time(), "server": server, "tool": tool, "arguments": redact(arguments),
                 "decision": decision, "by": by, "status": status,
                 "duration_s": None if duration_s is None else round(duration_s, 4)}
        if note:
            entry["note"] = redact(note)
        try:
            jsonl.append(self.file, entry)
        except OSError as exc:  # the call is made or refused either way; say once that it is not on record
            if not self.unsaved:
                self.unsaved = True
                unsaved("the audit log", self.file, exc, "tool calls are not being recorded")

    def recent(self, count: int = 50) -> list[dict[str, Any]]:
        """The newest ``count`` records. Damaged lines (torn by a crash, or edited) are skipped and reported;
        a folder or pipe where the log should be is moved aside, since reading a pipe would block forever."""
        if not os.path.lexists(self.file):
            return []
        problem = not_a_regular_file(self.file)
        if problem:
            set_aside(self.file, problem, "a new audit log will be started")
            return []
        out: deque[dict[str, Any]] = deque(maxlen=max(count, 0))
        damaged = 0
        for line in jsonl.lines(self.file):
            if line.record is not None and _is_record(line.record):
                out.append(line.record)
            else:
                damaged += 1
        if damaged:
            report(f"{self.file}: skipped {damaged} damaged line(s) (torn by a crash or edited); the rest is shown")
        return list(out)


_TEXT_FIELDS = ("server", "tool", "decision", "by", "status")


def _is_record(record: dict[str, Any]) -> bool:
    """Whether a line has an audit record's shape (so the viewers never meet a wrong one)."""
    if not all(isinstance(record.get(k), str) for k in _TEXT_FIELDS):
        return False
    ts, duration = record.get("ts"), record.get("duration_s")
    if isinstance(ts, bool) or not isinstance(ts, (int, float)) or not 0 <= ts < 1e11:
        return False
    return duration is None or (not isinstance(duration, bool) and isinstance(duration, (int, float)))
