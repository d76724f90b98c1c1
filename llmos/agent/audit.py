"""The audit log: every tool call, its gate decision and outcome, as JSON lines in the XDG state dir.

Each record is one line written and flushed before the call returns, so a crash loses nothing already
logged. Arguments are redacted: values under secret-looking keys, and anything shaped like an API key.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from llmos import paths
from llmos.redaction import redact

# Re-exported: the one redaction helper knows every configured key at run time (llmos.redaction).
__all__ = ["AuditLog", "redact"]


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
        self.file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.file, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")
            f.flush()

    def recent(self, count: int = 50) -> list[dict[str, Any]]:
        if not self.file.exists():
            return []
        out = []
        for line in self.file.read_text(encoding="utf-8").splitlines()[-count:]:
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line torn by a crash
        return out
