"""GGUF model files: which exist, where, and how to get them.

    catalog.py      the curated download catalog (llmos/data/gguf-catalog.yaml)
    gguf_header.py  a GGUF file's metadata and tensor table, read without loading weights (no numpy)
    discover.py     GGUFs already on disk (Ollama, LM Studio, the HF cache, the llmos models folder); locate()
    pull.py         `llmos models pull NAME` from Hugging Face through huggingface_hub
    overview.py     what `llmos models` shows about them

For the embedded engine (one call; nothing heavy is imported)::

    from llmos.models import engine_choice, locate
    choice = engine_choice(config, model=configured_name)   # picker: GGUF path, n_ctx, GPU layers, threads
    choice.path, choice.n_ctx, choice.gpu_layers, choice.threads
    choice.banner()          # "qwen2.5-1.5b-instruct · ctx 4096 · CPU · 2 threads"
    locate("qwen2.5:3b")     # a configured name → a file, or None
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llmos.picker.embedded import EngineChoice


def locate(name_or_path: str) -> Path | None:
    from llmos.models.discover import locate as _locate

    return _locate(name_or_path)


def engine_choice(config: Any = None, *, model: str | None = None, n_ctx: int | None = None,
                  threads: int | None = None, tier: str = "default", tools: bool = True) -> EngineChoice:
    """What the embedded engine should run on this machine: ``model`` when given (a catalog name, an Ollama
    tag, a file name or a path), else the best GGUF on disk, else the catalog's recommendation (``path`` None:
    `llmos models pull NAME`). ``config``'s picker section (num_ctx, vram_limit_mib, kv_cache_type,
    reserve_mib) applies; its picker.model pins Ollama's model, not the engine's."""
    from dataclasses import replace

    from llmos.models.discover import discover
    from llmos.picker.choose import Settings
    from llmos.picker.detect import detect
    from llmos.picker.embedded import plan_engine

    settings = Settings.from_config(config) if config is not None else Settings()
    settings = replace(settings, model=None)
    return plan_engine(detect(), discover(), tier=tier, tools=tools, settings=settings, threads=threads,
                       model=model, n_ctx=n_ctx)


__all__ = ["engine_choice", "locate"]
