"""A call as found in the text, before its name is matched and its arguments fitted; and calls from JSON values.

JSON calls come as {"name", "arguments"|"parameters"|"args"|"input"}, OpenAI's {"type": "function",
"function": {…}} (alone, in a list, or in a printed {"tool_calls": [...]}) and, from small models, with the
arguments flattened beside the name. An object that reports a result ("result", "output", …) is a model
imagining what a tool returned, not a call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from llmos.agent.repair import lenient

NAME_KEYS = ("name", "tool", "tool_name", "function", "function_name", "recipient_name", "action", "command")
ARGUMENT_KEYS = ("arguments", "parameters", "args", "input", "params", "tool_input", "kwargs", "action_input")
RESULT_KEYS = {"result", "results", "output", "response", "content", "return", "returns", "observation",
               "error", "status", "stdout", "value"}
_PLAIN_KEYS = {"type", "id", "call_id", "index"}


@dataclass
class RawCall:
    name: str
    arguments: dict[str, Any] | None  # None: not readable; ``raw`` says what was there
    shape: str
    raw: str | None = None
    repaired: bool = False  # the text needed lenient reading
    textual: bool = False  # values are text from markup (<parameter=…>), typed later by the schema
    flattened: bool = False  # arguments were written beside the name; keep only the schema's keys


def calls_from_value(value: Any, shape: str, repaired: bool) -> list[RawCall]:
    items = value if isinstance(value, list) else [value]
    calls: list[RawCall] = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("tool_calls"), list):
            calls += calls_from_value(item["tool_calls"], shape, repaired)
            continue
        call = call_from_object(item, shape, repaired)
        if call is not None:
            calls.append(call)
    return calls


def call_from_object(item: Any, shape: str, repaired: bool) -> RawCall | None:
    if not isinstance(item, dict):
        return None
    if isinstance(item.get("function"), dict):  # OpenAI's {"type": "function", "function": {...}}
        item = {**item["function"], **{k: v for k, v in item.items() if k not in ("function", "type")}}
    name = next((item[k] for k in NAME_KEYS if isinstance(item.get(k), str)), None)
    if name is None:
        return None
    name_key = next(k for k in NAME_KEYS if item.get(k) == name)
    argument_key = next((k for k in ARGUMENT_KEYS if k in item), None)
    others = {k: v for k, v in item.items() if k not in _PLAIN_KEYS and k != name_key and k != argument_key}
    if RESULT_KEYS & set(others) or (argument_key is None and name_key not in ("name", "tool", "tool_name",
                                                                               "function")):
        return None  # an imagined result, or an object that only happens to have a "command"
    if argument_key is None:
        return RawCall(name, others, shape, repaired=repaired, flattened=bool(others))
    arguments = item[argument_key]
    if isinstance(arguments, str):  # encoded as a JSON string, as on the OpenAI wire
        return _from_encoded(name, arguments, shape, repaired)
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        return RawCall(name, None, shape, raw=json.dumps(arguments))
    return RawCall(name, arguments, shape, repaired=repaired)


def _from_encoded(name: str, text: str, shape: str, repaired: bool) -> RawCall:
    if not text.strip():
        return RawCall(name, {}, shape, repaired=repaired)
    parsed = lenient.loads(text)
    if parsed is None or not isinstance(parsed[0], dict):
        return RawCall(name, None, shape, raw=text)
    return RawCall(name, parsed[0], shape, repaired=repaired or parsed[1])
