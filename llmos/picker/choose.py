"""Which installed model to run, at what context size, and how much of it on the GPU.

Order of preference: the most capable model that fits wholly on the GPU at a useful context (≥ 4096 tokens
for tool use and for thinking models, 2048 for plain chat; then the largest of 8192/16384/32768 that still
fits), else the best partial offload, else the CPU. Capability is judged by parameter count; tool-using turns
only consider models whose Ollama ``capabilities`` include "tools" when any is installed; thinking models go
to the reasoning tier first and last elsewhere. A model Ollama holds wholly on the GPU right now counts as
fitting at its window. An explicit model, context or VRAM limit in the configuration is never overridden:
the picker only warns when it will not fit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from llmos.config.schema import article
from llmos.errors import ConfigError
from llmos.picker.detect import MIB, Machine
from llmos.picker.estimate import (GIB, GPU_RESERVE_BYTES, KV_BYTES_PER_ELEMENT, Estimate, ModelSpec,
                                   estimate)

TIERS = ("fast", "default", "reasoning")
CTX_STEPS = (2048, 4096, 8192, 16384, 32768)
MIN_CTX_TOOLS = 4096  # tool schemas and results alone take 1-2k tokens (see benchmarks/README.md)
MIN_CTX_CHAT = 2048
CPU_MAX_CTX = 8192  # prompt processing on a CPU is slow enough that a longer window is rarely filled
# The fast tier wants quick answers: models up to this size (a 3-4B model still decodes fast on a GPU, and
# on a small card sharing one model between tiers avoids reloading it for every turn).
FAST_MAX_PARAMS = 4_500_000_000
# A partial offload slower than this is offered only when nothing better fits.
MAX_PARTIAL_SLOWDOWN = 3.0
# Without a GPU, decode speed is RAM bandwidth ÷ model size: keep each tier's model small enough to answer
# at a readable pace on a typical laptop (~20-40 GB/s effective).
CPU_WEIGHTS_BUDGET = {"fast": int(1.5 * GIB), "default": int(2.5 * GIB), "reasoning": int(5 * GIB)}

_SETTINGS_KEYS = ("model", "num_ctx", "vram_limit_mib", "kv_cache_type", "reserve_mib")


@dataclass(frozen=True)
class Settings:
    """The ``picker`` section of the configuration."""

    model: str | None = None  # pin a model: always used
    num_ctx: int | None = None  # pin the context size
    vram_limit_mib: int | None = None  # plan with at most this much VRAM
    kv_cache_type: str = "f16"  # what the Ollama server uses (OLLAMA_KV_CACHE_TYPE; needs flash attention)
    reserve_mib: int = GPU_RESERVE_BYTES // MIB  # per-GPU memory the engine keeps free
    warnings: tuple[str, ...] = ()
    model_key: str = "picker.model"  # the setting that pinned ``model``, for messages

    @classmethod
    def from_config(cls, config: Any) -> Settings:
        """Validate ``config.get("picker")`` with errors that name the key and where it was set."""
        raw = config.get("picker")
        if raw is None:
            return cls()
        origins: Mapping[str, Any] = getattr(config, "origins", {}) or {}
        if not isinstance(raw, dict):
            raise ConfigError(f"{_where(origins, 'picker')}picker: expected a mapping (section), got {raw!r}")
        warnings = tuple(f"picker.{k}: unknown key (known here: {', '.join(_SETTINGS_KEYS)})"
                         for k in raw if k not in _SETTINGS_KEYS)

        def fail(key: str, expected: str) -> ConfigError:
            value = raw[key]
            return ConfigError(f"{_where(origins, 'picker.' + key)}picker.{key}: expected {expected}, "
                               f"got {value!r} ({article(type(value).__name__)})")

        model = raw.get("model")
        if model is not None and (not isinstance(model, str) or not model.strip()):
            raise fail("model", "a model name like llama3.2:3b, or null")
        ints: dict[str, int | None] = {}
        for key, low in (("num_ctx", 256), ("vram_limit_mib", 0), ("reserve_mib", 0)):
            value = raw.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < low):
                raise fail(key, f"a whole number ≥ {low}, or null")
            ints[key] = value
        kv_type = raw.get("kv_cache_type", "f16")
        if kv_type not in KV_BYTES_PER_ELEMENT:
            raise fail("kv_cache_type", "one of " + ", ".join(KV_BYTES_PER_ELEMENT))
        reserve = ints["reserve_mib"]
        return cls(model.strip() if model else None, ints["num_ctx"], ints["vram_limit_mib"], kv_type,
                   GPU_RESERVE_BYTES // MIB if reserve is None else reserve, warnings)


def _where(origins: Mapping[str, Any], dotted: str) -> str:
    origin = origins.get(dotted) or next((o for k, o in origins.items() if k.startswith(dotted + ".")), None)
    return f"{origin}: " if origin is not None and getattr(origin, "layer", "") != "default" else ""


@dataclass(frozen=True)
class LoadedModel:
    """A model Ollama has in memory now (/api/ps)."""

    name: str
    digest: str
    size_bytes: int
    vram_bytes: int
    context_length: int


@dataclass(frozen=True)
class Choice:
    model: str | None  # None: nothing usable is installed
    num_ctx: int
    gpu_layers: int
    total_layers: int
    est_bytes: int  # memory the model needs at num_ctx, engine reserve included
    free_bytes: int  # GPU memory available to it (RAM when there is no GPU)
    device: str  # gpu, partial, cpu, none
    reason: str  # one line for people
    warnings: tuple[str, ...] = ()
    pinned: bool = False
    estimate: Estimate | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "num_ctx": self.num_ctx, "gpu_layers": self.gpu_layers,
                "total_layers": self.total_layers, "est_bytes": self.est_bytes, "free_bytes": self.free_bytes,
                "device": self.device, "reason": self.reason, "warnings": list(self.warnings),
                "pinned": self.pinned}


@dataclass(frozen=True)
class Budget:
    """The memory a model may use: GPU (with what Ollama can free by unloading idle models) and RAM."""

    gpu_free: int | None  # None: no GPU
    ram_free: int
    gpu_count: int = 1
    unified: bool = False

    @classmethod
    def of(cls, machine: Machine, loaded: Iterable[LoadedModel] = (), vram_limit_mib: int | None = None) -> Budget:
        if not machine.gpus:
            return cls(None, machine.ram_available_bytes)
        # Ollama unloads idle models to make room for a new one, so VRAM they hold counts as available.
        free = machine.gpu_free_bytes + sum(m.vram_bytes for m in loaded)
        if vram_limit_mib is not None:
            free = min(free, vram_limit_mib * MIB)
        return cls(free, machine.ram_available_bytes, len(machine.gpus), machine.unified)


def min_context(tier: str, tools: bool) -> int:
    """The smallest useful window: tool schemas and results need room, and so does a thinking model's
    reasoning, which runs to a thousand tokens or more before the answer."""
    return MIN_CTX_TOOLS if tools or tier == "reasoning" else MIN_CTX_CHAT


def gib(n: int) -> str:
    return f"{n / GIB:.1f}"


def plan(spec: ModelSpec, budget: Budget, settings: Settings, *, min_ctx: int,
         loaded: LoadedModel | None = None, cpu_max_ctx: int = CPU_MAX_CTX) -> Estimate:
    """The best placement of one model: the largest context step that fits wholly on the GPU, else a partial
    offload at the smallest useful context, else the CPU. A model Ollama already holds wholly on the GPU is
    proof it fits at its window: it is kept there unless a larger window fits (a reload costs seconds)."""
    top = spec.arch.context_length or CTX_STEPS[0]
    if settings.num_ctx:
        steps: tuple[int, ...] = (settings.num_ctx,)
    else:
        steps = tuple(s for s in CTX_STEPS if min_ctx <= s <= top) or (min(min_ctx, top),)
    if budget.gpu_free is None:
        steps = tuple(s for s in steps if s <= cpu_max_ctx) or steps[:1]

    def at(ctx: int) -> Estimate:
        return estimate(spec, ctx, gpu_free_bytes=budget.gpu_free, ram_free_bytes=budget.ram_free,
                        kv_type=settings.kv_cache_type, reserve_bytes=settings.reserve_mib * MIB,
                        gpu_count=budget.gpu_count, unified=budget.unified)

    best = next((e for e in map(at, reversed(steps)) if e.fits), None)
    resident = (loaded is not None and budget.gpu_free is not None and not settings.num_ctx
                and 0 < loaded.size_bytes <= loaded.vram_bytes and loaded.context_length >= min_ctx)
    if resident and loaded and (best is None or best.num_ctx <= loaded.context_length):
        e = at(loaded.context_length)
        return replace(e, device="gpu", gpu_layers=e.total_layers, slowdown=1.0, loaded_bytes=loaded.vram_bytes)
    return best or at(steps[0])


def _rank(spec: ModelSpec, tier: str) -> tuple[Any, ...]:
    if tier == "reasoning":
        return (spec.thinking, spec.params, spec.name)
    # A thinking model (deepseek-r1, qwen3:4b which is the Thinking-2507 build) writes a long reasoning
    # before every answer: right for the reasoning tier, the wrong default for quick or everyday turns.
    small = tier != "fast" or spec.params <= FAST_MAX_PARAMS
    return (not spec.thinking, small, spec.params, spec.name)


def choose(installed: Iterable[ModelSpec], machine: Machine, *, tier: str = "default", tools: bool = False,
           settings: Settings = Settings(), loaded: Iterable[LoadedModel] = (),
           catalog: Mapping[str, ModelSpec] | None = None, cpu_budget: Mapping[str, int] = CPU_WEIGHTS_BUDGET,
           cpu_max_ctx: int = CPU_MAX_CTX) -> Choice:
    """Pick the model, context and GPU layers for a turn of ``tier``; ``tools``: the turn offers tools.
    ``cpu_budget`` and ``cpu_max_ctx`` bound a CPU-only choice (the embedded engine sets tighter ones)."""
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r} (one of {', '.join(TIERS)})")
    loaded = list(loaded)
    budget = Budget.of(machine, loaded, settings.vram_limit_mib)
    min_ctx = min_context(tier, tools)
    warnings = list(settings.warnings)
    if settings.vram_limit_mib is not None and not machine.gpus:
        warnings.append("picker.vram_limit_mib is set but no GPU was found: models run on the CPU")
    models = [m for m in installed if m.can_chat]
    resident = {m.name: m for m in loaded}
    if settings.model:
        return _pinned(settings, models, budget, min_ctx, warnings, catalog or {}, resident, tools, cpu_max_ctx)
    if not models:
        free = budget.gpu_free if budget.gpu_free is not None else budget.ram_free
        return Choice(None, settings.num_ctx or min_ctx, 0, 0, 0, free, "none",
                      "no local chat model installed: `llmos models recommend` suggests one to pull",
                      tuple(warnings))
    if tools:
        with_tools = [m for m in models if m.tools]
        if with_tools:
            models = with_tools
        else:
            warnings.append("no installed model supports tools (Ollama capabilities): tool calls may fail")
    plans = [plan(m, budget, settings, min_ctx=min_ctx, loaded=resident.get(m.name), cpu_max_ctx=cpu_max_ctx)
             for m in models]
    by_name = {m.name: m for m in models}

    def best(group: list[Estimate]) -> Estimate:
        return max(group, key=lambda e: _rank(by_name[e.model], tier))

    whole = [e for e in plans if e.fits]
    partial = [e for e in plans if e.device == "partial"]
    if budget.gpu_free is None:
        # CPU only: the most capable model within the tier's size budget, else the smallest that fits.
        light = [e for e in whole if e.weights_bytes <= cpu_budget[tier]]
        chosen = best(light) if light else min(whole or plans, key=lambda e: e.weights_bytes)
    elif whole:
        chosen = best(whole)
    elif partial:
        tolerable = [e for e in partial if (e.slowdown or 0) <= MAX_PARTIAL_SLOWDOWN]
        chosen = best(tolerable) if tolerable else min(partial, key=lambda e: (e.slowdown or 0, e.model))
    else:
        chosen = min(plans, key=lambda e: e.weights_bytes)
        warnings.append("no installed model fits on the GPU: it runs on the CPU")
    if settings.num_ctx and not chosen.fits:
        warnings.append(f"picker.num_ctx {settings.num_ctx} does not fit {chosen.model} in "
                        f"{gib(chosen.free_bytes)} GiB (needs {gib(chosen.need_bytes)} GiB): {_layers(chosen)}")
    return _choice(chosen, warnings)


def _pinned(settings: Settings, models: list[ModelSpec], budget: Budget, min_ctx: int, warnings: list[str],
            catalog: Mapping[str, ModelSpec], loaded: Mapping[str, LoadedModel], tools: bool,
            cpu_max_ctx: int = CPU_MAX_CTX) -> Choice:
    name = settings.model or ""
    spec = next((m for m in models if m.name == name), None) or catalog.get(name)
    if not any(m.name == name for m in models):
        warnings.append(f"{settings.model_key} {name} is not installed: `llmos models pull {name}`")
    if spec is not None and tools and not spec.tools:
        warnings.append(f"{settings.model_key} {name} does not support tools (Ollama capabilities): "
                        "tool calls may fail")
    if spec is None:
        ctx = settings.num_ctx or min_ctx
        return Choice(name, ctx, 0, 0, 0, budget.gpu_free or budget.ram_free, "none",
                      f"{name} · ctx {ctx} · pinned by {settings.model_key} (no metadata to estimate memory)",
                      tuple(warnings), pinned=True)
    e = plan(spec, budget, settings, min_ctx=min_ctx, loaded=loaded.get(name), cpu_max_ctx=cpu_max_ctx)
    if not e.fits:
        where = "VRAM" if e.has_gpu else "RAM"
        warnings.append(f"{settings.model_key} {name} does not fit in {gib(e.free_bytes)} GiB free {where} at "
                        f"ctx {e.num_ctx} (needs {gib(e.need_bytes)} GiB): {_layers(e)}")
    return _choice(e, warnings, pinned_by=settings.model_key)


def _layers(e: Estimate) -> str:
    if not e.has_gpu:
        return "CPU only (no GPU)"
    text = f"{e.gpu_layers}/{e.total_layers} layers on GPU"
    if e.device != "gpu":
        text += f" (≈{e.slowdown:g}× slower than all on GPU)"
    return text


def _choice(e: Estimate, warnings: list[str], *, pinned_by: str | None = None) -> Choice:
    where = "free" if e.has_gpu else "RAM available"
    if e.loaded_bytes is not None:
        memory = f"loaded now, {gib(e.loaded_bytes)} GiB in VRAM"
    else:
        memory = f"est. {gib(e.need_bytes)} GiB of {gib(e.free_bytes)} GiB {where}"
    reason = f"{e.model} · ctx {e.num_ctx} · {_layers(e)} · {memory}"
    if pinned_by:
        reason += f" · pinned by {pinned_by}"
    return Choice(e.model, e.num_ctx, e.gpu_layers, e.total_layers, e.need_bytes, e.free_bytes, e.device, reason,
                  tuple(warnings), pinned_by is not None, e)


@dataclass(frozen=True)
class Fit:
    """One model judged against this machine, for `llmos models` and `llmos models fit`."""

    spec: ModelSpec
    installed: bool
    estimate: Estimate

    @property
    def verdict(self) -> str:
        return verdict(self.estimate, self.spec)

    def to_json(self) -> dict[str, Any]:
        s = self.spec
        return {"model": s.name, "installed": self.installed, "source": s.source, "quantization": s.quant,
                "size_bytes": s.weights_bytes, "parameters": s.params, "context_length": s.arch.context_length,
                "tools": s.tools, "capabilities": list(s.capabilities), "verdict": self.verdict,
                "estimate": self.estimate.to_json()}


def verdict(e: Estimate, spec: ModelSpec | None = None) -> str:
    if spec is not None and not spec.can_chat:
        return "embedding model: not for chat"
    if e.fits:
        return "fits on GPU" if e.has_gpu else "runs on CPU"
    if e.device == "partial":
        return f"partial: {e.gpu_layers}/{e.total_layers} layers on GPU, ≈{e.slowdown:g}× slower"
    if e.has_gpu:
        return "CPU only: no layer fits on the GPU"
    return "too big for available RAM"


def assess(spec: ModelSpec, machine: Machine, settings: Settings = Settings(), *, installed: bool = True,
           loaded: Iterable[LoadedModel] = (), num_ctx: int | None = None, tools: bool = True,
           cpu_max_ctx: int = CPU_MAX_CTX) -> Fit:
    """The placement the picker would give ``spec`` (at ``num_ctx`` when given)."""
    loaded = list(loaded)
    budget = Budget.of(machine, loaded, settings.vram_limit_mib)
    if num_ctx is not None:
        settings = replace(settings, num_ctx=num_ctx, warnings=())
    resident = {m.name: m for m in loaded}
    e = plan(spec, budget, settings, min_ctx=min_context("default", tools), loaded=resident.get(spec.name),
             cpu_max_ctx=cpu_max_ctx)
    return Fit(spec, installed, e)
