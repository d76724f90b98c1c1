"""Tool-call repair: small local models often print a call as text instead of making one.

Recognised shapes: a JSON object ({"name"|"tool": …, "arguments"|"parameters": {…}}), the same inside a
fenced code block or <tool_call> tags, and a call written as code: list_directory(path="~"). Only names of
tools actually offered are accepted, and arguments are checked against the tool's input schema.
"""

from __future__ import annotations

import ast
import json
import re
import uuid
from typing import Any

from llmos.llm.messages import ToolCall

_FENCE = re.compile(r"```(?:json|tool_call|tool)?\s*\n?(.*?)```", re.S)
_TAGGED = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.S)
_CALL = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_\-.]*)\s*\((.*)\)\s*;?\s*$", re.S)


def calls_from_text(text: str, tool_names: set[str]) -> list[ToolCall]:
    """Tool calls written as text, or [] when the text is an ordinary answer."""
    stripped = text.strip()
    if not stripped:
        return []
    candidates = _TAGGED.findall(stripped) or _FENCE.findall(stripped) or [stripped]
    calls: list[ToolCall] = []
    for chunk in candidates:
        calls += _from_json(chunk, tool_names) or _from_code(chunk, tool_names)
    return calls


def new_call_id() -> str:
    return f"call_{uuid.uuid4().hex[:12]}"


def _from_json(chunk: str, tool_names: set[str]) -> list[ToolCall]:
    chunk = chunk.strip()
    start = min((i for i in (chunk.find("{"), chunk.find("[")) if i >= 0), default=-1)
    if start < 0:
        return []
    try:
        value, _end = json.JSONDecoder().raw_decode(chunk[start:])
    except json.JSONDecodeError:
        return []
    items = value if isinstance(value, list) else [value]
    calls = []
    for item in items:
        call = _from_object(item, tool_names)
        if call:
            calls.append(call)
    return calls


def _from_object(item: Any, tool_names: set[str]) -> ToolCall | None:
    if not isinstance(item, dict):
        return None
    if isinstance(item.get("function"), dict):  # OpenAI's shape printed as text
        item = item["function"]
    name = item.get("name") or item.get("tool") or item.get("tool_name")
    if not isinstance(name, str) or _normalise(name, tool_names) is None:
        return None
    arguments = item.get("arguments", item.get("parameters", item.get("args", {})))
    if isinstance(arguments, str):  # arguments encoded as a JSON string, as on the OpenAI wire
        try:
            arguments = json.loads(arguments)
        except json.JSONDecodeError:
            return ToolCall(new_call_id(), _normalise(name, tool_names) or name, {}, malformed=arguments)
    if not isinstance(arguments, dict):
        return ToolCall(new_call_id(), _normalise(name, tool_names) or name, {}, malformed=json.dumps(arguments))
    return ToolCall(new_call_id(), _normalise(name, tool_names) or name, arguments)


def _from_code(chunk: str, tool_names: set[str]) -> list[ToolCall]:
    match = _CALL.match(chunk.strip())
    if not match or _normalise(match.group(1), tool_names) is None:
        return []
    name = _normalise(match.group(1), tool_names) or match.group(1)
    inside = match.group(2).strip()
    if inside.startswith("{"):
        try:
            arguments = json.loads(inside)
            return [ToolCall(new_call_id(), name, arguments)] if isinstance(arguments, dict) else []
        except json.JSONDecodeError:
            return [ToolCall(new_call_id(), name, {}, malformed=inside)]
    try:
        node = ast.parse(f"f({inside})", mode="eval").body
        assert isinstance(node, ast.Call)
        arguments = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords if kw.arg}
        if node.args:  # positional values cannot be matched to names reliably: let validation say so
            return [ToolCall(new_call_id(), name, arguments, malformed=inside)]
    except (SyntaxError, ValueError, AssertionError):
        return [ToolCall(new_call_id(), name, {}, malformed=inside)]
    return [ToolCall(new_call_id(), name, arguments)]


def _normalise(name: str, tool_names: set[str]) -> str | None:
    """Models write filesystem.list_directory, filesystem_list_directory or list_directory."""
    if name in tool_names:
        return name
    for sep in (".", "__", ":"):
        if sep in name and name.rsplit(sep, 1)[1] in tool_names:
            return name.rsplit(sep, 1)[1]
    return None


def validation_error(arguments: dict[str, Any], schema: dict[str, Any]) -> str | None:
    """A one-line reason the arguments do not fit the tool's input schema, or None when they do."""
    from jsonschema import Draft202012Validator

    errors = sorted(Draft202012Validator(schema).iter_errors(arguments), key=lambda e: list(e.path))
    if not errors:
        return None
    first = errors[0]
    where = ".".join(str(p) for p in first.path) or "arguments"
    return f"{where}: {first.message}"
