"""Sizes as a person (and a small model) reads them."""

from __future__ import annotations


def size_text(size: int) -> str:
    """As `ls -h` prints them: 12 bytes, 977 KB, 2.4 MB (one decimal under 10). A small model copies "2.4 MB"
    where it miscopies "2500000" (the 0.5B wrote "250,000 bytes")."""
    if size < 1024:
        return f"{size:,} bytes"
    value, units = size / 1024, ["KB", "MB", "GB", "TB"]
    while value >= 1024 and len(units) > 1:
        value, units = value / 1024, units[1:]
    return f"{value:.1f} {units[0]}" if value < 10 else f"{value:.0f} {units[0]}"
