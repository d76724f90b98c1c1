"""Printing the merged configuration with origins, secrets masked."""

from __future__ import annotations

import json
import os
import sys

from llmos.config import Config

_SECRET_WORDS = ("authorization", "api-key", "api_key", "apikey", "token", "secret", "password")


def flatten(config: Config) -> list[tuple[str, object, str]]:
    """(dotted key, printable value, origin) for every leaf, with secrets masked."""
    rows = []
    for key in config.origins:  # insertion order: the order of the files
        value = config.get(key)
        origin = str(config.origins[key])
        leaf = key.rsplit(".", 1)[-1].lower()
        if leaf == "api_key_env" and value:
            value = f"{value} ({'set' if os.environ.get(str(value)) else 'not set'})"
        elif any(word in leaf for word in _SECRET_WORDS) and value:
            value = "****"
        rows.append((key, value, origin))
    return rows


def print_config(config: Config, json_output: bool) -> None:
    rows = flatten(config)
    if json_output:
        json.dump({k: {"value": v, "origin": o} for k, v, o in rows}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    table.add_column("key", style="cyan", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_column("origin", style="dim", overflow="fold")
    for key, value, origin in rows:
        table.add_row(key, "null" if value is None else json.dumps(value) if not isinstance(value, str) else value,
                      origin)
    console = Console()
    console.print(table)
    for warning in config.warnings:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False)
