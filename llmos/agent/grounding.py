"""What a model made up: a number it passes as a process ID (or another ``*_id``) that appears neither in the
person's words nor in any result it has seen; and optional arguments that narrow a call in a way nobody
asked for.

Measured on Qwen2.5-Coder-0.5B: "kill the backup-daemon process" → ``kill_process(pid=12345)``, a PID
invented instead of looked up; on a busy machine a guessed PID can be a real, unrelated process. Such a call
is not run; the model is told to look the number up first.

Optional arguments are different: leaving one out gives the tool's own default, so a made-up one is dropped
and the call runs. Measured (benchmarks/README.md): "show me the last few commits" →
``git_log(author="root", since="2024-05-01", path="README.md")`` (nothing matched); "what's the first line
of poem.txt?" → ``read_file(limit=1)`` (the answer was "T"); "start star chart" → ``launch_app(target=<a
made-up png>)``, refused three times; the 1.5B passed the folder above the working directory as ``repo``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

UNSEEN = "appears nowhere in the request or in any tool result so far"  # the refusal's words
_ID_KEY = re.compile(r"^(pid|\w+_pid|\w+_id)$")
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "dozen": 12,
                 "fifty": 50, "hundred": 100}


def unseen_identifier(arguments: dict[str, Any], seen: Iterable[str]) -> str | None:
    """Why the call uses an identifier nobody gave it, or None."""
    numbers = [(k, v) for k, v in arguments.items()
               if _ID_KEY.match(k) and isinstance(v, int) and not isinstance(v, bool)]
    if not numbers:
        return None
    text = "\n".join(seen)
    for key, value in numbers:
        if not re.search(rf"(?<!\d){value}(?!\d)", text):
            return (f"{key} {value} {UNSEEN}; do not guess it: "
                    "look it up with another tool first")
    return None


def unasked(arguments: dict[str, Any], schema: dict[str, Any], path_keys: Iterable[str], heard: str,
            places: Iterable[Path]) -> tuple[dict[str, Any], list[str]]:
    """``arguments`` without the optional ones nothing said, and the ones dropped.

    ``heard``: what the person said and the tools returned (not the system prompt, which names the user
    and the working directory); ``places``: the working directory and home, which a path may name without
    anyone saying so. Kept: required arguments, a tool's default, booleans and choices from an enum (a
    switch or an order, not a made-up value), numbers the text says, strings that share a word with it,
    and paths that are the working directory or home, whose last part the text names, or that exist and are
    not a folder above those two.
    """
    found = schema.get("properties")
    properties: dict[str, Any] = found if isinstance(found, dict) else {}
    required = set(schema.get("required") or [])
    paths = set(path_keys)
    kept, dropped = {}, []
    for key, value in arguments.items():
        spec = properties.get(key)
        if key in required or not isinstance(spec, dict) or _asked(key in paths, value, spec, heard, places):
            kept[key] = value
        else:
            dropped.append(f"{key}={value!r}")
    return kept, dropped


def _asked(is_path: bool, value: Any, spec: dict[str, Any], heard: str, places: Iterable[Path]) -> bool:
    if value is None or isinstance(value, bool | list | dict) or "enum" in spec or value == spec.get("default"):
        return True
    if isinstance(value, int | float):
        return _said_number(value, heard)
    if not isinstance(value, str):
        return True
    if is_path:
        return _named_place(value, heard, places)
    return any(re.search(rf"(?<![a-z0-9]){re.escape(w)}(?![a-z0-9])", heard, re.I)
               for w in re.findall(r"[a-z0-9]{3,}", value.lower()))


def _said_number(value: float, heard: str) -> bool:
    shown = str(value) if isinstance(value, int) or not value.is_integer() else str(int(value))
    # A number on its own: not the "1" of "pytest-1/" or the "4" of "/tmp/f4" in a path.
    if re.search(rf"(?<![\w./-]){re.escape(shown)}(?![\w/-]|\.\d)", heard):
        return True
    return any(n == value for w, n in _NUMBER_WORDS.items() if re.search(rf"\b{w}\b", heard, re.I))


def _named_place(value: str, heard: str, places: Iterable[Path]) -> bool:
    if value.strip() in ("", ".", "./", "~", "~/"):
        return True
    path = Path(value).expanduser()
    if any(path == p for p in places):
        return True
    name = path.name
    if name and re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", heard, re.I):
        return True
    # Unnamed, yet kept if it exists and is not above where the person is: a model may pick a real folder
    # (an allowed root) for "show me the biggest files"; a made-up file or "the folder above" is dropped.
    above = any(p.is_relative_to(path) for p in places if path.is_absolute())
    return not above and (path if path.is_absolute() else Path.cwd() / path).exists()
