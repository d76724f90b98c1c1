"""Where the filesystem server may look and write.

Every path is resolved (``~``, ``..``, symlinks, relative to the working directory) before it is checked,
so a check is about the real target, never about how the path was spelled.
"""

from __future__ import annotations

import difflib
import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from mcp.server.mcpserver.exceptions import ToolError

from llmos.paths import display

# Never written without an explicit config allow (servers.filesystem.allow_write).
DEFAULT_PROTECTED = ("~/.ssh", "~/.gnupg", "/etc", "/")
# Never read either (servers.filesystem.secret): credentials that a read could put in a cloud model's prompt.
DEFAULT_SECRET = ("~/.ssh", "~/.gnupg", "~/.aws", "~/.password-store")
# "/" protects only itself (nobody means to write the root directory); the rest protect their subtree.
_EXACT_ONLY = {Path("/")}


@dataclass
class Sandbox:
    roots: list[Path]
    protected: list[Path] = field(default_factory=list)
    secret: list[Path] = field(default_factory=list)
    allow_write: list[Path] = field(default_factory=list)

    @classmethod
    def from_settings(cls, settings: dict, cwd: Path | None = None) -> Sandbox:
        cwd = cwd or Path.cwd()

        def paths(key: str, default: tuple[str, ...] | list[str]) -> list[Path]:
            values = settings.get(key, default)
            if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
                from llmos.errors import ConfigError

                raise ConfigError(f"servers.filesystem.{key}: expected a list of paths")
            return [_real(Path(os.path.expanduser(v)) if v != "." else cwd) for v in values]

        return cls(roots=paths("roots", ["~", "."]),
                   protected=paths("protected", DEFAULT_PROTECTED),
                   secret=paths("secret", DEFAULT_SECRET),
                   allow_write=paths("allow_write", []))

    def resolve(self, raw: str, *, write: bool = False) -> Path:
        """The real path ``raw`` names, or a ToolError saying why it may not be used."""
        if not raw or not raw.strip():
            raise ToolError("No path was given.")
        if any(ord(c) < 32 for c in raw):
            raise ToolError("The path contains control characters; refusing it.")
        if raw.startswith("~") and not (raw == "~" or raw.startswith("~/")):
            raise ToolError(f"{raw}: paths in other users' home directories are not allowed.")
        path = self._check(raw, write)
        # Look-alike characters (fullwidth ／, other compatibility forms) must not smuggle a path past the
        # check: the normalised spelling has to pass too.
        normalised = unicodedata.normalize("NFKC", raw)
        if normalised != raw:
            try:
                self._check(normalised, write)
            except ToolError as exc:
                raise ToolError(f"{raw}: refused — it looks like {normalised!r}, which is not allowed "
                                f"({exc}).") from None
        return path

    def _check(self, raw: str, write: bool) -> Path:
        path = _real(Path(os.path.expanduser(raw)))
        if not any(_within(path, root) for root in self.roots):
            allowed = ", ".join(display(r) for r in self.roots)
            raise ToolError(f"{display(path)} is outside the folders llmos may use ({allowed}).")
        if any(_within(path, s) for s in self.secret):
            raise ToolError(f"{display(path)} holds credentials; llmos does not read or change it.")
        if write and self._protected(path):
            raise ToolError(f"{display(path)} is protected; llmos will not change it "
                            "(allow it with servers.filesystem.allow_write in the config).")
        return path

    def _protected(self, path: Path) -> bool:
        if any(_within(path, a) for a in self.allow_write):
            return False
        return any(path == p if p in _EXACT_ONLY else _within(path, p) for p in self.protected)


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def not_found(path: Path) -> ToolError:
    """'No such file: ~/Dowloads — did you mean ~/Downloads?'"""
    missing = path
    while not missing.parent.exists() and missing.parent != missing:
        missing = missing.parent
    suggestion = ""
    try:
        names = [entry.name for entry in os.scandir(missing.parent)]
        close = difflib.get_close_matches(missing.name, names, n=1, cutoff=0.6)
        if close:
            suggestion = f" — did you mean {display(missing.parent / close[0] / path.relative_to(missing))}?"
    except OSError:
        pass
    return ToolError(f"No such file or folder: {display(path)}{suggestion}")
