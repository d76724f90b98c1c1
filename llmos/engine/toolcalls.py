"""Tool calls a small model gets right: a grammar allows only a well-formed call of an offered tool, or a reply.

Two shapes, measured in benchmarks/bench_engine.py on Qwen2.5-Coder-0.5B (``tagged`` is the default):
- ``tagged``: the model's own template lists the tools, and the grammar forces the block that template asks
  for, ``<tool_call>{"name": …, "arguments": …}</tool_call>``; a ``reply`` pseudo-tool carries plain answers.
- ``json``: for templates that know no tools, the tools are described in the system prompt and the answer is
  one JSON object of the same shape, without tags.
Each tool's arguments follow its own input schema (strings bounded, so a tiny model cannot run on for ever).
The plain-answer branch is the same size as a call, so it stays easy to take. Text is never an action:
only a parsed call of an offered tool becomes a ToolCall.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from llmos.llm.messages import ToolCall, ToolSpec

REPLY = "reply"
# Listed first: measured, a 0.5B model given the reply last calls another tool after every result.
REPLY_TOOL = ToolSpec(REPLY, "Answer the user in words: when no tool is needed, or once tool results answer the "
                      "request.",
                      {"type": "object", "properties": {"text": {"type": "string", "minLength": 1}},
                       "required": ["text"]})
MAX_ARGUMENT_CHARS = 300
OPEN, CLOSE = "<tool_call>\n", "</tool_call>"


def bounded(schema: Any) -> Any:
    """A copy with every unbounded string capped: free text fields are where tiny models run on."""
    if isinstance(schema, dict):
        out = {k: bounded(v) for k, v in schema.items()}
        if out.get("type") == "string" and "maxLength" not in out and "enum" not in out:
            out["maxLength"] = MAX_ARGUMENT_CHARS
        return out
    if isinstance(schema, list):
        return [bounded(v) for v in schema]
    return schema


def call_schema(tools: list[ToolSpec], to_grammar: Callable[[dict[str, Any]], str]) -> dict[str, Any]:
    """anyOf: {"name": TOOL, "arguments": TOOL's schema} per tool, plus the reply pseudo-tool."""
    branches = []
    for tool in [REPLY_TOOL, *tools]:
        arguments = bounded(copy.deepcopy(tool.input_schema or {"type": "object"}))
        try:
            to_grammar(arguments)  # a schema the converter cannot read still gets a well-formed object
        except Exception:
            arguments = {"type": "object"}
        branches.append({"type": "object", "properties": {"name": {"const": tool.name}, "arguments": arguments},
                         "required": ["name", "arguments"]})
    return {"anyOf": branches}


def tool_grammar(tools: list[ToolSpec], to_grammar: Callable[[dict[str, Any]], str], tagged: bool) -> str:
    grammar = to_grammar(call_schema(tools, to_grammar))
    if not tagged:
        return grammar
    body = re.sub(r"^root ::=", "call ::=", grammar, count=1, flags=re.M)
    return f'root ::= "<tool_call>\\n" call "{CLOSE}"\n{body}'


def instructions(tools: list[ToolSpec]) -> str:
    """For templates without tools: what the tools are and the one JSON shape to answer in."""
    lines = ["Answer with one JSON object. To use a tool: {\"name\": TOOL, \"arguments\": {…}}. "
             f"To answer the user in words: {{\"name\": \"{REPLY}\", \"arguments\": {{\"text\": ANSWER}}}}. Tools:"]
    for t in tools:
        params = ", ".join(f"{k}: {v.get('type', 'any')}" for k, v in (t.input_schema.get("properties") or {}).items())
        lines.append(f"- {t.name}({params}): {t.description.splitlines()[0] if t.description else ''}")
    return "\n".join(lines)


@dataclass
class Decision:
    text: str = ""
    calls: list[ToolCall] = field(default_factory=list)


def parse(raw: str, tools: list[ToolSpec], new_id: Callable[[], str]) -> Decision:
    """The call (or reply) in a constrained answer; an answer cut short keeps what the reply said."""
    body = raw.strip()
    if body.startswith(OPEN.strip()):
        body = body[len(OPEN.strip()):]
    body = body.removesuffix(CLOSE).strip()
    try:
        value = json.loads(body)
    except json.JSONDecodeError:
        return Decision(text=ReplyStream().feed(raw))  # cut off by max_tokens: keep any reply text
    name = value.get("name") if isinstance(value, dict) else None
    arguments = value.get("arguments") if isinstance(value, dict) else None
    if name == REPLY:
        return Decision(text=str((arguments or {}).get("text", "")) if isinstance(arguments, dict) else "")
    if name in {t.name for t in tools} and isinstance(arguments, dict):
        return Decision(calls=[ToolCall(new_id(), name, arguments)])
    return Decision()


_REPLY_START = re.compile(r'^\s*(?:<tool_call>\s*)?\{\s*"name"\s*:\s*"reply"\s*,'
                          r'\s*"arguments"\s*:\s*\{\s*"text"\s*:\s*"')
_OTHER_NAME = re.compile(r'"name"\s*:\s*"(?!reply")')
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


class ReplyStream:
    """Streams the words of a ``reply`` as they are generated, decoding the JSON string on the fly."""

    def __init__(self) -> None:
        self._raw = ""
        self._pos: int | None = None  # where the reply text starts in _raw, once known
        self._done = False

    def feed(self, piece: str) -> str:
        self._raw += piece
        if self._done or _OTHER_NAME.search(self._raw):
            return ""
        if self._pos is None:
            match = _REPLY_START.match(self._raw)
            if not match:
                return ""
            self._pos = match.end()
        return self._drain()

    def _drain(self) -> str:
        assert self._pos is not None
        out: list[str] = []
        raw, i = self._raw, self._pos
        while i < len(raw):
            ch = raw[i]
            if ch == '"':
                self._done = True
                i += 1
                break
            if ch != "\\":
                out.append(ch)
                i += 1
                continue
            if i + 1 >= len(raw):
                break  # the escape's second half has not arrived yet
            code = raw[i + 1]
            if code == "u":
                if i + 6 > len(raw):
                    break
                out.append(chr(int(raw[i + 2:i + 6], 16)))
                i += 6
                continue
            out.append(_ESCAPES.get(code, code))
            i += 2
        self._pos = i
        return "".join(out)
