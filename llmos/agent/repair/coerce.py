"""Fitting arguments to the tool's input schema where the intent cannot be mistaken.

"10" for an integer is 10, "true" for a boolean is true, '["a", "b"]' for an array is the array, a number
for a string is its text, "Celsius" for enum ["celsius", …] is "celsius". Anything less certain is left
as it is, for the schema check to report to the model. Each change is described, so it can be shown.
"""

from __future__ import annotations

import json
import re
from typing import Any

_INT = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_TRUE, _FALSE = {"true", "True", "TRUE", "yes"}, {"false", "False", "FALSE", "no"}


def coerce(arguments: dict[str, Any], schema: dict[str, Any] | None) -> tuple[dict[str, Any], list[str]]:
    """(arguments fitted to ``schema``, one note per change)."""
    properties = (schema or {}).get("properties")
    if not isinstance(properties, dict):
        return arguments, []
    out, notes = dict(arguments), []
    for key, value in arguments.items():
        spec = properties.get(key)
        if not isinstance(spec, dict):
            continue
        fitted, changed = fit(value, spec)
        if changed:
            out[key] = fitted
            notes.append(f"argument {key!r}: {value!r} read as {fitted!r}")
    return out, notes


def fit(value: Any, spec: dict[str, Any]) -> tuple[Any, bool]:
    """``value`` converted to the type ``spec`` asks for, and whether it changed."""
    types = spec.get("type")
    if isinstance(types, list):
        if _matches_any(value, types):
            return value, False
        types = next((t for t in types if t != "null"), None)
    if types is None and isinstance(spec.get("anyOf"), list):
        options = [o for o in spec["anyOf"] if isinstance(o, dict)]
        if any(_matches_any(value, [o.get("type")]) for o in options):
            return value, False
        for option in options:
            fitted, changed = fit(value, option)
            if changed:
                return fitted, True
        return value, False
    if isinstance(spec.get("enum"), list) and isinstance(value, str) and value not in spec["enum"]:
        same = [e for e in spec["enum"] if isinstance(e, str) and e.lower() == value.strip().lower()]
        return (same[0], True) if len(same) == 1 else (value, False)
    converter = _CONVERTERS.get(types) if isinstance(types, str) else None
    if converter is None:
        return value, False
    fitted = converter(value, spec)
    return (value, False) if fitted is _UNCHANGED else (fitted, True)


_UNCHANGED = object()


def _matches_any(value: Any, types: list[Any]) -> bool:
    checks = {"string": lambda v: isinstance(v, str),
              "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
              "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
              "boolean": lambda v: isinstance(v, bool), "array": lambda v: isinstance(v, list),
              "object": lambda v: isinstance(v, dict), "null": lambda v: v is None}
    return any(t in checks and checks[t](value) for t in types)


def _to_integer(value: Any, spec: dict[str, Any]) -> Any:
    if isinstance(value, str) and _INT.fullmatch(value.strip()):
        return int(value.strip())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return _UNCHANGED


def _to_number(value: Any, spec: dict[str, Any]) -> Any:
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        number = float(value.strip())
        return int(number) if _INT.fullmatch(value.strip()) else number
    return _UNCHANGED


def _to_boolean(value: Any, spec: dict[str, Any]) -> Any:
    if isinstance(value, str) and value.strip() in _TRUE | _FALSE:
        return value.strip() in _TRUE
    if isinstance(value, int) and not isinstance(value, bool) and value in (0, 1):
        return bool(value)
    return _UNCHANGED


def _to_string(value: Any, spec: dict[str, Any]) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return _UNCHANGED


def _to_array(value: Any, spec: dict[str, Any]) -> Any:
    if isinstance(value, str):
        parsed = _json(value)
        if isinstance(parsed, list):
            return [fit(v, spec.get("items") or {})[0] for v in parsed]
        items = spec.get("items") or {}
        if items.get("type") == "string":  # one file where a list of files is asked for
            return [value]
    if isinstance(value, list) and isinstance(spec.get("items"), dict):
        fitted = [fit(v, spec["items"]) for v in value]
        if any(changed for _v, changed in fitted):
            return [v for v, _changed in fitted]
    return _UNCHANGED


def _to_object(value: Any, spec: dict[str, Any]) -> Any:
    if isinstance(value, str):
        parsed = _json(value)
        if isinstance(parsed, dict):
            return parsed
    if isinstance(value, dict) and isinstance(spec.get("properties"), dict):
        fitted, notes = coerce(value, spec)
        if notes:
            return fitted
    return _UNCHANGED


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


_CONVERTERS = {"integer": _to_integer, "number": _to_number, "boolean": _to_boolean, "string": _to_string,
               "array": _to_array, "object": _to_object}
