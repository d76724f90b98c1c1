"""A cache kept as one JSON file, ``{"version": N, "<section>": {key: entry}}``: read tolerantly (missing,
damaged or from another version: empty) and written whole or not at all (a temporary file renamed over it,
since another llmos may be reading). Only a cache: a failed write is dropped, never an error — a read-only
home must not break a listing. The GGUF header cache and Ollama's metadata cache use it."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def load(path: Path, version: int, section: str) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    if isinstance(data, dict) and data.get("version") == version and isinstance(data.get(section), dict):
        return data[section]
    return {}


def save(path: Path, version: int, section: str, entries: dict[str, dict[str, Any]]) -> None:
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump({"version": version, section: entries}, out)
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)  # gone already once renamed
