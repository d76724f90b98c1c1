"""How much memory a model needs at a context size, and how much of it a GPU can hold.

The arithmetic mirrors Ollama's own estimator (fs/ggml/ggml.go ``GraphSize`` and llm/memory.go
``EstimateGPULayers``), because Ollama is what loads the model: agreeing with it is what makes the picker's
"fits" mean "Ollama will put every layer on the GPU". Metadata comes from three places, all reduced to the
same ``ModelSpec``: a local GGUF file (``spec_from_gguf``), Ollama's ``/api/show`` (``spec_from_model_info``)
or the built-in catalog (``llmos.picker.catalog``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MIB = 1024 * 1024
GIB = 1024 * MIB

# Per-GPU memory Ollama never plans to use: its minimum free memory for CUDA and ROCm (discover/gpu.go,
# ``cudaMinimumMemory = rocmMinimumMemory = 457 MiB``). Newer Ollama versions that delegate placement to
# llama.cpp's ``--fit`` keep a 1024 MiB margin instead; set ``picker.reserve_mib: 1024`` for those.
GPU_RESERVE_BYTES = 457 * MIB
# Ollama's default batch (num_batch): the compute graph is sized for this many tokens at once.
N_BATCH = 512
# Bytes per cached element, as (numerator, denominator) so the arithmetic stays exact: f16 is 2 bytes;
# ggml's q8_0 block is 34 bytes for 32 values, q4_0 18 bytes for 32 values.
KV_BYTES_PER_ELEMENT: dict[str, tuple[int, int]] = {"f16": (2, 1), "q8_0": (34, 32), "q4_0": (18, 32)}
# Architectures whose KV cache Ollama sizes with a sliding window: every Nth layer is global (full context),
# the others keep window + batch cells (fs/ggml/ggml.go, gemma3 case).
SWA_GLOBAL_EVERY = {"gemma3": 6}
# Decoding is memory-bandwidth bound: a layer left in system RAM is read at RAM speed. A laptop RTX 3050
# has 192 GB/s, dual-channel DDR4-3200 51 GB/s in theory and ~30-40 in practice, so ~6x is a fair middle
# figure (desktop cards are faster still); it only orders partial-offload options, it is not a benchmark.
GPU_TO_RAM_SPEED = 6.0
# Memory left for the OS and other programs when a model runs on the CPU.
RAM_HEADROOM_BYTES = 1 * GIB
# Vocabulary sizes by architecture, for /api/show answers that leave the token list out (it is only sent
# with verbose=true); used for the compute-graph estimate, where the output logits dominate.
DEFAULT_VOCAB = {"llama": 128256, "qwen2": 151936, "qwen3": 151936, "gemma3": 262208, "phi3": 32064}


class MetadataError(ValueError):
    """Model metadata lacks a number the estimate needs."""


@dataclass(frozen=True)
class Arch:
    """The architecture numbers the estimate needs (GGUF key names, without the ``<arch>.`` prefix)."""

    name: str  # general.architecture: llama, qwen2, qwen3, gemma3, phi3...
    block_count: int
    head_count: int
    head_count_kv: int
    key_length: int  # head size of K; not always embedding_length / head_count (qwen3, gemma3)
    value_length: int
    embedding_length: int
    context_length: int  # the longest context the model was trained for
    vocab_size: int = 0  # 0: unknown
    sliding_window: int = 0  # 0: every layer attends to the whole context


@dataclass(frozen=True)
class ModelSpec:
    name: str
    arch: Arch
    params: int
    quant: str
    weights_bytes: int  # the model file (Ollama's blob size): what goes to the GPU
    capabilities: tuple[str, ...] = ("completion",)
    source: str = "catalog"  # catalog, ollama or gguf
    output_bytes: int = 0  # the output layer (0: estimated from vocabulary and average bits per weight)

    @property
    def tools(self) -> bool:
        return "tools" in self.capabilities

    @property
    def thinking(self) -> bool:
        return "thinking" in self.capabilities

    @property
    def can_chat(self) -> bool:
        # Embedding models (nomic-embed-text...) are often installed next to chat models; they cannot answer.
        return "completion" in self.capabilities

    @property
    def total_layers(self) -> int:
        return self.arch.block_count + 1  # Ollama and llama.cpp count the output layer as one more


@dataclass(frozen=True)
class Estimate:
    model: str
    num_ctx: int
    kv_type: str
    weights_bytes: int
    kv_bytes: int
    graph_bytes: int  # compute buffers
    reserve_bytes: int  # engine reserve plus the one-layer buffer Ollama holds back
    total_layers: int
    gpu_layers: int
    free_bytes: int  # GPU memory available, or RAM available when there is no GPU
    device: str  # gpu (every layer), partial, cpu
    slowdown: float | None = None  # decode time relative to all layers on the GPU; None without a GPU
    loaded_bytes: int | None = None  # loaded in Ollama now, wholly on the GPU, using this much VRAM

    @property
    def has_gpu(self) -> bool:
        return self.slowdown is not None

    @property
    def need_bytes(self) -> int:
        """Memory needed to run the whole model on one device at this context."""
        return self.weights_bytes + self.kv_bytes + self.graph_bytes + self.reserve_bytes

    @property
    def fits(self) -> bool:
        """Every layer where it should be: on the GPU, or (without a GPU) in available RAM."""
        return self.device == "gpu" or (not self.has_gpu and self.need_bytes <= self.free_bytes)

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "num_ctx": self.num_ctx, "kv_cache_type": self.kv_type,
                "weights_bytes": self.weights_bytes, "kv_cache_bytes": self.kv_bytes,
                "graph_bytes": self.graph_bytes, "reserve_bytes": self.reserve_bytes,
                "need_bytes": self.need_bytes, "free_bytes": self.free_bytes, "device": self.device,
                "fits": self.fits, "gpu_layers": self.gpu_layers, "total_layers": self.total_layers,
                "slowdown": self.slowdown, "loaded_vram_bytes": self.loaded_bytes}


def kv_cache_bytes(arch: Arch, n_ctx: int, kv_type: str = "f16", n_batch: int = N_BATCH) -> int:
    """n_ctx × n_layer × n_head_kv × (key_length + value_length) × bytes per element; sliding-window layers
    (gemma3) keep only window + batch cells, as Ollama allocates them."""
    num, den = KV_BYTES_PER_ELEMENT[kv_type]
    per_cell = arch.head_count_kv * (arch.key_length + arch.value_length)
    every = SWA_GLOBAL_EVERY.get(arch.name, 0) if arch.sliding_window else 0
    cells = 0
    for layer in range(arch.block_count):
        local = every and (layer + 1) % every != 0
        cells += min(n_ctx, arch.sliding_window + n_batch) if local else n_ctx
    return cells * per_cell * num // den


def graph_bytes(arch: Arch, n_ctx: int, kv_bytes: int, n_batch: int = N_BATCH) -> tuple[int, int]:
    """(partial offload, full offload) compute-buffer sizes, Ollama's formulas for each architecture."""
    b, c, e, h = min(n_ctx, n_batch), n_ctx, arch.embedding_length, arch.head_count
    v = arch.vocab_size or DEFAULT_VOCAB.get(arch.name, 128256)
    hkv, dk = arch.head_count_kv, arch.key_length
    if arch.name == "llama":
        d = e // h
        full = max(4 * b * (1 + 4 * e + c * (1 + h)), 4 * b * (e + v))
        partial = 4 * b * e + max(4 * b * (1 + e + max(c, e)) + e * e * 9 // 16 + 4 * c * (b * h + d * hkv),
                                  4 * b * (e + v) + e * v * 105 // 128)
    elif arch.name == "qwen2":
        full = max(4 * b * (e + v), 4 * b * (1 + 2 * e + c + c * h))
        partial = max(4 * b * (e + v) + e * v * 105 // 128, 4 * (b * (1 + 2 * e + c * (1 + h)) + e * (1 + c)))
    elif arch.name == "gemma3":
        full = max(4 * b * (e + v), 4 * b * (2 + c + c * h + 2 * e + 2 * dk * h))
        partial = max(4 * e * b + e * v * 105 // 128 + 4 * v * b,
                      4 * b * (2 * e + 1 + 2 * dk * h + c + c * h) + 4 * dk * c * 8 + e * dk * h * 9 // 16)
    else:  # Ollama's fallback for architectures without a formula (phi3, qwen3...): GQA ratio × KV / 6
        full = partial = (h // max(hkv, 1)) * kv_bytes // 6
    return partial, full


def output_layer_bytes(spec: ModelSpec) -> int:
    """The output layer's weights: exact from a GGUF file, else vocabulary × embedding at the file's
    average bits per weight (the output matrix is one of the largest tensors of a small model)."""
    if spec.output_bytes:
        return spec.output_bytes
    vocab = spec.arch.vocab_size or DEFAULT_VOCAB.get(spec.arch.name, 128256)
    if spec.params <= 0:
        return spec.weights_bytes // spec.total_layers
    share = vocab * spec.arch.embedding_length / spec.params
    return min(int(spec.weights_bytes * share), spec.weights_bytes // 2)


def estimate(spec: ModelSpec, num_ctx: int, *, gpu_free_bytes: int | None, ram_free_bytes: int = 0,
             kv_type: str = "f16", reserve_bytes: int = GPU_RESERVE_BYTES, gpu_count: int = 1,
             unified: bool = False) -> Estimate:
    """Memory for ``spec`` at ``num_ctx``; with ``gpu_free_bytes=None`` (no GPU) the model runs on the CPU.

    On a GPU the placement follows Ollama: reserve + one layer as a buffer + the larger compute graph are
    set aside, then repeating layers are placed while they fit, and the output layer last.
    """
    arch = spec.arch
    kv = kv_cache_bytes(arch, num_ctx, kv_type)
    partial_graph, full_graph = graph_bytes(arch, num_ctx, kv)
    if gpu_free_bytes is None:
        free = max(ram_free_bytes - RAM_HEADROOM_BYTES, 0)
        return Estimate(spec.name, num_ctx, kv_type, spec.weights_bytes, kv, full_graph, 0, spec.total_layers,
                        0, free, "cpu", None)
    if unified:  # Metal: no separate partial-offload graph (memory.go)
        partial_graph = full_graph
    elif gpu_count > 1:  # several GPUs always use the partial graph size (memory.go)
        full_graph = partial_graph
    graph = max(partial_graph, full_graph)
    out = output_layer_bytes(spec)
    layer_weights = (spec.weights_bytes - out) / arch.block_count
    layer = layer_weights + kv / arch.block_count
    held = reserve_bytes + math.ceil(layer)  # Ollama keeps one layer's worth free as a buffer
    need = spec.weights_bytes + kv + graph + held
    if need <= gpu_free_bytes:
        return Estimate(spec.name, num_ctx, kv_type, spec.weights_bytes, kv, graph, held, spec.total_layers,
                        spec.total_layers, gpu_free_bytes, "gpu", 1.0)
    room = gpu_free_bytes - held - graph
    layers = max(0, min(arch.block_count, int(room // layer))) if room > layer else 0
    on_gpu = layers * layer_weights
    slowdown = (on_gpu + (spec.weights_bytes - on_gpu) * GPU_TO_RAM_SPEED) / spec.weights_bytes
    device = "partial" if layers else "cpu"
    return Estimate(spec.name, num_ctx, kv_type, spec.weights_bytes, kv, graph, held, spec.total_layers, layers,
                    gpu_free_bytes, device, round(slowdown, 2))


# --- metadata sources -------------------------------------------------------------------------------------

def _first(value: Any) -> int:
    """Per-layer arrays (some architectures vary heads by layer): the largest, as Ollama's *Max helpers do."""
    if isinstance(value, (list, tuple)):
        return max((int(v) for v in value), default=0)
    return int(value)


def arch_from_kv(kv: Mapping[str, Any]) -> Arch:
    """GGUF-style keys (``general.architecture``, ``<arch>.block_count``...) from /api/show or a GGUF file."""
    name = kv.get("general.architecture")
    if not isinstance(name, str) or not name:
        raise MetadataError("no general.architecture")

    def get(key: str) -> Any:
        return kv.get(f"{name}.{key}")

    missing = [k for k in ("block_count", "attention.head_count", "embedding_length") if get(k) is None]
    if missing:
        raise MetadataError(f"{name}: missing " + ", ".join(f"{name}.{k}" for k in missing))
    heads = _first(get("attention.head_count"))
    kv_heads = get("attention.head_count_kv")
    embedding = int(get("embedding_length"))
    key_len = int(get("attention.key_length") or (embedding // heads if heads else 0))
    vocab = get("vocab_size") or kv.get("tokenizer.ggml.vocab_size") or 0
    return Arch(name=name, block_count=int(get("block_count")), head_count=heads,
                head_count_kv=_first(kv_heads) if kv_heads is not None else heads,
                key_length=key_len, value_length=int(get("attention.value_length") or key_len),
                embedding_length=embedding, context_length=int(get("context_length") or 2048),
                vocab_size=int(vocab), sliding_window=int(get("attention.sliding_window") or 0))


def spec_from_model_info(name: str, size: int, model_info: Mapping[str, Any], capabilities: list[str] | None,
                         quant: str = "") -> ModelSpec:
    """From Ollama: /api/tags gives the blob size, /api/show the model_info keys and capabilities."""
    arch = arch_from_kv(model_info)
    params = int(model_info.get("general.parameter_count") or 0)
    return ModelSpec(name=name, arch=arch, params=params, quant=quant, weights_bytes=int(size),
                     capabilities=tuple(capabilities or ("completion",)), source="ollama")


def spec_from_gguf(path: Path, name: str | None = None) -> ModelSpec:
    """Read a local GGUF file's header (llmos.models.gguf_header: no numpy, the weights are not read)."""
    from llmos.models.gguf_header import read_header

    return spec_from_header(read_header(path), name)


def spec_from_header(header: Any, name: str | None = None) -> ModelSpec:
    """A ``ModelSpec`` from a parsed GGUF header (``llmos.models.gguf_header.Header``)."""
    kv = {k: v for k, v in header.metadata.items() if not k.startswith("tokenizer.ggml.")}
    kv["tokenizer.ggml.vocab_size"] = header.vocab_size
    by_name = {t.name: t.n_bytes for t in header.tensors}
    output = by_name.get("output.weight") or by_name.get("token_embd.weight", 0)
    output += by_name.get("output_norm.weight", 0)
    caps = ["completion"]
    if "tools" in header.chat_template:
        caps.append("tools")
    return ModelSpec(name=name or header.path.stem, arch=arch_from_kv(kv), params=header.parameters,
                     quant=header.quant, weights_bytes=header.weights_bytes, capabilities=tuple(caps),
                     source="gguf", output_bytes=output)
