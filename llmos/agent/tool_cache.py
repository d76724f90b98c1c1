"""The tool lists of the built-in servers, remembered between runs.

A built-in server's tools only change when llmos or the server's settings change, so a one-shot
`llmos run` can offer them to the model at once and connect the server while the model thinks: the
MCP SDK's import (most of a second) leaves the path to the first answer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from llmos import __version__, paths
from llmos.agent.servers_config import ServerSpec
from llmos.servers import BUILTIN

log = logging.getLogger(__name__)


def _key(spec: ServerSpec) -> str:
    """Changes whenever the tool list could: llmos's version, the server module's file, its settings."""
    import importlib.util

    origin = importlib.util.find_spec(BUILTIN[spec.name][0])
    stamp = ""
    if origin is not None and origin.origin:
        files = [Path(origin.origin)]
        if origin.submodule_search_locations:  # a package: a tool may be added in any of its modules
            files = sorted(Path(origin.origin).parent.rglob("*.py"))
        stamp = ";".join(f"{f.name}:{(st := os.stat(f)).st_mtime_ns}:{st.st_size}" for f in files)
    raw = json.dumps([__version__, spec.name, stamp, spec.settings], sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


class ToolCache:
    def __init__(self, directory: Path | None = None):
        self.directory = directory or paths.cache_dir() / "tools"

    def get(self, spec: ServerSpec) -> list[dict[str, Any]] | None:
        """The cached tool list, or None (the server is then connected at once) when there is none or it is
        damaged: a cache is only ever a shortcut."""
        path = self.directory / f"{spec.name}-{_key(spec)}.json"
        try:
            if not path.is_file():
                return None
            tools = json.loads(path.read_bytes().decode("utf-8"))
        except (OSError, ValueError, RecursionError):
            return None
        return tools if isinstance(tools, list) and all(_well_formed(t) for t in tools) else None

    def put(self, spec: ServerSpec, tools: list[dict[str, Any]]) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            for old in self.directory.glob(f"{spec.name}-*.json"):
                old.unlink(missing_ok=True)
            target = self.directory / f"{spec.name}-{_key(spec)}.json"
            tmp = target.with_suffix(".tmp")
            tmp.write_text(json.dumps(tools), encoding="utf-8")
            tmp.replace(target)  # whole or not at all: another llmos may be reading
        except OSError:
            log.debug("could not cache the tools of %s", spec.name, exc_info=True)


def _well_formed(tool: Any) -> bool:
    return (isinstance(tool, dict) and isinstance(tool.get("name"), str) and isinstance(tool.get("description"), str)
            and isinstance(tool.get("input_schema"), dict) and isinstance(tool.get("annotations"), dict)
            and isinstance(tool.get("meta", {}), dict))
