"""Saved sessions: one JSON-lines file per conversation in the XDG data dir, appended as it goes.

A crash loses at most the message in flight. Secrets are redacted before anything is written.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmos import paths
from llmos.redact import redact
from llmos.errors import UsageError
from llmos.llm.messages import Message, ToolCall


def sessions_dir() -> Path:
    return paths.data_dir() / "sessions"


@dataclass
class SessionInfo:
    id: str
    path: Path
    started: float
    cwd: str
    title: str  # the first request
    messages: int


def _to_record(m: Message) -> dict[str, Any]:
    record: dict[str, Any] = {"role": m.role, "content": redact(m.content)}
    if m.tool_calls:
        record["tool_calls"] = [{"id": c.id, "name": c.name, "arguments": redact(c.arguments)} for c in m.tool_calls]
    if m.tool_call_id:
        record["tool_call_id"] = m.tool_call_id
    if m.name:
        record["name"] = m.name
    return record


def _from_record(r: dict[str, Any]) -> Message:
    calls = [ToolCall(c["id"], c["name"], c.get("arguments") or {}) for c in r.get("tool_calls", [])]
    return Message(r["role"], r.get("content", ""), calls, r.get("tool_call_id"), r.get("name"))


class SessionStore:
    """Appends the messages of one session to its file."""

    def __init__(self, session_id: str | None = None, directory: Path | None = None):
        self.directory = directory or sessions_dir()
        self.id = session_id or time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        self.path = self.directory / f"{self.id}.jsonl"

    def append(self, message: Message) -> None:
        new = not self.path.exists()
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as f:
            if new:
                f.write(json.dumps({"session": self.id, "started": time.time(), "cwd": os.getcwd()}) + "\n")
            f.write(json.dumps(_to_record(message), ensure_ascii=False) + "\n")
            f.flush()

    def record_summary(self, summary: str) -> None:
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"summary": redact(summary)}, ensure_ascii=False) + "\n")

    @staticmethod
    def load(path: Path) -> tuple[list[Message], str]:
        """Messages and the latest compaction summary; torn lines (a crash mid-write) are skipped."""
        messages, summary = [], ""
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if "role" in record:
                messages.append(_from_record(record))
            elif "summary" in record:
                summary = record["summary"]
        return _drop_dangling_calls(messages), summary


def _drop_dangling_calls(messages: list[Message]) -> list[Message]:
    """A crash between a tool call and its result would leave a call no provider accepts: cut it off."""
    answered = {m.tool_call_id for m in messages if m.role == "tool"}
    for i in range(len(messages) - 1, -1, -1):
        m = messages[i]
        if m.role == "assistant" and m.tool_calls and not all(c.id in answered for c in m.tool_calls):
            return messages[:i]
    return messages


def list_sessions(directory: Path | None = None) -> list[SessionInfo]:
    directory = directory or sessions_dir()
    infos = []
    for path in directory.glob("*.jsonl") if directory.exists() else []:
        started, cwd, title, count = path.stat().st_mtime, "", "", 0
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if "session" in record:
                    started, cwd = record.get("started", started), record.get("cwd", "")
                elif "role" in record:
                    count += 1
                    if not title and record["role"] == "user":
                        title = record.get("content", "")[:80]
        infos.append(SessionInfo(path.stem, path, started, cwd, title, count))
    return sorted(infos, key=lambda s: s.path.stat().st_mtime)


def find_session(which: str | None) -> SessionInfo:
    """The newest session, or the one whose id starts with ``which``."""
    sessions = list_sessions()
    if which:
        sessions = [s for s in sessions if s.id.startswith(which)]
    if not sessions:
        raise UsageError("no saved session to continue" + (f" matching {which!r}" if which else ""))
    return sessions[-1]
