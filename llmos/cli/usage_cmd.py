"""`llmos usage`: requests, tokens, failures, latency and cost by provider and model."""

from __future__ import annotations

import typer


def usage(
    since: str = typer.Option("7d", "--since", help="Period to cover: 30m, 12h, 7d, 2w."),
    json_output: bool = typer.Option(False, "--json", help="Print the rows as JSON."),
) -> None:
    """Show how much each provider and model was used, how fast it answered, and what it cost."""
    import json
    import sqlite3
    import time

    from llmos import paths
    from llmos.damaged import why_unwritable
    from llmos.errors import LlmosError
    from llmos.config import load_config
    from llmos.usage.report import parse_since, summarize
    from llmos.terminal import current
    from llmos.usage.store import UsageStore

    period = parse_since(since)
    config = load_config()
    try:
        store = UsageStore(paths.usage_db())
    except (OSError, sqlite3.Error) as exc:
        raise LlmosError(f"cannot open the usage database {paths.usage_db()}: "
                         f"{why_unwritable(paths.usage_db(), exc)}") from exc
    rows = summarize(store.records(since=time.time() - period), config.pricing)
    if json_output:
        current().write(json.dumps({"since_s": period, "rows": [r.to_json() for r in rows]}, indent=2) + "\n")
        return
    from llmos.ui.usage_view import print_usage

    print_usage(current().console, rows, since)
