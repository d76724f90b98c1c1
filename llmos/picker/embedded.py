"""The picker for the embedded engine (llama.cpp in-process): which GGUF file, n_ctx, GPU layers, threads.

The memory arithmetic is the same as for Ollama (estimate.py mirrors llama.cpp's placement through Ollama's
estimator). Two things differ on a CPU: llmos itself runs the model on the cores the person is using, so
the context is capped at 4096 (prefill on a laptop CPU is ~50 tokens/s for a 1.5B model: a longer window
is seldom filled and slow to fill) and the weights budget is smaller unless the machine has many cores.
Threads default to the physical cores (hyper-threads do not speed up llama.cpp's matrix products).

    choice = plan_engine(machine, discover())          # what is on disk, else the catalog's recommendation
    choice.banner()   # "qwen2.5-1.5b-instruct · ctx 4096 · CPU · 2 threads"
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmos.picker.choose import Choice, Settings, choose
from llmos.picker.detect import Machine
from llmos.picker.estimate import GIB, ModelSpec

if TYPE_CHECKING:
    from llmos.models.catalog import CatalogEntry
    from llmos.models.discover import LocalModel

CPU_MAX_CTX = 4096
# Weights budget per tier on a CPU: a 1.5B Q4_K_M (1.0 GiB) answers at ~25 tokens/s on 2 cores; a 3B at
# roughly half that, which only machines with many cores make pleasant.
SMALL_CPU_BUDGET = {"fast": int(0.6 * GIB), "default": int(1.2 * GIB), "reasoning": int(2.5 * GIB)}
LARGE_CPU_BUDGET = {"fast": int(1.2 * GIB), "default": int(2.5 * GIB), "reasoning": int(5 * GIB)}
LARGE_CPU_CORES = 8


def physical_cores() -> int:
    try:
        import psutil

        count = psutil.cpu_count(logical=False)
    except Exception:  # psutil cannot read the topology on some containers
        count = None
    return int(count or os.cpu_count() or 1)


def cpu_budget(cores: int) -> dict[str, int]:
    return LARGE_CPU_BUDGET if cores >= LARGE_CPU_CORES else SMALL_CPU_BUDGET


@dataclass(frozen=True)
class EngineChoice:
    model: str | None  # None: nothing fits, nothing installed
    path: Path | None  # the GGUF file; None: not on disk yet (``entry`` says what to pull)
    n_ctx: int
    gpu_layers: int
    total_layers: int
    device: str  # gpu, partial, cpu, none
    threads: int
    choice: Choice
    entry: CatalogEntry | None = None

    @property
    def installed(self) -> bool:
        return self.path is not None

    @property
    def size_bytes(self) -> int:
        if self.path is not None:
            try:
                return self.path.stat().st_size
            except OSError:
                pass
        return self.entry.size_bytes if self.entry else (self.choice.estimate.weights_bytes
                                                         if self.choice.estimate else 0)

    def placement(self) -> str:
        if self.device == "gpu":
            return "GPU"
        if self.device == "partial":
            return f"GPU {self.gpu_layers}/{self.total_layers} layers"
        return "CPU"

    def banner(self) -> str:
        """One line for the shell's banner: ``qwen2.5-1.5b-instruct · ctx 4096 · CPU · 2 threads``."""
        if self.model is None:
            return "no local model"
        text = f"{self.model} · ctx {self.n_ctx} · {self.placement()} · {self.threads} thread"
        return text + ("s" if self.threads != 1 else "")

    def with_gpu_layers(self, layers: int) -> EngineChoice:
        """The same choice with the GPU layers a person set (providers.NAME.gpu_layers)."""
        total = self.total_layers
        layers = max(0, min(layers, total)) if total else max(0, layers)
        device = "cpu" if layers == 0 else ("gpu" if total and layers >= total else "partial")
        return replace(self, gpu_layers=layers, device=device)

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "path": str(self.path) if self.path else None, "n_ctx": self.n_ctx,
                "gpu_layers": self.gpu_layers, "total_layers": self.total_layers, "device": self.device,
                "threads": self.threads, "installed": self.installed, "size_bytes": self.size_bytes,
                "pull": self.entry.name if self.entry and not self.installed else None,
                "banner": self.banner(), "reason": self.choice.reason, "warnings": list(self.choice.warnings)}


def _engine_choice(choice: Choice, threads: int, path: Path | None, entry: CatalogEntry | None) -> EngineChoice:
    layers = choice.gpu_layers if choice.device in ("gpu", "partial") else 0
    return EngineChoice(choice.model, path, choice.num_ctx, layers, choice.total_layers, choice.device, threads,
                        choice, entry)


def recommend_engine(machine: Machine, *, tier: str = "default", tools: bool = True,
                     settings: Settings | None = None, threads: int | None = None,
                     pool: Iterable[CatalogEntry] | None = None) -> EngineChoice:
    """The catalog model to download for this machine (Qwen2.5 Instruct sized to the GPU or the CPU)."""
    from llmos.models import catalog

    settings = settings or Settings()
    threads = threads or physical_cores()
    entries = {e.name: e for e in (pool if pool is not None else catalog.recommended())}
    choice = choose([e.spec() for e in entries.values()], machine, tier=tier, tools=tools,
                    settings=replace(settings, model=None, warnings=()), cpu_budget=cpu_budget(threads),
                    cpu_max_ctx=CPU_MAX_CTX)
    return _engine_choice(choice, threads, None, entries.get(choice.model or ""))


def plan_engine(machine: Machine, local: Iterable[LocalModel], *, tier: str = "default", tools: bool = True,
                settings: Settings | None = None, threads: int | None = None, model: str | None = None,
                n_ctx: int | None = None) -> EngineChoice:
    """The engine's model: ``model`` (or picker.model) when set, else the best GGUF on disk, else the
    catalog's recommendation (not on disk: ``path`` is None). ``n_ctx``/``threads`` override the picker."""
    from llmos.models import catalog

    settings = settings or Settings()
    threads = threads or physical_cores()
    if n_ctx:
        settings = replace(settings, num_ctx=n_ctx)
    usable = [m for m in local if m.can_chat and m.spec is not None]
    pin = model or settings.model
    if pin:
        return _pinned(machine, usable, pin, tier, tools, settings, threads)
    if not usable:
        return recommend_engine(machine, tier=tier, tools=tools, settings=settings, threads=threads)
    specs: list[ModelSpec] = []
    by_name: dict[str, LocalModel] = {}
    for m in usable:
        if m.name not in by_name and m.spec is not None:
            by_name[m.name] = m
            specs.append(m.spec)
    choice = choose(specs, machine, tier=tier, tools=tools, settings=settings, cpu_budget=cpu_budget(threads),
                    cpu_max_ctx=CPU_MAX_CTX)
    found = by_name.get(choice.model or "")
    return _engine_choice(choice, threads, found.path if found else None, catalog.get(choice.model or ""))


def _pinned(machine: Machine, usable: list[LocalModel], pin: str, tier: str, tools: bool, settings: Settings,
            threads: int) -> EngineChoice:
    from llmos.models import catalog
    from llmos.models.discover import describe, locate

    # A path to a catalog file is that model; any other path is named by its file.
    entry = catalog.get(pin) or catalog.get(Path(pin).name)
    name = entry.name if entry else (Path(pin).stem if pin.lower().endswith(".gguf") else pin)
    is_path = pin.lower().endswith(".gguf") or os.sep in pin
    local = None if is_path else next((m for m in usable if m.name == name), None)
    path = local.path if local else locate(pin)
    if local is None and path is not None:
        local = describe(path, name, "path")
    spec = local.spec if local is not None else None
    specs = [spec] if spec is not None else []
    known = {name: entry.spec()} if entry else {}
    choice = choose(specs, machine, tier=tier, tools=tools, settings=replace(settings, model=name), catalog=known,
                    cpu_budget=cpu_budget(threads), cpu_max_ctx=CPU_MAX_CTX)
    return _engine_choice(choice, threads, path, entry)
