"""Calls in free text, where small models put them: bare or fenced JSON (one or several), Python-style calls
(bare, in a fence or a list), "Called tool 'x' with arguments: {…}", and name key="value" lists.

Free text is where false calls come from, so it is read cautiously: a call shown as an example ("for
example", "you can", "the syntax is") or narrated with a result ("…and it returned 20 °C") is not a call.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from llmos.agent.repair import lenient
from llmos.agent.repair.objects import RawCall, calls_from_value
from llmos.agent.repair.pyform import calls_from_code

Known = Callable[[RawCall], bool]

# Reasoning comes first in an output; a marker quoted later, inside an argument, is text.
_REASONING = re.compile(r"\s*(?:<think>.*?(?:</think>|$)|\[THINK\].*?(?:\[/THINK\]|$)"
                        r"|<\|channel>thought.*?(?:<channel\|>|$)"
                        r"|<\|channel\|>analysis<\|message\|>.*?(?:<\|end\|>|$))", re.S)
_IMAGINED = re.compile(r"<(tool_response|tool_result|tool_output|observation)>.*?(?:</\1>|$)", re.S | re.I)
_FENCE = re.compile(r"```[ \t]*([\w\-]*)[ \t]*\n?(.*?)(?:```|$)", re.S)
_EXAMPLE = re.compile(r"\b(for example|for instance|e\.g\.|an example|example:|such as|you (?:can|could|would|"
                      r"might|may|should) (?:use|call|run|try|write)|would look like|looks like this|like this|"
                      r"syntax|usage|the format|here is how|here's how|to call (?:it|the|a)|instead of)\b", re.I)
_NARRATED = re.compile(r"\b(returned|returns|the result|results? (?:is|was|were|shows?)|output(?:ted)?|"
                       r"responded|response (?:is|was)|gave me|it says|shows that)\b", re.I)
_PROSE_CALL = re.compile(r"(?:called|calling|call|invoking|invoke|using|running|run)\s+(?:the\s+)?(?:tool|function)?"
                         r"\s*[`'\"]?([A-Za-z_][\w.\-]*)[`'\"]?\s+with\s+(?:the\s+)?(?:arguments|args|parameters|"
                         r"input)?\s*:?\s*(?=\{)", re.I)
_REACT = re.compile(r"Action:\s*[`'\"]?([A-Za-z_][\w.\-]*)[`'\"]?\s*\n\s*Action Input:\s*(?=\{)", re.I)
_KEY_VALUES = re.compile(r"\s*([A-Za-z_][\w.\-]*)\s*[:(]?\s*((?:[A-Za-z_]\w*\s*=\s*(?:\"(?:[^\"\\]|\\.)*\"|'[^']*'|"
                         r"[^\s,)]+)\s*,?\s*)+)\)?\s*")
_PAIR = re.compile(r"([A-Za-z_]\w*)\s*=\s*(\"(?:[^\"\\]|\\.)*\"|'[^']*'|[^\s,)]+)")
_SHORT_LEAD = 120  # characters of prose allowed before a call ("Sure, let me check that for you:")


def prepare(text: str) -> str:
    """The text without reasoning (calls inside thoughts are not calls) and without imagined tool results."""
    while (match := _REASONING.match(text)) and match.end() > 0 and match.group(0).strip():
        text = text[match.end():]
    if "</think>" in text:  # the template opened <think> in the prompt: everything before is reasoning
        text = text.split("</think>", 1)[1]
    return _IMAGINED.sub(" ", text)


def calls(text: str, known: Known) -> list[RawCall]:
    for reader in (_fenced, _json, _prose, _code, _key_values):
        found = [c for c in reader(text) if known(c)]
        if found:
            return found
    return []


def _is_example(prose: str) -> bool:
    return bool(_EXAMPLE.search(prose))


def _fenced(text: str) -> list[RawCall]:
    blocks = list(_FENCE.finditer(text))
    if not blocks or _is_example(_FENCE.sub(" ", text)):
        return []
    found: list[RawCall] = []
    for block in blocks:
        body = block.group(2)
        closed = block.group(0).rstrip().endswith("```") and len(block.group(0)) > 3
        if body.lstrip()[:1] in ("{", "["):
            for value, repaired, _span in lenient.values_in(body, stop_at_end=True):
                found += calls_from_value(value, "fenced json", repaired)
            if not found and closed:
                parsed = lenient.loads(body)
                found += calls_from_value(parsed[0], "fenced json", True) if parsed else []
        elif closed:
            found += calls_from_code(body, "fenced code") or []
    return found


def _json(text: str) -> list[RawCall]:
    values = lenient.values_in(text, stop_at_end=True)
    if not values:
        return []
    prose = "".join(text[a:b] for a, b in _gaps(text, [span for _v, _r, span in values]))
    if _is_example(prose) or _NARRATED.search(text[values[-1][2].end:]):
        return []
    found: list[RawCall] = []
    for value, repaired, _span in values:
        found += calls_from_value(value, "json", repaired)
    return found


def _prose(text: str) -> list[RawCall]:
    found: list[RawCall] = []
    for pattern, shape in ((_PROSE_CALL, "prose"), (_REACT, "react")):
        for match in pattern.finditer(text):
            span = lenient.scan(text, match.end())
            if not span.closed or _NARRATED.search(text[span.end:]) or _is_example(text[:match.start()]):
                continue
            parsed = lenient.loads(text[match.end():span.end])
            if parsed is not None and isinstance(parsed[0], dict):
                found.append(RawCall(match.group(1), parsed[0], shape, repaired=parsed[1]))
    return found


def _code(text: str) -> list[RawCall]:
    whole = calls_from_code(text, "python")
    if whole is not None:
        return whole
    lead, _sep, last = text.strip().rpartition("\n")
    if not lead or len(lead) > _SHORT_LEAD or _is_example(lead):
        return []
    return calls_from_code(last, "python") or []


def _key_values(text: str) -> list[RawCall]:
    match = _KEY_VALUES.fullmatch(text.strip())
    if match is None:
        return []
    arguments = {}
    for key, raw in _PAIR.findall(match.group(2)):
        if raw[:1] in ("'", '"'):
            parsed = lenient.loads(raw) if raw[0] == '"' else (raw[1:-1], False)
            arguments[key] = parsed[0] if parsed else raw[1:-1]
        else:
            parsed = lenient.loads(raw) if raw[:1].isdigit() or raw in ("true", "false", "null") else None
            arguments[key] = parsed[0] if parsed else raw
    return [RawCall(match.group(1), arguments, "key=value", textual=False)]


def _gaps(text: str, spans: list[lenient.Span]) -> list[tuple[int, int]]:
    out, pos = [], 0
    for span in spans:
        out.append((pos, span.start))
        pos = span.end
    out.append((pos, len(text)))
    return out
