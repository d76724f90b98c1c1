"""Saved KV states of prompt prefixes, so a one-shot `llmos run` skips re-reading its system prompt and tools.

States live in one folder per model (keyed by the model file's path, size and mtime, the context size and the
backend), each as ``NAME.kv`` (the binding's state file) beside ``NAME.tokens`` (the tokens it holds). A new
prompt restores the state sharing the longest prefix with it, and the engine evaluates only the rest: a
prompt whose system text changed near its end still reuses everything before the change. Files are written
atomically and only the most recent few are kept (a few MB each).
"""

from __future__ import annotations

import hashlib
import logging
import os
from array import array
from pathlib import Path
from typing import TYPE_CHECKING

from llmos.engine.engine import PrefixStore, common_prefix, model_identity

if TYPE_CHECKING:
    from llmos.engine.engine import Engine

log = logging.getLogger(__name__)
KEEP = 8
MIN_REUSE = 16  # fewer shared tokens are not worth a file read


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part)
    return h.hexdigest()[:32]


class FilePrefixStore(PrefixStore):
    def __init__(self, directory: Path, keep: int = KEEP):
        self.directory = directory
        self.keep = keep

    def folder(self, engine: Engine) -> Path:
        identity = f"{type(engine.backend).__name__}|{model_identity(engine.options.path)}|{engine.n_ctx}"
        return self.directory / _digest(identity.encode())

    def save(self, engine: Engine, prefix: list[int]) -> None:
        folder = self.folder(engine)
        name = _digest(array("i", prefix).tobytes())
        partial = folder / f"{name}.{os.getpid()}.part"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            engine.backend.save_state(partial, prefix)
            (folder / f"{name}.tokens.part").write_bytes(array("i", prefix).tobytes())
            os.replace(partial, folder / f"{name}.kv")
            os.replace(folder / f"{name}.tokens.part", folder / f"{name}.tokens")  # last: marks it complete
            self._prune(folder)
        except Exception:  # a cache that cannot be written only costs time
            log.debug("could not save a prefix state in %s", folder, exc_info=True)
            partial.unlink(missing_ok=True)

    def restore(self, engine: Engine, prompt: list[int]) -> tuple[list[int], str] | None:
        best = self._best(self.folder(engine), prompt)
        if best is None:
            return None
        kv, tokens = best
        try:
            loaded = engine.backend.load_state(kv, len(tokens) + 1)
        except Exception:
            log.debug("could not load the prefix state %s", kv, exc_info=True)
            loaded = []
        if loaded != tokens:  # damaged or foreign: start clean rather than trust it
            engine.backend.forget_from(0)
            kv.unlink(missing_ok=True)
            kv.with_suffix(".tokens").unlink(missing_ok=True)
            return None
        os.utime(kv)  # recently used: pruned last
        return tokens, str(kv)

    def _best(self, folder: Path, prompt: list[int]) -> tuple[Path, list[int]] | None:
        best: tuple[int, Path, list[int]] | None = None
        for marker in folder.glob("*.tokens") if folder.is_dir() else ():
            kv = marker.with_suffix(".kv")
            tokens = array("i")
            try:
                tokens.frombytes(marker.read_bytes())
            except (OSError, ValueError):
                continue
            shared = common_prefix(list(tokens), prompt)
            if kv.is_file() and shared >= MIN_REUSE and (best is None or shared > best[0]):
                best = (shared, kv, list(tokens))
        return (best[1], best[2]) if best else None

    def _prune(self, folder: Path) -> None:
        states = sorted(folder.glob("*.kv"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in states[self.keep:]:
            old.unlink(missing_ok=True)
            old.with_suffix(".tokens").unlink(missing_ok=True)
