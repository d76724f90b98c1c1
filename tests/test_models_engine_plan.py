"""The picker's choice for the embedded engine (GGUF, n_ctx, GPU layers, threads) on machines read from real
nvidia-smi output, the banner line, models on disk (real GGUF headers) preferred over downloads, pins; and the
packaged GGUF catalog: it parses, says honestly what is pinned, and a damaged one names entry and key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from llmos.models import catalog
from llmos.models.discover import describe
from llmos.picker.choose import Settings
from llmos.picker.detect import GIB, Machine, parse_nvidia_smi
from llmos.picker.embedded import plan_engine, recommend_engine
from tests.hf_hub import tiny_gguf

CACHE = Path(__file__).resolve().parent.parent / ".test-cache" / "models"
QWEN = CACHE / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
SMOLLM = CACHE / "SmolLM2-135M-Instruct.Q4_1.gguf"


def card(total_mib: int, free_mib: int, name: str = "NVIDIA GeForce RTX 3050 Laptop GPU") -> Machine:
    # the line nvidia-smi --query-gpu=index,name,memory.total,memory.used,memory.free,driver_version prints
    gpus = parse_nvidia_smi(f"0, {name}, {total_mib}, {total_mib - free_mib}, {free_mib}, 551.23\n")
    return Machine(tuple(gpus), 16 * GIB, 12 * GIB)


LAPTOP = Machine((), 8 * GIB, 5 * GIB)  # CPU only, 5 GiB of 8 GiB available


@pytest.mark.parametrize(("machine", "threads", "banner"), [
    (LAPTOP, 2, "qwen2.5-1.5b-instruct · ctx 4096 · CPU · 2 threads"),
    (LAPTOP, 4, "qwen2.5-1.5b-instruct · ctx 4096 · CPU · 4 threads"),
    (Machine((), 64 * GIB, 48 * GIB), 16, "qwen2.5-3b-instruct · ctx 4096 · CPU · 16 threads"),  # a workstation
    (card(4096, 3696), 4, "qwen2.5-3b-instruct · ctx 8192 · GPU · 4 threads"),  # RTX 3050 4 GB, browser open
    (card(8192, 7900, "NVIDIA GeForce RTX 4060"), 8, "qwen2.5-7b-instruct · ctx 16384 · GPU · 8 threads"),
    (card(24576, 24000, "NVIDIA GeForce RTX 4090"), 8, "qwen2.5-7b-instruct · ctx 32768 · GPU · 8 threads"),
], ids=["laptop-2-cores", "laptop-4-cores", "workstation-cpu", "rtx3050-4gb", "rtx4060-8gb", "rtx4090"])
def test_the_recommendation_scales_with_the_machine(machine: Machine, threads: int, banner: str) -> None:
    choice = recommend_engine(machine, threads=threads)
    assert choice.banner() == banner
    assert choice.path is None and choice.entry is not None and choice.entry.name == choice.model
    assert choice.choice.estimate is not None and choice.choice.estimate.fits
    if machine.gpus:
        assert choice.gpu_layers == choice.total_layers == choice.entry.arch.block_count + 1
    else:
        assert choice.gpu_layers == 0


def test_threads_default_to_physical_cores() -> None:
    import psutil

    choice = recommend_engine(LAPTOP)
    assert choice.threads == (psutil.cpu_count(logical=False) or 1)


def test_a_partial_offload_is_said_in_the_banner() -> None:
    pool = [catalog.load()["qwen2.5-7b-instruct"]]
    choice = recommend_engine(card(4096, 3696), threads=4, pool=pool)
    assert choice.device == "partial" and 0 < choice.gpu_layers < choice.total_layers
    assert choice.banner() == f"qwen2.5-7b-instruct · ctx 4096 · GPU {choice.gpu_layers}/29 layers · 4 threads"


def test_models_on_disk_come_first_and_the_best_is_chosen(tmp_path: Path) -> None:
    local = [describe(SMOLLM, "SmolLM2-135M-Instruct.Q4_1", "lmstudio"),
             describe(QWEN, "qwen2.5-coder-0.5b-instruct", "hf-cache"),
             describe(tiny_gguf(tmp_path / "tiny.gguf", 64 * 1024), "tiny", "llmos")]  # tools, 0.8M parameters
    choice = plan_engine(LAPTOP, local, threads=2)
    # tools are wanted: the Qwen coder's template has them, SmolLM2's does not
    assert (choice.model, choice.path, choice.installed) == ("qwen2.5-coder-0.5b-instruct", QWEN, True)
    assert choice.banner() == "qwen2.5-coder-0.5b-instruct · ctx 4096 · CPU · 2 threads"
    assert choice.size_bytes == QWEN.stat().st_size
    # without tools the most capable model still wins (0.5B > 135M parameters)
    assert plan_engine(LAPTOP, local[:2], tools=False, threads=2).model == "qwen2.5-coder-0.5b-instruct"


def test_nothing_on_disk_falls_back_to_the_recommendation() -> None:
    choice = plan_engine(LAPTOP, [], threads=2)
    assert choice.model == "qwen2.5-1.5b-instruct" and not choice.installed
    assert choice.to_json()["pull"] == "qwen2.5-1.5b-instruct"


def test_a_pinned_model_is_kept_with_its_context(tmp_path: Path) -> None:
    local = [describe(QWEN, "qwen2.5-coder-0.5b-instruct", "hf-cache")]
    choice = plan_engine(LAPTOP, local, model="qwen2.5-coder-0.5b-instruct", n_ctx=2048, threads=1)
    assert choice.banner() == "qwen2.5-coder-0.5b-instruct · ctx 2048 · CPU · 1 thread" and choice.path == QWEN
    assert choice.choice.pinned
    by_path = plan_engine(LAPTOP, [], model=str(SMOLLM), threads=1)
    assert by_path.path == SMOLLM.resolve() and by_path.installed
    missing = plan_engine(LAPTOP, [], model="qwen2.5-7b-instruct", threads=1, settings=Settings())
    assert missing.path is None and missing.entry is not None and missing.model == "qwen2.5-7b-instruct"
    assert any("is not installed" in w for w in missing.choice.warnings)


# --- the catalog ------------------------------------------------------------------------------------------

def test_the_packaged_catalog() -> None:
    entries = catalog.load()
    wanted = {"qwen2.5-0.5b-instruct", "qwen2.5-1.5b-instruct", "qwen2.5-3b-instruct", "qwen2.5-7b-instruct",
              "qwen2.5-coder-0.5b-instruct", "qwen2.5-coder-1.5b-instruct", "llama-3.2-1b-instruct",
              "llama-3.2-3b-instruct", "smollm2-135m-instruct", "smollm2-1.7b-instruct"}
    assert wanted <= set(entries)
    pinned = {e.name: (e.sha256, e.size_bytes) for e in entries.values() if e.pinned}
    # only the files whose bytes were checked here (assembled from PyPI and hashed) carry a sha256
    assert pinned == {
        "qwen2.5-coder-0.5b-instruct": ("1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
                                        491_400_064),
        "qwen2.5-coder-1.5b-instruct": ("cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
                                        1_117_320_768)}
    assert all(e.size_exact == e.pinned for e in entries.values())
    assert {e.name for e in catalog.recommended()} == {n for n in wanted if n.startswith("qwen2.5-") and "coder"
                                                       not in n}
    assert catalog.get("Qwen2.5-7B-Instruct-Q4_K_M.gguf") is entries["qwen2.5-7b-instruct"]


def test_the_catalog_matches_the_real_files_it_pins() -> None:
    # The local copy of the pinned 0.5B coder has the catalog's size and the architecture the catalog claims.
    e = catalog.load()["qwen2.5-coder-0.5b-instruct"]
    local = describe(QWEN, e.name, "hf-cache")
    assert QWEN.stat().st_size == e.size_bytes and local.spec is not None
    a, b = local.spec.arch, e.arch
    assert (a.name, a.block_count, a.head_count, a.head_count_kv, a.embedding_length, a.context_length) == (
        b.name, b.block_count, b.head_count, b.head_count_kv, b.embedding_length, b.context_length)
    assert (QWEN.parent / "qwen2.5-coder-0.5b-instruct-q4_k_m.sha256").read_text().split()[0] == e.sha256


@pytest.mark.parametrize(("text", "message"), [
    ("nothing: here\n", "expected a top-level `models:` mapping"),
    ("models:\n  x: {title: X}\n", "models.x.tool_format: expected str"),
    ("models:\n  x: {title: X, repo: r, file: f, quant: q, size_bytes: 1, size_exact: false, sha256: ABC,"
     " license: l, context_length: 1, tool_format: none, params: 1, arch: qwen2.5:0.5b}\n",
     "models.x.sha256: expected 64 lowercase hex digits or null"),
    ("models:\n  x: {title: X, repo: r, file: f, quant: q, size_bytes: 1, size_exact: false, sha256: null,"
     " license: l, context_length: 1, tool_format: none, params: 1, arch: nope:1b}\n",
     "models.x.arch: 'nope:1b' is not in llmos/picker/catalog.py"),
    ("models:\n  x: {title: X, repo: r, file: f, quant: q, size_bytes: yes, size_exact: false, sha256: null,"
     " license: l, context_length: 1, tool_format: none, params: 1, arch: qwen2.5:0.5b}\n",
     "models.x.size_bytes: expected int, got True"),
])
def test_a_damaged_catalog_names_entry_and_key(text: str, message: str) -> None:
    with pytest.raises(catalog.CatalogError, match=re.escape(message)):
        catalog.parse(text)


def test_gpu_layers_set_by_hand_change_the_placement() -> None:
    choice = recommend_engine(card(4096, 3696), threads=4)
    total = choice.total_layers
    assert choice.with_gpu_layers(5).banner().endswith(f"· GPU 5/{total} layers · 4 threads")
    assert choice.with_gpu_layers(0).device == "cpu" and choice.with_gpu_layers(999).gpu_layers == total
