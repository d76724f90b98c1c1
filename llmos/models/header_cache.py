"""What each GGUF header said, kept between runs: ``$XDG_CACHE_HOME/llm-os/gguf-headers.json``.

Reading a header costs ~0.15 s for a model with a 150k-token vocabulary; `llmos run` looks at every GGUF on
disk to size the engine, so the facts are cached per file, keyed by path, size and modification time (a
changed file is read again). Safe to delete; a damaged file is ignored.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from llmos import json_cache
from llmos.picker.estimate import Arch, ModelSpec

CACHE_VERSION = 1


def cache_file() -> Path:
    from llmos import paths

    return paths.cache_dir() / "gguf-headers.json"


def _key(path: Path) -> tuple[str, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return str(path), st.st_size, st.st_mtime_ns


class HeaderCache:
    def __init__(self, path: Path | None = None):
        self.path = path or cache_file()
        self.entries: dict[str, dict[str, Any]] = {}
        self.used: set[str] = set()
        self.dirty = False
        self.entries = json_cache.load(self.path, CACHE_VERSION, "files")

    def get(self, path: Path) -> dict[str, Any] | None:
        key = _key(path)
        entry = self.entries.get(key[0]) if key else None
        if key is None or entry is None or [entry.get("size"), entry.get("mtime_ns")] != [key[1], key[2]]:
            return None
        self.used.add(key[0])
        return entry

    def put(self, path: Path, facts: dict[str, Any]) -> None:
        key = _key(path)
        if key is None:
            return
        self.entries[key[0]] = {**facts, "size": key[1], "mtime_ns": key[2]}
        self.used.add(key[0])
        self.dirty = True

    def save(self) -> None:
        """Write atomically, keeping only the files seen this time."""
        stale = set(self.entries) - self.used
        if not self.dirty and not stale:
            return
        for key in stale:
            del self.entries[key]
        json_cache.save(self.path, CACHE_VERSION, "files", self.entries)


def spec_to_json(spec: ModelSpec | None) -> dict[str, Any] | None:
    return None if spec is None else {**asdict(spec), "capabilities": list(spec.capabilities)}


def spec_from_json(data: dict[str, Any] | None) -> ModelSpec | None:
    if not data:
        return None
    fields = dict(data)
    fields["arch"] = Arch(**fields["arch"])
    fields["capabilities"] = tuple(fields.get("capabilities") or ("completion",))
    return ModelSpec(**fields)
