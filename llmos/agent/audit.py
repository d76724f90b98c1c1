"""The audit log: every tool call, its gate decision and outcome, as JSON lines in the XDG state dir.

Each record is one line written and flushed before the call returns (llmos.jsonl), so a crash loses
nothing already logged. Arguments are redacted: values under secret-looking keys, and anything shaped
like an API key.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from llmos import jsonl, paths
from llmos.redact import redact


class AuditLog:
    def __init__(self, file: Path | None = None):
        self.file = file or paths.state_dir() / "audit.jsonl"

    def record(self, *, server: str, tool: str, arguments: dict[str, Any], decision: str, by: str,
               status: str, duration_s: float | None = None, note: str = "") -> None:
        entry = {"ts": time.time(), "server": server, "tool": tool, "arguments": redact(arguments),
                 "decision": decision, "by": by, "status": status,
                 "duration_s": None if duration_s is None else round(duration_s, 4)}
        if note:
            entry["note"] = redact(note)
        jsonl.append(self.file, entry)

    def recent(self, count: int = 50) -> list[dict[str, Any]]:
        return jsonl.tail(self.file, count)
