"""Numbers as a person reads them."""

from __future__ import annotations


def human(n: float) -> str:
    unit = "B"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            break
        n /= 1024
    return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"


def duration(seconds: float) -> str:
    days, rest = divmod(int(seconds), 86400)
    amounts = [(days, "day"), (rest // 3600, "hour"), (rest % 3600 // 60, "minute")]
    parts = [f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in amounts if n]
    return ", ".join(parts) or "less than a minute"
