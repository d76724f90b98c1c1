"""Saved sessions: one JSON-lines file per conversation in the XDG data dir, appended as it goes.

A crash loses at most the message in flight. Secrets are redacted before anything is written. A damaged
file never stops llmos: torn or damaged lines are skipped and counted, and a file with nothing readable
left is moved aside (``*.corrupt-<time>``) by the caller that resumes it.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmos import jsonl, paths
from llmos.damaged import unsaved
from llmos.errors import UsageError
from llmos.llm.messages import Message, ToolCall
from llmos.redact import redact

_ROLES = ("system", "user", "assistant", "tool")


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
    modified: float = 0.0


@dataclass
class Loaded:
    """What a session file holds: the messages after the part a summary replaced, the summary, and damage."""

    messages: list[Message]
    summary: str = ""
    covered: int = 0  # messages at the start of the file that the summary stands for (not loaded)
    total: int = 0  # messages in the file
    damaged_lines: int = 0


def _to_record(m: Message) -> dict[str, Any]:
    record: dict[str, Any] = {"role": m.role, "content": redact(m.content)}
    if m.tool_calls:
        record["tool_calls"] = [{"id": c.id, "name": c.name, "arguments": redact(c.arguments)} for c in m.tool_calls]
    if m.tool_call_id:
        record["tool_call_id"] = m.tool_call_id
    if m.name:
        record["name"] = m.name
    if m.data is not None:
        record["data"] = redact(m.data)
    return record


def _from_record(r: dict[str, Any]) -> Message | None:
    """A message from a saved line, or None when the line does not have a message's shape."""
    role, content = r.get("role"), r.get("content", "")
    if role not in _ROLES or not isinstance(content, str):
        return None
    calls = []
    for c in r.get("tool_calls") or []:
        if not isinstance(c, dict) or not isinstance(c.get("id"), str) or not isinstance(c.get("name"), str):
            return None
        arguments = c.get("arguments")
        calls.append(ToolCall(c["id"], c["name"], arguments if isinstance(arguments, dict) else {}))
    call_id, name, data = r.get("tool_call_id"), r.get("name"), r.get("data")
    return Message(role, content, calls, call_id if isinstance(call_id, str) else None,
                   name if isinstance(name, str) else None, data if isinstance(data, dict) else None)


class SessionStore:
    """Appends the messages of one session to its file."""

    def __init__(self, session_id: str | None = None, directory: Path | None = None):
        self.directory = directory or sessions_dir()
        self.id = session_id or time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        self.path = self.directory / f"{self.id}.jsonl"
        self.unsaved = False  # a write failed: nothing more is saved

    def append(self, message: Message) -> None:
        header = [] if os.path.lexists(self.path) else [{"session": self.id, "started": time.time(),
                                                          "cwd": os.getcwd()}]
        self._write(*header, _to_record(message))

    def record_summary(self, summary: str, keeps: int) -> None:
        """The compaction summary, and how many of the newest messages stayed verbatim beside it: a resumed
        session starts from the summary and those, instead of compacting the same history again."""
        self._write({"summary": redact(summary), "keeps": keeps})

    def _write(self, *records: dict[str, Any]) -> None:
        """Append, or — when the folder cannot be written — say so once and save nothing more of this
        session (a file with a hole in it would resume as a different conversation)."""
        if self.unsaved:
            return
        try:
            jsonl.append(self.path, *records)
        except OSError as exc:
            self.unsaved = True
            unsaved("this conversation", self.path, exc, "the conversation goes on but cannot be resumed")

    @staticmethod
    def load(path: Path) -> Loaded:
        """The messages since the latest summary (with the ones it kept), that summary, and the damage."""
        records, damaged = jsonl.read_counted(path)
        messages: list[Message] = []
        summary, start = "", 0
        for record in records:
            if "role" in record:
                message = _from_record(record)
                if message is None:
                    damaged += 1
                else:
                    messages.append(message)
            elif isinstance(record.get("summary"), str):
                summary = record["summary"]
                keeps = record.get("keeps")
                # Files from before this count keep the summary and the whole history with it.
                if isinstance(keeps, int) and not isinstance(keeps, bool) and keeps >= 0:
                    start = max(0, len(messages) - keeps)
                else:
                    start = 0
        return Loaded(_drop_dangling_calls(messages[start:]), summary, start, len(messages), damaged)


def _drop_dangling_calls(messages: list[Message]) -> list[Message]:
    """A crash between a tool call and its result leaves a call no provider accepts: drop that call (and the
    results it did get), and nothing else — the conversation after it stays."""
    answered = {m.tool_call_id for m in messages if m.role == "tool"}
    dangling = [m for m in messages if m.role == "assistant" and m.tool_calls
                and not all(c.id in answered for c in m.tool_calls)]
    if not dangling:
        return messages
    orphaned = {c.id for m in dangling for c in m.tool_calls}
    return [m for m in messages if not any(m is d for d in dangling)
            and not (m.role == "tool" and m.tool_call_id in orphaned)]


def list_sessions(directory: Path | None = None) -> list[SessionInfo]:
    directory = directory or sessions_dir()
    infos = []
    for path in directory.glob("*.jsonl") if directory.is_dir() else []:
        try:
            records, _damaged = jsonl.read_counted(path)
            modified = path.stat().st_mtime
        except OSError:  # a folder or a pipe named like a session is not one
            continue
        infos.append(_info(path, records, modified))
    return sorted(infos, key=lambda s: s.modified)


def _info(path: Path, records: list[dict[str, Any]], modified: float) -> SessionInfo:
    started, cwd, title, count = modified, "", "", 0
    for record in records:
        if "session" in record:
            value = record.get("started")
            started = value if isinstance(value, (int, float)) and not isinstance(value, bool) else started
            cwd = str(record["cwd"]) if isinstance(record.get("cwd"), str) else ""
        elif record.get("role") in _ROLES:
            count += 1
            content = record.get("content")
            if not title and record["role"] == "user" and isinstance(content, str):
                title = content[:80]
    return SessionInfo(path.stem, path, started, cwd, title, count, modified)


def find_session(which: str | None) -> SessionInfo:
    """The newest session, or the one whose id starts with ``which``."""
    sessions = list_sessions()
    if which:
        sessions = [s for s in sessions if s.id.startswith(which)]
    if not sessions:
        raise UsageError("no saved session to continue" + (f" matching {which!r}" if which else ""))
    return sessions[-1]
