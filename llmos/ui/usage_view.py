"""The usage table: inline bars make the busiest provider and the slowest model stand out."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from llmos.usage.report import UsageRow

_BAR_WIDTH = 12
_LEFT = {"provider", "model", ""}  # the rest are numbers


def _bar(value: float, largest: float, style: str) -> Text:
    filled = round(_BAR_WIDTH * value / largest) if largest else 0
    return Text("█" * filled + "·" * (_BAR_WIDTH - filled), style=style)


def _secs(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def print_usage(console: Any, rows: list[UsageRow], since: str) -> None:
    if not rows:
        console.print(f"No requests in the last {since}.")
        return
    most = max(r.requests for r in rows)
    slowest = max((r.latency_p50_s or 0) for r in rows)
    table = Table(title=f"Usage, last {since}", title_justify="left", header_style="bold")
    for name in ("provider", "model", "requests", "", "fail", "tokens in", "tokens out", "p50", "p95", "",
                 "ttft p50", "cost"):
        table.add_column(name, justify="left" if name in _LEFT else "right", no_wrap=True)
    for r in rows:
        est = "~" if r.estimated_tokens else ""
        table.add_row(
            r.provider, r.model, str(r.requests), _bar(r.requests, most, "green"),
            Text(str(r.failures), style="red" if r.failures else "dim"),
            f"{est}{r.input_tokens:,}", f"{est}{r.output_tokens:,}",
            _secs(r.latency_p50_s), _secs(r.latency_p95_s), _bar(r.latency_p50_s or 0, slowest, "yellow"),
            _secs(r.ttft_p50_s), "–" if r.cost_usd is None else f"${r.cost_usd:.4f}",
        )
    console.print(table)
    if any(r.estimated_tokens for r in rows):
        console.print("[dim]~ some token counts are estimates: the provider reported none[/]")
