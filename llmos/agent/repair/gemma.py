"""Gemma's call syntax: <|tool_call>call:get_weather{city:<|"|>Paris<|"|>,unit:<|"|>c<|"|>}<tool_call|>.

Keys are bare words (spaces allowed), strings are fenced by <|"|>. The arguments are turned into JSON by
protecting every string first, then quoting the bare keys, then reading the result strictly.
"""

from __future__ import annotations

import json
import re

from llmos.agent.repair import lenient
from llmos.agent.repair.objects import RawCall

_QUOTE = '<|"|>'
_CALL = re.compile(r"(?:<\|tool_call>\s*)?\bcall:([\w.\-]+)\s*(?=\{)")
_BARE_KEY = re.compile(r"([{,]\s*)([^{}\[\],:\"\x00]+?)\s*:")


def tagged(text: str) -> list[RawCall] | None:
    if "<|tool_call>" not in text and not _CALL.search(text):
        return None
    return calls(text, "gemma")


def calls(text: str, shape: str) -> list[RawCall]:
    protected, strings = _protect(text)
    found = []
    for match in _CALL.finditer(protected):
        span = lenient.scan(protected, match.end())
        if not span.closed:
            continue  # cut off
        arguments = _arguments(protected[match.end():span.end], strings)
        if arguments is not None:
            found.append(RawCall(match.group(1), arguments, shape))
    return found


def _protect(text: str) -> tuple[str, list[str]]:
    """Replace each <|"|>…<|"|> and "…" string by a numbered placeholder \x00N\x00 (no brackets, no quotes)."""
    strings: list[str] = []

    def keep(value: str) -> str:
        strings.append(value)
        return f"\x00{len(strings) - 1}\x00"

    out, i = [], 0
    while i < len(text):
        if text.startswith(_QUOTE, i):
            end = text.find(_QUOTE, i + len(_QUOTE))
            if end < 0:
                out.append(text[i:])
                break
            out.append(keep(text[i + len(_QUOTE):end]))
            i = end + len(_QUOTE)
        elif text[i] == '"':
            match = re.match(r'"((?:[^"\\]|\\.)*)"', text[i:], re.S)
            if match is None:
                out.append(text[i:])
                break
            out.append(keep(json.loads(match.group(0))))
            i += match.end()
        else:
            out.append(text[i])
            i += 1
    return "".join(out), strings


def _arguments(body: str, strings: list[str]) -> dict | None:
    quoted = _BARE_KEY.sub(lambda m: f'{m.group(1)}"{m.group(2).strip()}":', body)
    restored = re.sub(r"\x00(\d+)\x00", lambda m: json.dumps(strings[int(m.group(1))]), quoted)
    try:
        value = json.loads(restored)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None
