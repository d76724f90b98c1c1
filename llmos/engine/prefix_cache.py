"""Saved KV states of stable prompt prefixes, so a one-shot `llmos run` skips re-reading its system prompt.

A file is keyed by the model file (path, size, mtime), the context size, the backend and the prefix tokens:
any change gives a new key, so a stale state is never loaded. Files are written atomically and only the
most recent few are kept (each is a few MB).
"""

from __future__ import annotations

import hashlib
import logging
import os
from array import array
from pathlib import Path
from typing import TYPE_CHECKING

from llmos.engine.engine import PrefixStore, model_identity

if TYPE_CHECKING:
    from llmos.engine.engine import Engine

log = logging.getLogger(__name__)
KEEP = 8


class FilePrefixStore(PrefixStore):
    def __init__(self, directory: Path, keep: int = KEEP):
        self.directory = directory
        self.keep = keep

    def path_for(self, engine: Engine, prefix: list[int]) -> Path:
        digest = hashlib.sha256()
        digest.update(f"{type(engine.backend).__name__}|{model_identity(engine.options.path)}|"
                      f"{engine.n_ctx}|".encode())
        digest.update(array("i", prefix).tobytes())
        return self.directory / f"{digest.hexdigest()[:32]}.kv"

    def has(self, engine: Engine, prefix: list[int]) -> bool:
        return self.path_for(engine, prefix).is_file()

    def save(self, engine: Engine, prefix: list[int]) -> None:
        target = self.path_for(engine, prefix)
        partial = target.with_suffix(f".{os.getpid()}.part")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            engine.backend.save_state(partial, prefix)
            os.replace(partial, target)
            self._prune()
        except Exception:  # a cache that cannot be written only costs time
            log.debug("could not save the prefix state %s", target, exc_info=True)
            partial.unlink(missing_ok=True)

    def restore(self, engine: Engine, prefix: list[int]) -> str | None:
        path = self.path_for(engine, prefix)
        if not path.is_file():
            return None
        try:
            tokens = engine.backend.load_state(path, len(prefix) + 1)
        except Exception:
            log.debug("could not load the prefix state %s", path, exc_info=True)
            tokens = []
        if tokens != prefix:  # damaged or foreign: start clean rather than trust it
            engine.backend.forget_from(0)
            path.unlink(missing_ok=True)
            return None
        os.utime(path)  # recently used: pruned last
        return str(path)

    def _prune(self) -> None:
        files = sorted(self.directory.glob("*.kv"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in files[self.keep:]:
            old.unlink(missing_ok=True)
