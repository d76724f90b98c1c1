"""Usage records: durable, concurrent-safe, summarised correctly."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

from llmos.usage.report import parse_since, percentile, summarize
from llmos.usage.store import UsageRecord, UsageStore


def _writer(path: str, worker: int, count: int) -> None:
    store = UsageStore(Path(path))
    for i in range(count):
        store.add(UsageRecord(f"p{worker}", "m", i, 1, False, 0.1, 0.05, True))
    store.close()


def test_concurrent_processes_lose_no_record(tmp_path: Path) -> None:
    db = tmp_path / "usage.sqlite3"
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_writer, args=(str(db), w, 200)) for w in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    records = UsageStore(db).records()
    assert len(records) == 800
    assert sorted({r.provider for r in records}) == ["p0", "p1", "p2", "p3"]
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_record_is_durable_once_added(tmp_path: Path) -> None:
    db = tmp_path / "usage.sqlite3"
    store = UsageStore(db)
    store.add(UsageRecord("ollama", "llama3.2:3b", 10, 5, True, 1.0, 0.2, False, "TIMEOUT"))
    # A second connection (another process, or this one after a crash) sees it without any close/commit.
    other = UsageStore(db)
    [record] = other.records()
    assert (record.provider, record.success, record.error_kind, record.estimated) == ("ollama", False, "TIMEOUT", True)


def test_summary_groups_percentiles_and_cost() -> None:
    records = [UsageRecord("claude", "claude-haiku-4-5", 1000, 100, False, lat, lat / 4, True)
               for lat in (0.1, 0.2, 0.3, 0.4, 2.0)]
    records.append(UsageRecord("claude", "claude-haiku-4-5", 0, 0, False, 5.0, None, False, "RATE_LIMITED"))
    records.append(UsageRecord("ollama", "llama3.2:3b", 50, 20, True, 0.5, 0.1, True))
    rows = summarize(records, {"claude-haiku-4-5": (1.0, 5.0)}.get)
    claude, ollama = rows
    assert (claude.requests, claude.failures, claude.input_tokens, claude.output_tokens) == (6, 1, 5000, 500)
    assert claude.latency_p50_s == 0.3 and claude.latency_p95_s == 2.0  # failures excluded from latency
    assert abs(claude.cost_usd - (5000 * 1.0 + 500 * 5.0) / 1e6) < 1e-12
    assert ollama.cost_usd is None and ollama.estimated_tokens


def test_percentile_and_period_parsing() -> None:
    assert percentile([], 50) is None
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile(list(map(float, range(1, 101))), 95) == 95.0
    assert parse_since("7d") == 7 * 86400 and parse_since("30m") == 1800 and parse_since("2w") == 14 * 86400
