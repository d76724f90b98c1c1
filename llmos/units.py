"""Sizes as a person (and a small model) reads them."""

from __future__ import annotations


def size_text(size: int) -> str:
    """1536 → "1.5 KiB"; under 1 KiB in bytes. A small model copies "2.4 MiB" where it miscopies "2500000"."""
    if size < 1024:
        return f"{size:,} bytes"
    value, units = size / 1024, ["KiB", "MiB", "GiB", "TiB"]
    while value >= 1024 and len(units) > 1:
        value, units = value / 1024, units[1:]
    return f"{value:,.1f} {units[0]}"
