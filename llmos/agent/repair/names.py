"""Matching the name a model wrote to a tool that was actually offered.

Models write filesystem.list_directory, functions.list_directory, filesystem__list_directory,
List-Directory or a slip like get_water for get_weather. Exact and mechanical variants are accepted; a
misspelling only when it is very close to exactly one offered name. A name that matches nothing offered
is not a call.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from difflib import SequenceMatcher
from typing import Any

SIMILARITY = 0.85  # get_water → get_weather is 0.90; list_dir → list_directory is 0.73 (refused)
MARGIN = 0.05  # the best match must beat the runner-up by this much, or the name is ambiguous
_PREFIXES = ("functions.", "function.", "default_api.", "tools.", "tool.", "api.")


def match(name: str, offered: Iterable[str]) -> tuple[str, str | None] | None:
    """(offered name, note) — the note says when the name was a misspelling — or None."""
    names = list(offered)
    if not isinstance(name, str) or not name.strip():
        return None
    name = name.strip()
    if name in names:
        return name, None
    variants = _variants(name)
    folded = {_fold(n): n for n in names}
    for variant in variants:
        if variant in names:
            return variant, None
        if _fold(variant) in folded:
            return folded[_fold(variant)], None
    scored = sorted(((SequenceMatcher(None, _fold(name), key).ratio(), real) for key, real in folded.items()),
                    reverse=True)
    if scored and scored[0][0] >= SIMILARITY and (len(scored) == 1 or scored[0][0] - scored[1][0] >= MARGIN):
        return scored[0][1], f"tool name {name!r} read as {scored[0][1]!r}"
    return None


def _variants(name: str) -> list[str]:
    out = [name]
    for prefix in _PREFIXES:
        if name.startswith(prefix):
            out.append(name[len(prefix):])
    for sep in (".", "__", ":", "/"):
        if sep in name:
            out.append(name.rsplit(sep, 1)[1])
    if re.fullmatch(r"[\w.\-]+:\d+", name):  # Kimi's functions.get_weather:0
        out += _variants(name.rsplit(":", 1)[0])
    return out


def _fold(name: str) -> str:
    """Case and separator insensitive: List-Directory, listDirectory and list_directory agree."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return re.sub(r"[\s\-_.]+", "_", spaced).lower().strip("_")


def by_arguments(name: str, arguments: Mapping[str, Any] | None,
                 schemas: Mapping[str, dict[str, Any] | None]) -> tuple[str, str] | None:
    """An unknown name whose arguments fit exactly one offered tool that shares a word of the name:
    Qwen2.5-Coder-1.5B wrote ``open_app`` with {app, target}, exactly ``launch_app``'s parameters. The
    arguments must be exactly that tool's parameters: ``remove_file`` with {path} is not ``read_file`` (path,
    offset, limit), though it shares a word and its one required parameter. Anything less is no call."""
    if not isinstance(name, str) or not arguments:
        return None
    words = set(_fold(name).split("_"))
    fitting = []
    for offered, schema in schemas.items():
        properties = (schema or {}).get("properties")
        required = set((schema or {}).get("required") or [])
        if not isinstance(properties, dict) or not words & set(_fold(offered).split("_")):
            continue
        if set(arguments) == set(properties) and required <= set(arguments):
            fitting.append(offered)
    if len(fitting) != 1:
        return None
    return fitting[0], f"tool name {name!r} read as {fitting[0]!r} (only its parameters fit the arguments)"
