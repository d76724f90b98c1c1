"""Append-only usage records in SQLite (WAL), safe with several llmos processes and after a crash."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from llmos.damaged import not_a_regular_file, set_aside, unsaved

# Schema changes are appended here, never edited: each runs once, in order, recorded in user_version.
_MIGRATIONS: list[str] = [
    """
    CREATE TABLE requests (
        id INTEGER PRIMARY KEY,
        ts REAL NOT NULL,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        estimated INTEGER NOT NULL DEFAULT 0,
        latency_s REAL,
        ttft_s REAL,
        success INTEGER NOT NULL,
        error_kind TEXT
    );
    CREATE INDEX requests_ts ON requests (ts);
    """,
]


@dataclass(frozen=True)
class UsageRecord:
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    estimated: bool
    latency_s: float | None
    ttft_s: float | None
    success: bool
    error_kind: str | None = None
    ts: float = 0.0


_COLUMNS = {"id", "ts", "provider", "model", "input_tokens", "output_tokens", "estimated", "latency_s", "ttft_s",
            "success", "error_kind"}


class _WrongSchema(sqlite3.DatabaseError):
    """A database llmos can read, but not one it made: its tables are not the usage tables."""


class UsageStore:
    def __init__(self, path: Path, clock: Callable[[], float] = time.time):
        self.path = path
        self._clock = clock
        self.unsaved = False  # a write failed and was reported
        path.parent.mkdir(parents=True, exist_ok=True)
        problem = not_a_regular_file(path)
        if problem:
            self._set_aside(problem)
        try:
            self._open()
        except sqlite3.OperationalError:
            raise  # busy or locked by another llmos, or read-only: nothing is wrong with the file itself
        except sqlite3.DatabaseError as exc:  # not a database, a damaged one, or someone else's tables
            self._db.close()
            self._set_aside(f"is not a usable usage database ({exc})")
            self._open()

    def _open(self) -> None:
        # autocommit: each record is its own transaction, durable once add() returns.
        self._db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        self._check_schema()  # before anything is written: a file that is not ours is moved aside untouched
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._migrate()

    def _check_schema(self) -> None:
        # One read transaction, one snapshot: read apart, another llmos creating the tables could commit in
        # between (version still 0, tables already there) and its new database was taken for someone else's
        # and moved aside, with the records in it (seen in CI: 400 of 800 records from 4 processes).
        self._db.execute("BEGIN")
        try:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]  # "file is not a database" shows here
            tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
        if version == 0:
            if tables:
                raise _WrongSchema("it holds tables llmos did not make")
            return
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(requests)")}
        if not columns >= _COLUMNS:
            raise _WrongSchema("its requests table is missing or has other columns")

    def _set_aside(self, why: str) -> None:
        """Move the database (and its WAL files) aside; usage records start afresh, requests go on."""
        moved = set_aside(self.path, why, "started a new one (earlier usage figures are in the moved file)")
        if moved is None:
            raise sqlite3.OperationalError(f"{self.path} {why}")
        for suffix in ("-wal", "-shm"):
            side = self.path.with_name(self.path.name + suffix)
            if side.exists():
                side.replace(moved.with_name(moved.name + suffix))

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(_MIGRATIONS[version:], start=version + 1):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                # Another process may have migrated while we waited for the lock.
                if self._db.execute("PRAGMA user_version").fetchone()[0] >= number:
                    self._db.execute("ROLLBACK")
                    continue
                for statement in filter(str.strip, script.split(";")):
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {number}")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def add(self, record: UsageRecord) -> None:
        """Record one request; when the database cannot be written (disk full, read-only), say so once and
        go on: usage accounting never breaks a request."""
        for attempt in range(50):  # another llmos process holding the write lock: wait for it, never drop
            try:
                self._insert(record)
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    self._report(exc)
                    return
                time.sleep(0.05 * (attempt + 1))
            except OSError as exc:
                self._report(exc)
                return
        self._report(sqlite3.OperationalError("the database stayed locked"))

    def _report(self, exc: Exception) -> None:
        if not self.unsaved:
            self.unsaved = True
            unsaved("usage records", self.path, exc, "`llmos usage` will not count these requests")

    def _insert(self, record: UsageRecord) -> None:
        self._db.execute(
            "INSERT INTO requests (ts, provider, model, input_tokens, output_tokens, estimated, latency_s,"
            " ttft_s, success, error_kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (record.ts or self._clock(), record.provider, record.model, record.input_tokens,
             record.output_tokens, int(record.estimated), record.latency_s, record.ttft_s, int(record.success),
             record.error_kind),
        )

    def records(self, since: float = 0.0) -> list[UsageRecord]:
        rows = self._db.execute(
            "SELECT provider, model, input_tokens, output_tokens, estimated, latency_s, ttft_s, success, error_kind, ts"
            " FROM requests WHERE ts >= ? ORDER BY ts", (since,)).fetchall()
        # SQLite keeps whatever type was written: a row edited by hand is skipped, not summed as text.
        return [UsageRecord(p, m, i, o, bool(e), lat, ttft, bool(s), k, ts)
                for p, m, i, o, e, lat, ttft, s, k, ts in rows
                if isinstance(p, str) and isinstance(m, str) and isinstance(i, int) and isinstance(o, int)
                and _number(lat) and _number(ttft) and isinstance(ts, (int, float))]

    def close(self) -> None:
        self._db.close()


def _number(value: object) -> bool:
    return value is None or isinstance(value, (int, float))
