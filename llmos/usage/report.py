"""Summaries of usage records: per provider and model, with percentiles and estimated cost."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

from llmos.errors import UsageError
from llmos.usage.store import UsageRecord


@dataclass
class UsageRow:
    provider: str
    model: str
    requests: int
    failures: int
    input_tokens: int
    output_tokens: int
    estimated_tokens: bool  # some counts were estimated because the provider reported none
    latency_p50_s: float | None
    latency_p95_s: float | None
    ttft_p50_s: float | None
    ttft_p95_s: float | None
    cost_usd: float | None  # None when the model has no price (local models cost nothing to call)

    def to_json(self) -> dict:
        return asdict(self)


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile; None for no data."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def summarize(records: Iterable[UsageRecord], price: Callable[[str], tuple[float, float] | None]) -> list[UsageRow]:
    groups: dict[tuple[str, str], list[UsageRecord]] = {}
    for r in records:
        groups.setdefault((r.provider, r.model), []).append(r)
    rows = []
    for (provider, model), recs in groups.items():
        ok = [r for r in recs if r.success]
        tokens_in = sum(r.input_tokens for r in recs)
        tokens_out = sum(r.output_tokens for r in recs)
        unit = price(model)
        rows.append(UsageRow(
            provider, model, len(recs), len(recs) - len(ok), tokens_in, tokens_out, any(r.estimated for r in recs),
            percentile([r.latency_s for r in ok if r.latency_s is not None], 50),
            percentile([r.latency_s for r in ok if r.latency_s is not None], 95),
            percentile([r.ttft_s for r in ok if r.ttft_s is not None], 50),
            percentile([r.ttft_s for r in ok if r.ttft_s is not None], 95),
            (tokens_in * unit[0] + tokens_out * unit[1]) / 1e6 if unit else None,
        ))
    rows.sort(key=lambda row: row.requests, reverse=True)
    return rows


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(text: str) -> float:
    """'7d', '12h', '30m', '2w' → seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", text)
    if not match:
        raise UsageError(f"--since: expected a period like 30m, 12h, 7d or 2w, got {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]
