"""Constrained mode (``agent.constrained``): the model answers each step with one JSON decision, held to a
schema by the provider (a grammar in the embedded engine, ``format`` in Ollama, ``response_format``
elsewhere).

The schema has one branch per offered tool, whose ``arguments`` are that tool's own input schema with no
extra keys: measured on Qwen2.5-Coder-0.5B, a loose ``arguments: object`` let it invent keys no tool has
(``git_status(ref="master", max_bytes=100000)``) or pass its previous result back as arguments. The plain
answer comes first, in the schema and in the instructions, so it stays as easy to take as a call.
"""

from __future__ import annotations

import copy
import json
import re
from typing import TYPE_CHECKING, Any

from llmos.agent import repair
from llmos.engine.toolcalls import bounded
from llmos.llm.messages import ToolCall

if TYPE_CHECKING:
    from llmos.agent.host import ToolInfo

ANSWER = "answer"
_ANSWER_BRANCH: dict[str, Any] = {"type": "object", "properties": {"tool": {"const": ANSWER},
                                                                   "answer": {"type": "string", "minLength": 1}},
                                  "required": ["tool", "answer"]}


def arguments_schema(tool: ToolInfo) -> dict[str, Any]:
    """The tool's input schema, strings bounded, no keys it does not name."""
    schema = bounded(copy.deepcopy(tool.input_schema or {}))
    if not isinstance(schema, dict) or schema.get("type", "object") != "object":
        return {"type": "object"}
    schema.pop("title", None)
    schema["type"] = "object"
    schema.setdefault("properties", {})
    schema["additionalProperties"] = False
    return schema


def decision_schema(tools: list[ToolInfo], answer_chars: int = 800) -> dict[str, Any]:
    """An answer that says something (never empty), or a call of one offered tool with its own arguments."""
    answer = copy.deepcopy(_ANSWER_BRANCH)
    answer["properties"][ANSWER]["maxLength"] = answer_chars
    calls = [{"type": "object", "properties": {"tool": {"const": t.exposed}, "arguments": arguments_schema(t)},
              "required": ["tool", "arguments"]} for t in tools]
    return {"anyOf": [answer, *calls]}


def instructions(tools: list[ToolInfo]) -> str:
    lines = ["Reply with one JSON object. To answer the user: {\"tool\": \"answer\", \"answer\": TEXT}. "
             "To use a tool: {\"tool\": NAME, \"arguments\": {…}}. Tools:"]
    for t in tools:
        params = ", ".join(f"{k}: {v.get('type', 'any')}" for k, v in (t.input_schema.get("properties") or {}).items())
        lines.append(f"- {t.exposed}({params}): {t.description.splitlines()[0] if t.description else ''}")
    return "\n".join(lines)


ANSWER_TOKENS = 160  # the answer step's plain words: one or two sentences, with room for a list of names
# An answer decision written as text, its string not properly closed or escaped ("…the page "FAQ" says…").
_OPEN_ANSWER = re.compile(r'^\s*\{\s*"tool"\s*:\s*"answer"\s*,\s*"answer"\s*:\s*"(?P<said>.*?)"?\s*\}?\s*$', re.S)


def decode(text: str, by_name: dict[str, ToolInfo]) -> tuple[str, list[ToolCall]]:
    """(answer text, calls) from one decision; text that is not JSON goes through the repair layer."""
    try:
        decision = json.loads(text)
    except json.JSONDecodeError:
        if opened := _OPEN_ANSWER.match(text):
            return opened.group("said").replace("\\n", "\n").replace('\\"', '"'), []
        calls = repair.calls_from_text(text, {n: t.input_schema for n, t in by_name.items()})
        # Not an answer either: on the plain-word answer step the 0.5B printed a call and a made-up result
        # ('{"name": "git_log", …} {"branch": "main", …}'); no text, so the agent answers with the digest.
        return ("" if calls or text.lstrip().startswith(("{", "[")) else text), calls
    if not isinstance(decision, dict):
        return "", []
    name = decision.get("tool")
    if name in by_name:
        raw = decision.get("arguments")
        arguments: dict[str, Any] = raw if isinstance(raw, dict) else {}
        return "", [ToolCall(repair.new_call_id(), str(name), arguments)]
    return str(decision.get(ANSWER) or ""), []
