"""What `llmos models` shows about GGUF files: those on disk with their fit, and the engine's choice."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from llmos.models.discover import LocalModel, discover
from llmos.picker.choose import Fit, Settings, assess
from llmos.picker.detect import Machine
from llmos.picker.embedded import CPU_MAX_CTX, EngineChoice, plan_engine, recommend_engine


@dataclass(frozen=True)
class GgufOverview:
    local: list[tuple[LocalModel, Fit | None]]  # Fit is None when the header could not be read
    engine: EngineChoice  # what the embedded engine would run now
    recommended: EngineChoice  # the catalog model the picker recommends for this machine
    models_dir: Path
    free_disk_bytes: int

    def to_json(self) -> dict[str, Any]:
        rows = []
        for m, fit in self.local:
            row = m.to_json()
            row["verdict"] = fit.verdict if fit else None
            row["estimate"] = fit.estimate.to_json() if fit else None
            rows.append(row)
        return {"models_dir": str(self.models_dir), "free_disk_bytes": self.free_disk_bytes, "local": rows,
                "engine": self.engine.to_json(), "recommended": self.recommended.to_json()}


def free_disk(folder: Path) -> int:
    """Free bytes where ``folder`` is (or would be created)."""
    for candidate in (folder, *folder.parents):
        try:
            return shutil.disk_usage(candidate).free
        except OSError:
            continue
    return 0


def overview(machine: Machine, settings: Settings | None = None, *, threads: int | None = None,
             model: str | None = None, n_ctx: int | None = None, gpu_layers: int | None = None) -> GgufOverview:
    """``model``, ``n_ctx``, ``threads``, ``gpu_layers``: what the embedded provider's config pins (they win
    over the picker's choice, as when the engine loads)."""
    from llmos import paths

    # picker.model pins Ollama's model; the engine's own model comes from its provider's config.
    settings = replace(settings or Settings(), model=None, warnings=())
    local = discover()
    fits = [(m, assess(m.spec, machine, settings, cpu_max_ctx=CPU_MAX_CTX) if m.spec is not None else None)
            for m in local]
    engine = plan_engine(machine, local, settings=settings, threads=threads, model=model, n_ctx=n_ctx)
    if gpu_layers is not None:
        engine = engine.with_gpu_layers(gpu_layers)
    recommended = recommend_engine(machine, settings=settings, threads=threads)
    folder = paths.models_dir()
    return GgufOverview(fits, engine, recommended, folder, free_disk(folder))
