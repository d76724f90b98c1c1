"""The audit log: every tool call, its gate decision and outcome, as JSON lines in the XDG state dir.

Each record is one line written and flushed before the call returns, so a crash loses nothing already
logged. Arguments are redacted: values under secret-looking keys, and anything shaped like an API key.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

from llmos import paths

_SECRET_KEYS = re.compile(r"pass(word)?|secret|token|api[_-]?key|authorization|credential", re.I)
_SECRET_VALUES = re.compile(r"\b(sk-[A-Za-z0-9_-]{8,}|sk-ant-[A-Za-z0-9_-]{8,}|gh[pousr]_[A-Za-z0-9]{20,}|"
                            r"xox[abp]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16})\b")


def redact(value: Any, key: str = "") -> Any:
    if key and _SECRET_KEYS.search(key):
        return "****"
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str):
        text = _SECRET_VALUES.sub("****", value)
        for var in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY"):
            secret = os.environ.get(var)
            if secret and len(secret) >= 8:
                text = text.replace(secret, "****")
        return text
    return value


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
