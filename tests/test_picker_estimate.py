"""Memory estimates checked against numbers worked out by hand from published architectures, and against the
metadata of the real SmolLM2-135M GGUF file read with the `gguf` package."""

from __future__ import annotations

from pathlib import Path

import pytest
from gguf import GGUFReader

from llmos.picker.catalog import CATALOG, lookup
from llmos.picker.estimate import (GPU_RESERVE_BYTES, MIB, Arch, ModelSpec, arch_from_kv, estimate, graph_bytes,
                                   kv_cache_bytes, spec_from_gguf, spec_from_model_info)
from tests.llm_server import model_path
from tests.ollama_wire import SHOWS

# Published architectures, typed from each model's config.json on the Hugging Face hub (not from the
# catalog under test): (layers, heads, KV heads, head size, embedding, max context).
PUBLISHED = {
    "llama3.2:1b": (16, 32, 8, 64, 2048, 131072),  # meta-llama/Llama-3.2-1B-Instruct
    "llama3.2:3b": (28, 24, 8, 128, 3072, 131072),  # meta-llama/Llama-3.2-3B-Instruct
    "qwen2.5:0.5b": (24, 14, 2, 64, 896, 32768),  # Qwen/Qwen2.5-0.5B-Instruct
    "qwen2.5:1.5b": (28, 12, 2, 128, 1536, 32768),  # Qwen/Qwen2.5-1.5B-Instruct
    "qwen2.5:3b": (36, 16, 2, 128, 2048, 32768),  # Qwen/Qwen2.5-3B-Instruct
    "qwen2.5:7b": (28, 28, 4, 128, 3584, 32768),  # Qwen/Qwen2.5-7B-Instruct
    "phi3:mini": (32, 32, 32, 96, 3072, 131072),  # microsoft/Phi-3-mini-128k-instruct: no GQA
    "deepseek-r1:1.5b": (28, 12, 2, 128, 1536, 131072),  # deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B
    "mistral:7b": (32, 32, 8, 128, 4096, 32768),  # mistralai/Mistral-7B-Instruct-v0.3
    "llama3.1:8b": (32, 32, 8, 128, 4096, 131072),  # meta-llama/Llama-3.1-8B-Instruct
    "qwen3:4b": (36, 32, 8, 128, 2560, 262144),  # Qwen/Qwen3-4B-Thinking-2507: head_dim 128, not 2560/32
    "gemma3:4b": (34, 8, 4, 256, 2560, 131072),  # google/gemma-3-4b-it: head_dim 256, not 2560/8
}

# f16 KV cache bytes at 2048 / 4096 / 8192 tokens, worked out by hand:
# tokens × layers × KV heads × (key + value head size) × 2 bytes.
KV_F16 = {
    # 16 × 8 × (64+64) × 2 = 32,768 B a token
    "llama3.2:1b": (67_108_864, 134_217_728, 268_435_456),
    # 28 × 8 × (128+128) × 2 = 114,688 B a token
    "llama3.2:3b": (234_881_024, 469_762_048, 939_524_096),
    # 24 × 2 × (64+64) × 2 = 12,288 B a token
    "qwen2.5:0.5b": (25_165_824, 50_331_648, 100_663_296),
    # 28 × 2 × (128+128) × 2 = 28,672 B a token
    "qwen2.5:1.5b": (58_720_256, 117_440_512, 234_881_024),
    # 36 × 2 × 256 × 2 = 36,864 B a token
    "qwen2.5:3b": (75_497_472, 150_994_944, 301_989_888),
    # 28 × 4 × 256 × 2 = 57,344 B a token
    "qwen2.5:7b": (117_440_512, 234_881_024, 469_762_048),
    # 32 × 32 × (96+96) × 2 = 393,216 B a token: without GQA a 3.8B model caches 12× what llama3.2:1b does
    "phi3:mini": (805_306_368, 1_610_612_736, 3_221_225_472),
    "deepseek-r1:1.5b": (58_720_256, 117_440_512, 234_881_024),  # same attention as qwen2.5:1.5b
    # 32 × 8 × 256 × 2 = 131,072 B a token
    "mistral:7b": (268_435_456, 536_870_912, 1_073_741_824),
    "llama3.1:8b": (268_435_456, 536_870_912, 1_073_741_824),
    # 36 × 8 × (128+128) × 2 = 147,456 B a token (with 2560/32 = 80 it would wrongly be 92,160)
    "qwen3:4b": (301_989_888, 603_979_776, 1_207_959_552),
    # Sliding window: layers 5, 11, 17, 23, 29 are global (every 6th), the other 29 keep window 1024 +
    # batch 512 = 1536 cells; a cell of one layer is 4 × (256+256) × 2 = 4,096 B.
    # 2k: (5×2048 + 29×1536) × 4096; 4k: (5×4096 + 29×1536) × 4096; 8k: (5×8192 + 29×1536) × 4096
    "gemma3:4b": (224_395_264, 266_338_304, 350_224_384),
}


def test_the_catalog_covers_the_usual_small_models() -> None:
    assert set(CATALOG) == set(PUBLISHED)
    assert lookup("llama3.2") is CATALOG["llama3.2:3b"] and lookup("phi3:latest") is CATALOG["phi3:mini"]
    assert lookup("no-such-model:7b") is None


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_catalog_architecture_matches_the_published_config(name: str) -> None:
    layers, heads, kv_heads, head, embedding, ctx = PUBLISHED[name]
    a = CATALOG[name].arch
    assert (a.block_count, a.head_count, a.head_count_kv, a.key_length, a.value_length, a.embedding_length,
            a.context_length) == (layers, heads, kv_heads, head, head, embedding, ctx)


def test_default_quantizations_are_ollamas() -> None:
    quants = {name: spec.quant for name, spec in CATALOG.items()}
    assert quants["llama3.2:1b"] == "Q8_0"  # not Q4: the 1B default tag is 8-bit (1.3 GB)
    assert quants["phi3:mini"] == "Q4_0"
    assert all(q == "Q4_K_M" for n, q in quants.items() if n not in ("llama3.2:1b", "phi3:mini"))
    assert not CATALOG["phi3:mini"].tools and not CATALOG["gemma3:4b"].tools and CATALOG["qwen3:4b"].tools


@pytest.mark.parametrize("name", sorted(KV_F16))
def test_kv_cache_at_2k_4k_8k_matches_hand_arithmetic(name: str) -> None:
    arch = CATALOG[name].arch
    assert tuple(kv_cache_bytes(arch, ctx) for ctx in (2048, 4096, 8192)) == KV_F16[name]


def test_quantized_kv_cache_uses_ggml_block_sizes() -> None:
    # 4096 × 28 × 8 × 256 = 234,881,024 cached values (469,762,048 B at f16's 2 B each)
    arch = CATALOG["llama3.2:3b"].arch
    assert kv_cache_bytes(arch, 4096, "q8_0") == 234_881_024 * 34 // 32 == 249_561_088  # 34 B per 32 values
    assert kv_cache_bytes(arch, 4096, "q4_0") == 234_881_024 * 18 // 32 == 132_120_576  # 18 B per 32 values


def test_compute_graph_of_llama32_3b_at_4k_follows_ollamas_formula() -> None:
    # b=512, e=3072, h=24, head=128, kv heads 8, vocab 128256, ctx 4096:
    # full    = max(4b(1 + 4e + c(1+h)), 4b(e + v)) = max(234,883,072, 268,959,744)
    # partial = 4be + max(4b(1+e+c) + e²·9/16 + 4c(b·h + 128·8), 4b(e+v) + e·v·105/128)
    #         = 6,291,456 + max(238,094,336, 268,959,744 + 323,205,120)
    arch = CATALOG["llama3.2:3b"].arch
    assert graph_bytes(arch, 4096, KV_F16["llama3.2:3b"][1]) == (598_456_320, 268_959_744)


def test_architectures_without_a_formula_use_ollamas_gqa_fallback() -> None:
    # phi3 (no GQA, ratio 1) at 4096: KV / 6; qwen3 (32/8 = 4) at 4096: 4 × KV / 6
    assert graph_bytes(CATALOG["phi3:mini"].arch, 4096, 1_610_612_736) == (268_435_456, 268_435_456)
    assert graph_bytes(CATALOG["qwen3:4b"].arch, 4096, 603_979_776) == (402_653_184, 402_653_184)


def test_a_model_fits_when_weights_kv_graph_and_reserve_fit() -> None:
    spec = CATALOG["llama3.2:3b"]
    e = estimate(spec, 4096, gpu_free_bytes=(4096 - 400) * MIB)  # 4 GB RTX 3050, a browser holds 400 MiB
    assert e.fits and e.device == "gpu" and e.gpu_layers == e.total_layers == 29  # 28 blocks + output
    assert e.kv_bytes == 469_762_048 and e.graph_bytes == 598_456_320
    # the reserve is Ollama's 457 MiB minimum plus one layer (weights ÷ 28 + KV ÷ 28) as a buffer
    assert GPU_RESERVE_BYTES < e.reserve_bytes < GPU_RESERVE_BYTES + spec.weights_bytes // 28 + 469_762_048 // 28
    assert e.need_bytes == spec.weights_bytes + e.kv_bytes + e.graph_bytes + e.reserve_bytes
    # one byte less than needed and the output layer no longer fits
    short = estimate(spec, 4096, gpu_free_bytes=e.need_bytes - 1)
    assert not short.fits and short.gpu_layers < 29


def test_partial_offload_counts_layers_and_slowdown_by_hand() -> None:
    # 10 layers; 1100 MiB of weights of which 100 MiB output: 100 MiB a layer. KV at 4096 f16:
    # 4096 × 10 × 8 × 256 × 2 = 160 MiB, 16 MiB a layer. A layer costs 116 MiB; held back: 457 + 116 MiB.
    # Graph (llama, e=1024, h=8, v=32000): partial 2,097,152 + max(94,963,712, 94,513,152) = 97,060,864.
    arch = Arch("llama", 10, 8, 8, 128, 128, 1024, 8192, 32000)
    spec = ModelSpec("toy", arch, 1_000_000_000, "Q4_0", 1100 * MIB, output_bytes=100 * MIB)
    free = (457 + 116) * MIB + 97_060_864 + int(5.5 * 116 * MIB)
    e = estimate(spec, 4096, gpu_free_bytes=free)
    assert (e.kv_bytes, e.graph_bytes) == (160 * MIB, 97_060_864)
    assert e.device == "partial" and e.gpu_layers == 5 and e.total_layers == 11
    # decode reads 500 MiB at GPU speed and 600 MiB at 1/6 of it: (500 + 6 × 600) / 1100 = 3.73
    assert e.slowdown == 3.73
    nothing = estimate(spec, 4096, gpu_free_bytes=(457 + 116) * MIB + 97_060_864)
    assert nothing.device == "cpu" and nothing.gpu_layers == 0 and nothing.slowdown == 6.0
    more = [estimate(spec, 4096, gpu_free_bytes=free + i * 116 * MIB).gpu_layers for i in range(7)]
    assert more == [5, 6, 7, 8, 9, 10, 11]  # each extra layer's worth of memory places one more


def test_without_a_gpu_the_estimate_is_against_ram() -> None:
    e = estimate(CATALOG["llama3.1:8b"], 8192, gpu_free_bytes=None, ram_free_bytes=16 * 1024 * MIB)
    assert e.device == "cpu" and e.fits and e.slowdown is None and e.reserve_bytes == 0
    assert e.free_bytes == 15 * 1024 * MIB  # 1 GiB left for everything else
    tight = estimate(CATALOG["llama3.1:8b"], 8192, gpu_free_bytes=None, ram_free_bytes=4 * 1024 * MIB)
    assert not tight.fits


def test_api_show_model_info_gives_the_catalog_numbers() -> None:
    show = SHOWS["llama3.2:3b"]
    spec = spec_from_model_info("llama3.2:3b", 2019393189, show["model_info"], show["capabilities"],
                                show["details"]["quantization_level"])
    assert spec.arch == CATALOG["llama3.2:3b"].arch
    assert spec.params == 3212749888 and spec.tools and spec.quant == "Q4_K_M" and spec.source == "ollama"
    # deepseek-r1's qwen2 metadata has no key_length: the head size is embedding ÷ heads = 1536 / 12
    r1 = SHOWS["deepseek-r1:1.5b"]
    arch = arch_from_kv(r1["model_info"])
    assert (arch.key_length, arch.value_length, arch.vocab_size) == (128, 128, 0)
    assert kv_cache_bytes(arch, 4096) == KV_F16["deepseek-r1:1.5b"][1]


def test_incomplete_metadata_is_reported() -> None:
    with pytest.raises(ValueError, match="llama.block_count"):
        arch_from_kv({"general.architecture": "llama", "llama.attention.head_count": 8,
                      "llama.embedding_length": 512})


@pytest.fixture(scope="module")
def smollm2() -> tuple[Path, GGUFReader]:
    path = model_path()
    return path, GGUFReader(path)


def test_real_gguf_metadata_read_with_gguf(smollm2: tuple[Path, GGUFReader]) -> None:
    path, reader = smollm2
    fields = {k: reader.fields[k].contents() for k in (
        "general.architecture", "llama.block_count", "llama.attention.head_count", "llama.attention.head_count_kv",
        "llama.embedding_length", "llama.context_length")}
    assert "llama.attention.key_length" not in reader.fields  # so the head size is 576 / 9 = 64
    spec = spec_from_gguf(path, "smollm2")
    a = spec.arch
    assert (a.name, a.block_count, a.head_count, a.head_count_kv, a.embedding_length, a.context_length) == (
        fields["general.architecture"], fields["llama.block_count"], fields["llama.attention.head_count"],
        fields["llama.attention.head_count_kv"], fields["llama.embedding_length"], fields["llama.context_length"])
    assert (a.block_count, a.head_count, a.head_count_kv, a.key_length) == (30, 9, 3, 64)
    assert a.vocab_size == len(reader.fields["tokenizer.ggml.tokens"].data) == 49152
    assert spec.quant == "Q4_1" and 130e6 < spec.params < 140e6  # SmolLM2-135M
    tensors = {t.name: int(t.n_bytes) for t in reader.tensors}
    assert spec.weights_bytes == sum(tensors.values()) and spec.weights_bytes <= path.stat().st_size
    # tied embeddings: no output.weight, the token embedding is the output layer
    assert "output.weight" not in tensors
    assert spec.output_bytes == tensors["token_embd.weight"] + tensors["output_norm.weight"]


def test_real_gguf_estimate_by_hand(smollm2: tuple[Path, GGUFReader]) -> None:
    spec = spec_from_gguf(smollm2[0])
    # 30 layers × 3 KV heads × (64+64) × 2 B = 23,040 B a token
    assert [kv_cache_bytes(spec.arch, c) for c in (2048, 4096, 8192)] == [47_185_920, 94_371_840, 188_743_680]
    # llama full graph at 2048: max(4·512·(1 + 4·576 + 2048·10), 4·512·(576 + 49152)) = 101,842,944
    assert graph_bytes(spec.arch, 2048, 47_185_920)[1] == 101_842_944
    e = estimate(spec, 2048, gpu_free_bytes=None, ram_free_bytes=8 * 1024 * MIB)
    assert e.need_bytes == spec.weights_bytes + 47_185_920 + 101_842_944 and e.fits
