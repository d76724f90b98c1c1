"""What the model reads of a tool: its schema without generated noise, its result as compact text.

Every token a small local model reads costs time (≈ 10 ms a token on two CPU cores) and attention. A
structured result sent as JSON repeats each key in every row and each folder's path in every entry: a listing of
three files was 200 tokens of JSON, of which the names were 12. So a structured result is written as
``key: value`` lines, and a list of like objects as one header row and one row per item; values that say
nothing new (a null, an entry's path that is its folder's path plus its name) are left out, and byte counts
are written as sizes. The structured
result itself is kept beside the text (Message.data) for references and resumed sessions.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from llmos.units import size_text

_ISO_TIME = re.compile(r"^(\d{4}-\d\d-\d\d)T(\d\d:\d\d(?::\d\d)?)(?:\.\d+)?(Z|[+-]\d\d:\d\d)?$")
_SIZE_KEY = re.compile(r"(^|_)(size|bytes)($|_)")  # size, total_bytes, size_bytes, bytes_free …
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties")


def schema(value: dict[str, Any]) -> dict[str, Any]:
    """A tool's input schema without the ``title`` keywords pydantic writes for every object and property
    ("title": "Path" beside "path"): about a sixth of the built-in tools' schema tokens. Property *names*
    such as a ``title`` argument are kept; only the keyword goes."""
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key == "title" and isinstance(item, str):
            continue
        if key in _SCHEMA_MAPS and isinstance(item, dict):
            out[key] = {name: schema(sub) if isinstance(sub, dict) else sub for name, sub in item.items()}
        elif key in _SCHEMA_LISTS and isinstance(item, list):
            out[key] = [schema(sub) if isinstance(sub, dict) else sub for sub in item]
        elif key in ("items", "additionalProperties", "not") and isinstance(item, dict):
            out[key] = schema(item)
        else:
            out[key] = item
    return out


def result(structured: dict[str, Any]) -> str:
    """A structured tool result as the model reads it."""
    return "\n".join(_lines(structured, "", _folder(structured)))


def _folder(value: dict[str, Any]) -> str | None:
    path = value.get("path")
    return path.rstrip("/") if isinstance(path, str) and path else None


def _lines(value: dict[str, Any], indent: str, folder: str | None) -> list[str]:
    lines: list[str] = []
    for key, item in value.items():
        if item is None:
            continue
        if isinstance(item, dict):
            lines.append(f"{indent}{key}:")
            lines.extend(_lines(item, indent + "  ", _folder(item) or folder))
        elif isinstance(item, list) and item and all(isinstance(row, dict) for row in item):
            lines.extend(_table(key, item, indent, folder))
        elif isinstance(item, list):
            lines.append(f"{indent}{key}: {_plain_list(item)}")
        elif isinstance(item, str) and "\n" in item:
            lines.append(f"{indent}{key}:")
            lines.extend(f"{indent}  {line}" for line in item.splitlines())
        else:
            lines.append(f"{indent}{key}: {_cell(item, key)}")
    return lines


def _table(key: str, rows: list[dict[str, Any]], indent: str, folder: str | None) -> list[str]:
    """One header and one row per item. A column is dropped when no row has a value in it, or when it is
    each row's name joined to the folder's path (a listing's ``path`` column)."""
    columns: list[str] = []
    for row in rows:
        columns.extend(c for c in row if c not in columns)
    columns = [c for c in columns if any(row.get(c) is not None for row in rows) and not _derived(c, rows, folder)]
    out = [f"{indent}{key} ({len(rows)}): {' | '.join(columns)}"]
    out.extend(f"{indent}  " + " | ".join(_cell(row.get(c), c) for c in columns) for row in rows)
    return out


def _derived(column: str, rows: list[dict[str, Any]], folder: str | None) -> bool:
    if folder is None or column == "name":
        return False
    return all(isinstance(row.get("name"), str) and row.get(column) == f"{folder}/{row['name']}" for row in rows)


def _local_offset() -> str:
    """This machine's UTC offset now, as ISO times write it ("+01:00"): the system prompt's times are local."""
    offset = datetime.now().astimezone().strftime("%z")
    return f"{offset[:3]}:{offset[3:]}"


def _plain_list(items: list[Any]) -> str:
    if not items:
        return "(none)"
    cells = [_cell(item) for item in items]
    if any("," in cell for cell in cells):
        return json.dumps(items, ensure_ascii=False, separators=(", ", ": "))
    return ", ".join(cells)


def _cell(value: Any, key: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        when = _ISO_TIME.match(value)
        if when:  # "2026-12-02T18:47:30+01:00" → "2026-12-02 18:47:30" where +01:00 is this machine's offset
            zone = when.group(3) or ""
            same = zone in ("", _local_offset()) or (zone == "Z" and _local_offset() == "+00:00")
            return f"{when.group(1)} {when.group(2)}" + ("" if same else zone)
        return value.replace("\n", " ⏎ ")
    if isinstance(value, int) and _SIZE_KEY.search(key) and value >= 0:
        return size_text(value)  # the 0.5B wrote 2500000 bytes as "250,000 bytes"; it copies "2.4 MiB"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
