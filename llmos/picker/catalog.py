"""Well-known small models, as data: the architecture numbers of each and what Ollama's default tag ships.

Architecture numbers come from each model's config.json on the Hugging Face hub (cited per entry) and agree
with the GGUF keys Ollama reports in /api/show. Quantization and download size are those of Ollama's default
tag as listed on ollama.com/library (size rounded to 0.1 GB there; an installed model is always estimated
from its exact blob size in /api/tags instead). ``capabilities`` are what /api/show reports for that tag.

A "VRAM usage" column that lists the download size understates the real need: the KV cache, the compute
buffers and the engine's reserve come on top. llama3.2:3b is a 2.0 GB download but needs about 3.4 GiB
of free VRAM at a 4096-token context; phi3:mini (no grouped-query attention: 32 KV heads) adds 1.5 GiB
of KV cache at 4096 tokens alone. ``llmos models fit MODEL`` shows the breakdown.
"""

from __future__ import annotations

from llmos.picker.estimate import Arch, ModelSpec

GB = 1_000_000_000  # ollama.com lists sizes in decimal gigabytes

_TOOLS = ("completion", "tools")

CATALOG: dict[str, ModelSpec] = {spec.name: spec for spec in (
    # meta-llama/Llama-3.2-1B-Instruct config.json: hidden 2048, 16 layers, 32 heads, 8 KV heads, head_dim 64,
    # max_position_embeddings 131072, vocab 128256, tied embeddings; 1.24B parameters. Ollama: Q8_0, 1.3 GB.
    ModelSpec("llama3.2:1b", Arch("llama", 16, 32, 8, 64, 64, 2048, 131072, 128256),
              1_235_814_400, "Q8_0", int(1.3 * GB), _TOOLS),
    # meta-llama/Llama-3.2-3B-Instruct: hidden 3072, 28 layers, 24 heads, 8 KV heads, head_dim 128, 131072,
    # vocab 128256; 3.21B. Ollama: Q4_K_M, 2.0 GB.
    ModelSpec("llama3.2:3b", Arch("llama", 28, 24, 8, 128, 128, 3072, 131072, 128256),
              3_212_749_824, "Q4_K_M", int(2.0 * GB), _TOOLS),
    # Qwen/Qwen2.5-0.5B-Instruct: hidden 896, 24 layers, 14 heads, 2 KV heads (head 64), 32768, vocab 151936;
    # 0.49B. Ollama: Q4_K_M, 398 MB.
    ModelSpec("qwen2.5:0.5b", Arch("qwen2", 24, 14, 2, 64, 64, 896, 32768, 151936),
              494_032_768, "Q4_K_M", int(0.398 * GB), _TOOLS),
    # Qwen/Qwen2.5-1.5B-Instruct: hidden 1536, 28 layers, 12 heads, 2 KV heads (head 128), 32768; 1.54B.
    # Ollama: Q4_K_M, 986 MB.
    ModelSpec("qwen2.5:1.5b", Arch("qwen2", 28, 12, 2, 128, 128, 1536, 32768, 151936),
              1_543_714_304, "Q4_K_M", int(0.986 * GB), _TOOLS),
    # Qwen/Qwen2.5-3B-Instruct: hidden 2048, 36 layers, 16 heads, 2 KV heads (head 128), 32768; 3.09B.
    # Ollama: Q4_K_M, 1.9 GB.
    ModelSpec("qwen2.5:3b", Arch("qwen2", 36, 16, 2, 128, 128, 2048, 32768, 151936),
              3_085_938_688, "Q4_K_M", int(1.9 * GB), _TOOLS),
    # Qwen/Qwen2.5-7B-Instruct: hidden 3584, 28 layers, 28 heads, 4 KV heads (head 128), 32768, vocab 152064;
    # 7.62B. Ollama: Q4_K_M, 4.7 GB.
    ModelSpec("qwen2.5:7b", Arch("qwen2", 28, 28, 4, 128, 128, 3584, 32768, 152064),
              7_615_616_512, "Q4_K_M", int(4.7 * GB), _TOOLS),
    # microsoft/Phi-3-mini-128k-instruct (phi3:mini is 3.8b-mini-128k-instruct-q4_0): hidden 3072,
    # 32 layers, 32 heads and 32 KV heads (no GQA), head 96, 131072, vocab 32064; 3.82B. Q4_0, 2.2 GB; no tools.
    ModelSpec("phi3:mini", Arch("phi3", 32, 32, 32, 96, 96, 3072, 131072, 32064),
              3_821_079_552, "Q4_0", int(2.2 * GB), ("completion",)),
    # deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B (Qwen2.5-Math-1.5B base): hidden 1536, 28 layers, 12 heads,
    # 2 KV heads (head 128), 131072, vocab 151936, untied embeddings: 1.78B. Ollama: Q4_K_M, 1.1 GB;
    # a thinking model without tool calling.
    ModelSpec("deepseek-r1:1.5b", Arch("qwen2", 28, 12, 2, 128, 128, 1536, 131072, 151936),
              1_777_088_000, "Q4_K_M", int(1.1 * GB), ("completion", "thinking")),
    # mistralai/Mistral-7B-Instruct-v0.3 (GGUF architecture "llama"): hidden 4096, 32 layers, 32 heads,
    # 8 KV heads (head 128), 32768, vocab 32768; 7.25B. Ollama: Q4_K_M, 4.4 GB.
    ModelSpec("mistral:7b", Arch("llama", 32, 32, 8, 128, 128, 4096, 32768, 32768),
              7_248_023_552, "Q4_K_M", int(4.4 * GB), _TOOLS),
    # meta-llama/Llama-3.1-8B-Instruct: hidden 4096, 32 layers, 32 heads, 8 KV heads (head 128), 131072,
    # vocab 128256; 8.03B. Ollama: Q4_K_M, 4.9 GB.
    ModelSpec("llama3.1:8b", Arch("llama", 32, 32, 8, 128, 128, 4096, 131072, 128256),
              8_030_261_248, "Q4_K_M", int(4.9 * GB), _TOOLS),
    # Qwen/Qwen3-4B-Thinking-2507 (qwen3:4b since August 2025): hidden 2560, 36 layers, 32 heads, 8 KV heads,
    # head_dim 128 (not 2560/32 = 80), 262144, vocab 151936; 4.02B. Ollama: Q4_K_M, 2.5 GB; tools, thinking.
    ModelSpec("qwen3:4b", Arch("qwen3", 36, 32, 8, 128, 128, 2560, 262144, 151936),
              4_022_468_096, "Q4_K_M", int(2.5 * GB), ("completion", "tools", "thinking")),
    # google/gemma-3-4b-it text_config: hidden 2560, 34 layers, 8 heads, 4 KV heads, head_dim 256 (not
    # 2560/8 = 320), 131072, vocab 262208, sliding window 1024 on 5 of every 6 layers; 4.3B with the vision
    # tower. Ollama: Q4_K_M, 3.3 GB (vision projector included); no tools.
    ModelSpec("gemma3:4b", Arch("gemma3", 34, 8, 4, 256, 256, 2560, 131072, 262208, sliding_window=1024),
              4_300_079_472, "Q4_K_M", int(3.3 * GB), ("completion", "vision")),
)}

# Names Ollama resolves to the same default tags.
ALIASES = {"llama3.2": "llama3.2:3b", "llama3.2:latest": "llama3.2:3b", "qwen2.5": "qwen2.5:7b",
           "qwen2.5:latest": "qwen2.5:7b", "phi3": "phi3:mini", "phi3:latest": "phi3:mini",
           "phi3:3.8b": "phi3:mini", "mistral": "mistral:7b", "mistral:latest": "mistral:7b",
           "llama3.1": "llama3.1:8b", "llama3.1:latest": "llama3.1:8b", "gemma3": "gemma3:4b",
           "gemma3:latest": "gemma3:4b"}


def lookup(name: str) -> ModelSpec | None:
    """The catalog entry for a tag, accepting the short names Ollama accepts."""
    key = name.strip().lower().removeprefix("library/")
    return CATALOG.get(ALIASES.get(key, key))
