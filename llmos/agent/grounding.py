"""Identifiers a model made up: a number it passes as a process ID (or another ``*_id``) that appears neither
in the person's words nor in any result it has seen.

Measured on Qwen2.5-Coder-0.5B: "kill the backup-daemon process" → ``kill_process(pid=12345)``, a PID
invented instead of looked up; on a busy machine a guessed PID can be a real, unrelated process. Such a call
is not run; the model is told to look the number up first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_ID_KEY = re.compile(r"^(pid|\w+_pid|\w+_id)$")


def unseen_identifier(arguments: dict[str, Any], seen: Iterable[str]) -> str | None:
    """Why the call uses an identifier nobody gave it, or None."""
    numbers = [(k, v) for k, v in arguments.items()
               if _ID_KEY.match(k) and isinstance(v, int) and not isinstance(v, bool)]
    if not numbers:
        return None
    text = "\n".join(seen)
    for key, value in numbers:
        if not re.search(rf"(?<!\d){value}(?!\d)", text):
            return (f"{key} {value} appears nowhere in the request or in any tool result so far; do not guess it: "
                    "look it up with another tool first")
    return None
