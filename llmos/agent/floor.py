"""The floor: calls no flag, rule or "always" may pre-approve. Deleting, moving or overwriting the home
folder, an allowed root itself, `/`, a protected or credential folder (or a folder holding one), or more
than `gate.floor_files` files / `gate.floor_bytes` bytes at once is always asked by name, with the count
and size shown; with nobody to ask it is refused.

Decided from the call's path arguments, which built-in tools declare (llmos.agent.facts); only tools
that may destroy (not read-only, destructive) are considered.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmos.agent import facts
from llmos.agent.host import ToolInfo
from llmos.paths import display
from llmos.units import size_text

DEFAULT_MAX_FILES = 200
DEFAULT_MAX_BYTES = 1 << 30  # 1 GiB
_MEASURE_LIMIT = 200_000  # entries walked before counting stops (the count is then "at least")
# Servers whose path arguments are the very things a destructive call removes or replaces, so their size
# counts; a git tool's `repo` names where it works, not what it deletes. (A `_meta` key saying which
# arguments are targets would replace this.)
_TARGETS_ARE_PATHS = {"filesystem", "shell"}


@dataclass
class Floor:
    filesystem: dict[str, Any] = field(default_factory=dict)  # servers.filesystem: roots, protected, secret
    max_files: int = DEFAULT_MAX_FILES
    max_bytes: int = DEFAULT_MAX_BYTES
    _folders: tuple[list[Path], list[tuple[str, Path]]] | None = None

    @classmethod
    def from_config(cls, gate: dict[str, Any], filesystem: dict[str, Any]) -> Floor:
        return cls(filesystem, _limit(gate, "floor_files", DEFAULT_MAX_FILES),
                   _limit(gate, "floor_bytes", DEFAULT_MAX_BYTES))

    def folders(self) -> tuple[list[Path], list[tuple[str, Path]]]:
        """The allowed roots, and the credential and protected folders — resolved at the first destructive
        call (the sandbox module needs the MCP SDK, which a run without one should not wait for)."""
        if self._folders is None:
            from llmos.servers.sandbox import Sandbox

            box = Sandbox.from_settings(self.filesystem)
            self._folders = (box.roots, [("a credential folder", p) for p in box.secret]
                             + [("a protected folder", p) for p in box.protected])
        return self._folders

    def check(self, tool: ToolInfo, arguments: dict[str, Any]) -> list[str]:
        """Why this call is on the floor — one line per reason, naming the target with its count and size —
        or nothing when it is not."""
        if tool.read_only or not tool.destructive or facts.sends_off_machine(tool):
            return []  # network calls are shown with their URL instead (llmos.agent.authorize)
        from llmos.servers.sandbox import measure  # the same bounded walk the filesystem server uses

        counted = tool.server in _TARGETS_ARE_PATHS
        reasons, names, files, size = [], [], 0, 0
        for value in facts.path_values(tool, arguments):
            target = Path(os.path.realpath(os.path.expanduser(value)))
            why = self._why(target)
            if not why and not counted:
                continue
            count, total = measure(target, _MEASURE_LIMIT)
            files, size = files + count, size + total
            names.append(display(str(target)))
            if why:
                reasons.append(f"{display(str(target))}: {why} ({_amount(count, total)})")
        if not reasons and counted and (files > self.max_files or size > self.max_bytes):
            limit = (f"gate.floor_files is {self.max_files:,}" if files > self.max_files
                     else f"gate.floor_bytes is {size_text(self.max_bytes)}")
            reasons.append(f"{', '.join(names)}: {_amount(files, size)} at once ({limit})")
        return reasons

    def _why(self, path: Path) -> str | None:
        home = Path(os.path.realpath(Path.home()))
        if path == Path("/"):
            return "the root folder /"
        if _within(home, path):
            return "your home folder" if path == home else f"it holds your home folder {display(str(home))}"
        roots, guarded = self.folders()
        for root in roots:
            if _within(root, path):
                return "a folder llmos is allowed to use" if path == root else f"it holds {display(str(root))}"
        for kind, folder in guarded:
            if folder == Path("/"):
                continue  # "/" guards only itself, above
            if _within(path, folder):
                return kind if path == folder else f"inside {kind} ({display(str(folder))})"
            if _within(folder, path):
                return f"it holds {kind} ({display(str(folder))})"
        return None


def _limit(gate: dict[str, Any], key: str, default: int) -> int:
    value = gate.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        from llmos.errors import ConfigError

        raise ConfigError(f"gate.{key}: expected a whole number above 0, got {value!r}")
    return value


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _amount(files: int, size: int) -> str:
    return f"{files:,} file{'s' if files != 1 else ''}, {size_text(size)}"


