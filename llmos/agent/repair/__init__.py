"""Tool-call repair: small local models often print a call as text instead of making one.

``repair(text, tools)`` finds the calls in a model's text — the markup of each model family (markup.py,
gemma.py), free-text JSON and Python-style calls (free.py, pyform.py) — matches their names to the tools
actually offered (names.py) and fits their arguments to each tool's schema (coerce.py), saying what it
changed. It never invents a call: prose, examples, imagined results, cut-off output and tools that were not
offered give no call. ``calls_from_text`` is the same, returning only the calls.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from llmos.agent.repair import free, markup, names
from llmos.agent.repair.coerce import coerce, fit
from llmos.agent.repair.objects import RawCall
from llmos.llm.messages import ToolCall, new_call_id

Tools = Mapping[str, "dict[str, Any] | None"] | Iterable[str]  # offered names, or names → input schema


@dataclass
class Repair:
    calls: list[ToolCall] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was read loosely, renamed or converted
    shapes: list[str] = field(default_factory=list)  # the shape each call was found in


def repair(text: str, tools: Tools) -> Repair:
    schemas = dict(tools) if isinstance(tools, Mapping) else {n: None for n in tools}
    result = Repair()
    if not text or not text.strip() or not schemas:
        return result
    cleaned = free.prepare(text)
    raw: list[RawCall] | None = None
    for reader in markup.READERS:
        raw = reader(cleaned)
        if raw is not None:
            break
    if raw is None:
        raw = free.calls(cleaned, lambda found: _offered(found, schemas) is not None) or _bare_name(cleaned, schemas)
    for found in raw:
        _finish(found, schemas, result)
    return result


def _bare_name(text: str, schemas: dict[str, dict[str, Any] | None]) -> list[RawCall]:
    """The whole answer is one offered tool's exact name, and the tool needs no argument: Qwen2.5-Coder-1.5B
    answered "how much battery is left?" with just ``battery_status``. A name is never an answer by itself;
    a name inside a sentence stays prose."""
    name = text.strip().strip("`").strip()
    schema = schemas.get(name, {}) if name in schemas else None
    if schema is None or (schema or {}).get("required"):
        return []
    return [RawCall(name, {}, "bare name")]


def calls_from_text(text: str, tools: Tools) -> list[ToolCall]:
    """Tool calls written as text, or [] when the text is an ordinary answer."""
    return repair(text, tools).calls


def _offered(found: RawCall, schemas: dict[str, dict[str, Any] | None]) -> tuple[str, str | None] | None:
    """The offered tool a found call names: by its name, or by a name word and arguments only it takes."""
    matched = names.match(found.name, schemas)
    if matched is None and isinstance(found.arguments, dict):
        return names.by_arguments(found.name, found.arguments, schemas)
    return matched


def _finish(found: RawCall, schemas: dict[str, dict[str, Any] | None], result: Repair) -> None:
    matched = _offered(found, schemas)
    if matched is None:
        return  # not an offered tool: not a call
    name, note = matched
    if note:
        result.notes.append(note)
    result.shapes.append(found.shape)
    if found.arguments is None:
        result.calls.append(ToolCall(new_call_id(), name, {}, malformed=found.raw or ""))
        return
    schema = schemas.get(name) or {}
    arguments, problem = _arrange(found, schema)
    if problem:
        result.calls.append(ToolCall(new_call_id(), name, arguments, malformed=problem))
        return
    arguments, changes = coerce(arguments, schema)
    if found.repaired:
        result.notes.append(f"{name}: arguments read from broken JSON")
    result.notes += [f"{name}: {c}" for c in changes]
    result.calls.append(ToolCall(new_call_id(), name, arguments))


def _arrange(found: RawCall, schema: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """Arguments keyed by parameter: positional values placed, text values typed, stray keys dropped."""
    arguments = dict(found.arguments or {})
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else None
    positional = arguments.pop("__positional__", None)
    if positional is not None:
        order = [p for p in (schema.get("required") or list(properties or {})) if p not in arguments]
        if not properties or len(positional) != 1 or len(order) != 1:
            return arguments, json.dumps(positional)  # which value is which parameter is a guess: ask again
        arguments[order[0]] = positional[0]
    if found.textual:
        arguments = {k: _typed(v, (properties or {}).get(k)) for k, v in arguments.items()}
    if found.flattened and properties is not None:
        arguments = {k: v for k, v in arguments.items() if k in properties}
    return arguments, None


def _typed(value: Any, spec: dict[str, Any] | None) -> Any:
    """A value that arrived as markup text, as the parameter's type wants it."""
    if not isinstance(value, str):
        return value
    if isinstance(spec, dict) and spec.get("type") == "string":
        return value
    if isinstance(spec, dict) and spec:
        fitted, changed = fit(value.strip(), spec)
        if changed:
            return fitted
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        return value
    return parsed if not isinstance(parsed, str) else value


def validation_error(arguments: dict[str, Any], schema: dict[str, Any]) -> str | None:
    """A one-line reason the arguments do not fit the tool's input schema, or None when they do."""
    from jsonschema import Draft202012Validator

    errors = sorted(Draft202012Validator(schema).iter_errors(arguments), key=lambda e: list(e.path))
    if not errors:
        return None
    first = errors[0]
    where = ".".join(str(p) for p in first.path) or "arguments"
    return f"{where}: {first.message}"
