"""Finding JSON inside model text, and reading broken-but-readable JSON.

Small models drop a closing brace, use single quotes or Python literals, leave trailing commas and write
invalid escapes (C:\\Users). ``json-repair`` (PyPI) reads all of these; it is imported only when strict JSON
fails. What leniency must not do is complete a value the model never finished: a call cut off at the end of
the output (max tokens) is not a call — "rm -rf /tmp/build" cut to "rm -rf /" shows why.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from typing import Any

_OPEN, _CLOSE = "{[", "}]"


@dataclass(frozen=True)
class Span:
    start: int
    end: int  # index after the value (or the end of the searched text when it never closed)
    closed: bool


def scan(text: str, start: int, stop: int | None = None) -> Span:
    """The extent of the bracketed value opening at ``text[start]``, aware of quoted strings."""
    stop = len(text) if stop is None else stop
    depth, quote, escaped = 0, "", False
    for i in range(start, stop):
        c = text[i]
        if quote:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == quote:
                quote = ""
            continue
        if c == '"' or (c == "'" and _opens_single_quote(text, i)):
            quote = c
        elif c in _OPEN:
            depth += 1
        elif c in _CLOSE:
            depth -= 1
            if depth == 0:
                return Span(start, i + 1, True)
    return Span(start, stop, False)


def _opens_single_quote(text: str, i: int) -> bool:
    """A ' starts a string only where a value or key may start ({'a': 'b'}), not inside a word (it's)."""
    before = text[:i].rstrip()[-1:]
    return before in ("{", "[", ",", ":", "(", "=")


def loads(text: str) -> tuple[Any, bool] | None:
    """(value, repaired) for JSON or JSON-like text, or None when it is not readable as a value."""
    text = text.strip()
    if not text:
        return None
    try:
        return json.loads(text), False
    except json.JSONDecodeError:
        pass
    try:  # Python literals: {'a': True, 'b': None}
        return ast.literal_eval(text), True
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        pass
    if text[0] not in _OPEN:
        return None  # json-repair turns any prose into a string; only bracketed text is worth repairing
    import json_repair  # lazily: only broken JSON needs it

    value = json_repair.loads(text)
    if value in ("", None) or (value in ({}, []) and not _is_empty_literal(text)):
        return None
    return value, True


def _is_empty_literal(text: str) -> bool:
    return text.replace(" ", "").replace("\n", "") in ("{}", "[]")


def values_in(text: str, stop_at_end: bool = True) -> list[tuple[Any, bool, Span]]:
    """Every top-level JSON object or array of objects in ``text``, in order (two objects in a row included).

    A value still open when the text ends is a cut-off output, not a call, and is left out when
    ``stop_at_end`` (the text is the end of the model's output).
    """
    found: list[tuple[Any, bool, Span]] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "{" or (c == "[" and text[i + 1:].lstrip()[:1] == "{"):
            span = scan(text, i)
            if not span.closed and stop_at_end:
                break
            parsed = loads(text[span.start:span.end])
            if parsed is not None:
                found.append((parsed[0], parsed[1], span))
                i = span.end
                continue
        i += 1
    return found
