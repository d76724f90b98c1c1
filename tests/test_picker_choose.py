"""The picker's choice: a table of machines × installed models, configuration pins, and the survey of a real
ollama client talking to Ollama's wire format replayed on loopback."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from llmos.config import load_config
from llmos.errors import ConfigError
from llmos.picker.catalog import CATALOG
from llmos.picker.choose import LoadedModel, Settings, choose
from llmos.picker.detect import GIB, MIB, Gpu, Machine, Probes
from llmos.picker.estimate import ModelSpec
from llmos.picker.inventory import MetadataCache, cache_path, survey
from tests.conftest import write_user_config
from tests.ollama_wire import LLAMA32_1B_DIGEST, LLAMA32_3B_DIGEST, TAGS, OllamaReplay, ps
from tests.test_picker_detect import NoNvml, tool


def machine(total_mib: int | None, used_mib: int = 0) -> Machine:
    """One NVIDIA card with ``used_mib`` taken by the desktop and other programs; None: no GPU."""
    if total_mib is None:
        return Machine((), 16 * GIB, 12 * GIB)
    gpu = Gpu(0, f"{total_mib} MiB card", "nvidia", total_mib * MIB, (total_mib - used_mib) * MIB, "551.23")
    return Machine((gpu,), 16 * GIB, 12 * GIB)


MACHINES = {
    "none": machine(None),  # CPU only, 12 GiB of 16 GiB RAM available
    "2": machine(2048, 150),  # GTX 1050-class 2 GB
    "4": machine(4096, 400),  # RTX 3050 Laptop 4 GB with a browser holding 400 MiB
    "6": machine(6144, 300),
    "8": machine(8192, 300),
    "12": machine(12288, 300),
    "24": machine(24576, 500),
}
INSTALLED = {
    "seed": ["llama3.2:1b", "llama3.2:3b", "deepseek-r1:1.5b"],  # the seed's tier defaults
    "qwen": ["qwen2.5:0.5b", "qwen2.5:1.5b", "qwen2.5:3b", "qwen2.5:7b"],
    "all": sorted(CATALOG),
    "big": ["llama3.1:8b", "qwen2.5:7b"],  # nothing small
}
# (model, num_ctx, "gpu" | "cpu" | "layers/total") for: default tier with tools, fast with tools, reasoning.
EXPECTED = {
    # No GPU: each tier's size budget for RAM-bandwidth-bound decoding (fast ≤ 1.5, default ≤ 2.5, reasoning
    # ≤ 5 GiB of weights), context capped at 8192 because prompt processing on a CPU is slow.
    ("none", "seed"): [("llama3.2:3b", 8192, "cpu"), ("llama3.2:1b", 8192, "cpu"), ("deepseek-r1:1.5b", 8192, "cpu")],
    ("none", "qwen"): [("qwen2.5:3b", 8192, "cpu"), ("qwen2.5:1.5b", 8192, "cpu"), ("qwen2.5:7b", 8192, "cpu")],
    ("none", "all"): [("llama3.2:3b", 8192, "cpu"), ("qwen2.5:1.5b", 8192, "cpu"), ("qwen3:4b", 8192, "cpu")],
    ("none", "big"): [("qwen2.5:7b", 8192, "cpu"), ("qwen2.5:7b", 8192, "cpu"), ("llama3.1:8b", 8192, "cpu")],
    # 2 GB: llama3.2:1b is a Q8_0 1.3 GB file and does not fit whole with its compute buffers; qwen2.5:0.5b does.
    ("2", "seed"): [("llama3.2:1b", 4096, "13/17"), ("llama3.2:1b", 4096, "13/17"),
                    ("deepseek-r1:1.5b", 4096, "25/29")],
    ("2", "qwen"): [("qwen2.5:0.5b", 16384, "gpu")] * 3,
    ("2", "all"): [("qwen2.5:0.5b", 16384, "gpu")] * 3,
    ("2", "big"): [("llama3.1:8b", 4096, "4/33")] * 3,
    # 4 GB with a browser: llama3.2:3b fits whole at 4096 but not 8192; the reasoning tier takes the thinking
    # model, which fits with a 32k window.
    ("4", "seed"): [("llama3.2:3b", 4096, "gpu"), ("llama3.2:3b", 4096, "gpu"), ("deepseek-r1:1.5b", 32768, "gpu")],
    ("4", "qwen"): [("qwen2.5:3b", 16384, "gpu")] * 3,
    ("4", "all"): [("llama3.2:3b", 4096, "gpu"), ("llama3.2:3b", 4096, "gpu"), ("deepseek-r1:1.5b", 32768, "gpu")],
    # Neither 7-8B model fits and both would be > 3× slower: the least slow partial offload.
    ("4", "big"): [("qwen2.5:7b", 4096, "15/29")] * 3,
    ("6", "seed"): [("llama3.2:3b", 16384, "gpu"), ("llama3.2:3b", 16384, "gpu"), ("deepseek-r1:1.5b", 32768, "gpu")],
    ("6", "qwen"): [("qwen2.5:3b", 32768, "gpu")] * 3,
    ("6", "all"): [("mistral:7b", 4096, "gpu"), ("llama3.2:3b", 16384, "gpu"), ("qwen3:4b", 8192, "gpu")],
    ("6", "big"): [("llama3.1:8b", 4096, "29/33")] * 3,
    ("8", "seed"): [("llama3.2:3b", 32768, "gpu"), ("llama3.2:3b", 32768, "gpu"), ("deepseek-r1:1.5b", 32768, "gpu")],
    ("8", "qwen"): [("qwen2.5:7b", 16384, "gpu"), ("qwen2.5:3b", 32768, "gpu"), ("qwen2.5:7b", 16384, "gpu")],
    ("8", "all"): [("llama3.1:8b", 8192, "gpu"), ("llama3.2:3b", 32768, "gpu"), ("qwen3:4b", 16384, "gpu")],
    ("8", "big"): [("llama3.1:8b", 8192, "gpu")] * 3,
    ("12", "seed"): [("llama3.2:3b", 32768, "gpu"), ("llama3.2:3b", 32768, "gpu"), ("deepseek-r1:1.5b", 32768, "gpu")],
    ("12", "qwen"): [("qwen2.5:7b", 32768, "gpu"), ("qwen2.5:3b", 32768, "gpu"), ("qwen2.5:7b", 32768, "gpu")],
    ("12", "all"): [("llama3.1:8b", 32768, "gpu"), ("llama3.2:3b", 32768, "gpu"), ("qwen3:4b", 32768, "gpu")],
    ("12", "big"): [("llama3.1:8b", 32768, "gpu")] * 3,
    ("24", "seed"): [("llama3.2:3b", 32768, "gpu"), ("llama3.2:3b", 32768, "gpu"), ("deepseek-r1:1.5b", 32768, "gpu")],
    ("24", "qwen"): [("qwen2.5:7b", 32768, "gpu"), ("qwen2.5:3b", 32768, "gpu"), ("qwen2.5:7b", 32768, "gpu")],
    ("24", "all"): [("llama3.1:8b", 32768, "gpu"), ("llama3.2:3b", 32768, "gpu"), ("qwen3:4b", 32768, "gpu")],
    ("24", "big"): [("llama3.1:8b", 32768, "gpu")] * 3,
}
NOMIC = ModelSpec("nomic-embed-text:latest", CATALOG["qwen2.5:0.5b"].arch, 137_000_000, "F16", 274_302_450,
                  ("embedding",), "ollama")


@pytest.mark.parametrize(("machine_name", "installed"), sorted(EXPECTED))
def test_choice_table(machine_name: str, installed: str) -> None:
    specs = [CATALOG[n] for n in INSTALLED[installed]] + [NOMIC]  # an embedding model is never chosen
    got = []
    for tier, tools in (("default", True), ("fast", True), ("reasoning", False)):
        c = choose(specs, MACHINES[machine_name], tier=tier, tools=tools)
        got.append((c.model, c.num_ctx, c.device if c.device != "partial" else f"{c.gpu_layers}/{c.total_layers}"))
        assert c.est_bytes == c.estimate.need_bytes and c.free_bytes == c.estimate.free_bytes  # type: ignore[union-attr]
    assert got == EXPECTED[(machine_name, installed)]


def test_rtx3050_with_a_browser_explains_itself_in_one_line() -> None:
    c = choose([CATALOG[n] for n in INSTALLED["seed"]], MACHINES["4"], tier="default", tools=True)
    assert c.reason == "llama3.2:3b · ctx 4096 · 29/29 layers on GPU · est. 3.4 GiB of 3.6 GiB free"
    assert (c.gpu_layers, c.total_layers, c.device, c.warnings, c.pinned) == (29, 29, "gpu", (), False)
    assert c.free_bytes == 3696 * MIB and c.est_bytes <= c.free_bytes


def test_partial_and_cpu_reasons() -> None:
    big = [CATALOG[n] for n in INSTALLED["big"]]
    partial = choose(big, MACHINES["4"], tools=True)
    assert partial.reason.startswith("qwen2.5:7b · ctx 4096 · 15/29 layers on GPU (≈3.51× slower than all on GPU)")
    cpu = choose(big, MACHINES["none"], tools=True)
    assert cpu.reason.startswith("qwen2.5:7b · ctx 8192 · CPU only (no GPU) · est. ")
    assert cpu.reason.endswith(" GiB of 11.0 GiB RAM available")


def test_tools_preferred_and_missing_tools_warned() -> None:
    no_tools = [CATALOG["phi3:mini"], CATALOG["deepseek-r1:1.5b"]]
    c = choose(no_tools + [CATALOG["qwen2.5:0.5b"]], MACHINES["8"], tools=True)
    assert c.model == "qwen2.5:0.5b"  # the only tool-capable one, though the smallest
    c = choose(no_tools, MACHINES["8"], tools=True)
    assert c.model == "phi3:mini" and any("supports tools" in w for w in c.warnings)


def test_nothing_installed() -> None:
    c = choose([NOMIC], MACHINES["4"], tools=True)
    assert c.model is None and c.device == "none" and "llmos models recommend" in c.reason


def test_pinned_model_is_never_overridden_but_warned() -> None:
    seed = [CATALOG[n] for n in INSTALLED["seed"]]
    c = choose(seed, MACHINES["4"], settings=Settings(model="llama3.1:8b"), catalog=CATALOG)
    assert c.model == "llama3.1:8b" and c.pinned and c.device == "partial"
    assert any("not installed" in w and "llmos models pull llama3.1:8b" in w for w in c.warnings)
    assert any("does not fit in 3.6 GiB free VRAM" in w for w in c.warnings)
    assert c.reason.endswith("· pinned by picker.model")
    unknown = choose(seed, MACHINES["4"], settings=Settings(model="my-finetune:latest"), catalog=CATALOG)
    assert unknown.model == "my-finetune:latest" and unknown.pinned and "no metadata" in unknown.reason
    fine = choose(seed, MACHINES["4"], settings=Settings(model="llama3.2:1b"), catalog=CATALOG)
    assert fine.model == "llama3.2:1b" and fine.warnings == () and fine.device == "gpu"


def test_pinned_context_and_vram_limit() -> None:
    seed = [CATALOG[n] for n in INSTALLED["seed"]]
    # a pinned window is kept: the picker finds the model that fits with it
    c = choose(seed, MACHINES["4"], tools=True, settings=Settings(num_ctx=16384))
    assert (c.model, c.num_ctx, c.device, c.warnings) == ("llama3.2:1b", 16384, "gpu", ())
    c = choose(seed, MACHINES["4"], tools=True, settings=Settings(num_ctx=65536))
    # at 65536 tokens the compute graph alone outgrows the card: CPU, said twice
    assert (c.model, c.num_ctx, c.device) == ("llama3.2:1b", 65536, "cpu")
    assert any(w.startswith("picker.num_ctx 65536 does not fit llama3.2:1b") for w in c.warnings)
    assert "no installed model fits on the GPU: it runs on the CPU" in c.warnings
    c = choose(seed, MACHINES["4"], tools=True, settings=Settings(num_ctx=12288))
    assert (c.model, c.num_ctx, c.device) == ("llama3.2:1b", 12288, "gpu")  # any size, not only the steps
    c = choose(seed, MACHINES["24"], tools=True, settings=Settings(num_ctx=8192))
    assert (c.model, c.num_ctx, c.warnings) == ("llama3.2:3b", 8192, ())
    # a 24 GB card limited to 3000 MiB: plan as if that were all there is
    c = choose(seed, MACHINES["24"], tools=True, settings=Settings(vram_limit_mib=3000))
    assert c.free_bytes == 3000 * MIB and c.model == "llama3.2:1b"
    c = choose(seed, MACHINES["none"], tools=True, settings=Settings(vram_limit_mib=3000))
    assert c.device == "cpu" and any("no GPU was found" in w for w in c.warnings)


def test_a_larger_engine_reserve_changes_the_fit() -> None:
    # llama.cpp's --fit keeps 1 GiB free per device; with that reserve llama3.2:3b no longer fits whole
    seed = [CATALOG[n] for n in INSTALLED["seed"]]
    c = choose(seed, MACHINES["4"], tools=True, settings=Settings(reserve_mib=1024))
    assert c.device != "gpu" or c.model != "llama3.2:3b"


def test_vram_held_by_loaded_models_counts_as_available() -> None:
    busy = machine(4096, 3500)  # Ollama holds llama3.2:1b in VRAM
    seed = [CATALOG[n] for n in INSTALLED["seed"]]
    without = choose(seed, busy, tools=True)
    assert without.device != "gpu"
    loaded = [LoadedModel("llama3.2:1b", LLAMA32_1B_DIGEST, 2_400_000_000, 2_400_000_000, 4096)]
    c = choose(seed, busy, tools=True, loaded=loaded)
    assert c.free_bytes == 596 * MIB + 2_400_000_000 and c.device == "gpu"


def test_a_model_loaded_wholly_on_the_gpu_is_kept_at_its_window() -> None:
    seed = [CATALOG[n] for n in INSTALLED["seed"]]
    # 4 GB card; Ollama holds llama3.2:3b at 4096 using 3.2 GiB, so nvidia-smi shows 98 MiB free. The estimate
    # (3.4 GiB) is above the 3.3 GiB this leaves, but Ollama's own placement proves it fits: keep it.
    held = 3_435_973_837
    busy = machine(4096, 4096 - 98)
    loaded = [LoadedModel("llama3.2:3b", LLAMA32_3B_DIGEST, held, held, 4096)]
    c = choose(seed, busy, tools=True, loaded=loaded)
    assert (c.model, c.num_ctx, c.device, c.gpu_layers) == ("llama3.2:3b", 4096, "gpu", 29)
    assert c.reason == "llama3.2:3b · ctx 4096 · 29/29 layers on GPU · loaded now, 3.2 GiB in VRAM"
    # partly in system RAM (size_vram < size) is no such proof
    split = [LoadedModel("llama3.2:3b", LLAMA32_3B_DIGEST, held, held - 500 * MIB, 4096)]
    assert choose(seed, busy, tools=True, loaded=split).model == "llama3.2:1b"
    # a window below what tool use needs is not kept
    short = [LoadedModel("llama3.2:3b", LLAMA32_3B_DIGEST, held, held, 2048)]
    assert choose(seed, busy, tools=True, loaded=short).model == "llama3.2:1b"
    # a larger window than the steps (someone ran it with num_ctx 65536) is kept rather than shrunk
    big = 10 * GIB
    c = choose(seed, machine(24576, 500 + big // MIB), tools=True,
               loaded=[LoadedModel("llama3.2:3b", LLAMA32_3B_DIGEST, big, big, 65536)])
    assert (c.model, c.num_ctx) == ("llama3.2:3b", 65536)
    # but a larger window that fits wins over a smaller loaded one (one reload, then more room)
    c = choose(seed, machine(24576, 500 + held // MIB), tools=True, loaded=loaded)
    assert (c.model, c.num_ctx, c.estimate.loaded_bytes) == ("llama3.2:3b", 32768, None)  # type: ignore[union-attr]


def test_settings_are_validated_naming_file_line_and_key(isolated_home: Path) -> None:
    path = write_user_config(isolated_home, "picker:\n  model: llama3.2:3b\n  num_ctx: big\n")
    with pytest.raises(ConfigError) as info:  # the config schema catches the type, with file and line
        load_config()
    assert f"{path}:3: picker.num_ctx: expected a whole number or null, got 'big' (a str)" in str(info.value)
    write_user_config(isolated_home, "picker:\n  model: llama3.2:3b\n  num_ctx: 100\n")
    with pytest.raises(ConfigError) as info:  # the picker's own check: the range
        Settings.from_config(load_config())
    assert str(info.value) == (f"user ({path}:3): picker.num_ctx: expected a whole number ≥ 256, or null, "
                               "got 100 (an int)")
    write_user_config(isolated_home, "picker:\n  kv_cache_type: q5_1\n")
    with pytest.raises(ConfigError, match="picker.kv_cache_type: expected one of f16, q8_0, q4_0"):
        load_config()
    write_user_config(isolated_home, "picker:\n  vram_limit_mib: true\n")
    with pytest.raises(ConfigError, match="picker.vram_limit_mib"):
        load_config()
    write_user_config(isolated_home, "picker:\n  modle: x\n  num_ctx: 8192\n  reserve_mib: 1024\n")
    s = Settings.from_config(load_config())
    assert (s.num_ctx, s.reserve_mib, s.model) == (8192, 1024, None)
    assert s.warnings == ("picker.modle: unknown key (known here: model, num_ctx, vram_limit_mib, kv_cache_type, "
                          "reserve_mib)",)


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMOS_PICKER__NUM_CTX", "8192")
    monkeypatch.setenv("LLMOS_PICKER__MODEL", "qwen2.5:3b")
    s = Settings.from_config(load_config())
    assert (s.num_ctx, s.model) == (8192, "qwen2.5:3b")


# --- the survey: a real ollama client against Ollama's wire format on loopback ----------------------------

@pytest.fixture
def rtx3050(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Probes:
    """This machine as a 4 GB RTX 3050 Laptop with ``used`` MiB taken: a real nvidia-smi-shaped process."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    tool(bin_dir, "nvidia-smi", "0, NVIDIA GeForce RTX 3050 Laptop GPU, 4096, 3850, 98, 551.23\n")
    return Probes(sysfs=tmp_path / "no-drm", platform="linux", nvml=NoNvml(), ram=lambda: (16 * GIB, 12 * GIB))


def test_survey_reads_tags_show_and_ps_and_caches_by_digest(monkeypatch: pytest.MonkeyPatch, rtx3050: Probes) -> None:
    # Ollama holds llama3.2:3b in 3.2 GiB of VRAM at ctx 4096; nvidia-smi shows only 98 MiB free.
    with OllamaReplay(loaded=ps(("llama3.2:3b", 3_435_973_837, 4096))) as server:
        monkeypatch.setenv("OLLAMA_HOST", server.url)
        s = asyncio.run(survey(load_config(), probes=rtx3050))
        assert s.ollama_error is None and s.ollama_url == server.url
        assert [m.name for m in s.installed] == ["llama3.2:3b", "llama3.2:1b", "deepseek-r1:1.5b",
                                                 "nomic-embed-text:latest"]
        assert sorted(json.loads(r.body)["model"] for r in server.requests if r.path == "/api/show") == sorted(
            ["llama3.2:3b", "llama3.2:1b", "deepseek-r1:1.5b", "nomic-embed-text:latest"])
        assert s.spec_for("llama3.2") is s.installed[0]  # Ollama's short name for the installed llama3.2:3b
        spec_8b = s.spec_for("llama3.1")
        assert spec_8b is not None and spec_8b.source == "catalog"
        r1 = s.spec_for("deepseek-r1:1.5b")
        assert r1 is not None and r1.thinking and not r1.tools and r1.weights_bytes == 1117322768
        assert s.loaded == [LoadedModel("llama3.2:3b", LLAMA32_3B_DIGEST, 3_435_973_837, 3_435_973_837, 4096)]
        c = s.choose("default", tools=True)
        # 98 MiB free, but Ollama holds llama3.2:3b wholly on the GPU: it stays, at its window
        assert (c.model, c.num_ctx, c.device) == ("llama3.2:3b", 4096, "gpu") and "loaded now" in c.reason
        assert s.choose("reasoning").model == "deepseek-r1:1.5b"
        cached = json.loads(cache_path().read_text())
        assert cached["version"] == 1 and LLAMA32_3B_DIGEST in cached["models"]
        assert cached["models"][LLAMA32_3B_DIGEST]["model_info"]["llama.attention.key_length"] == 128
        assert "license" not in json.dumps(cached)  # only what the estimate reads is kept

        before = len(server.requests)
        again = asyncio.run(survey(load_config(), probes=rtx3050))
        assert sorted(r.path for r in server.requests[before:]) == ["/api/ps", "/api/tags"]  # warm: no /api/show
        assert [m.name for m in again.installed] == [m.name for m in s.installed]


def test_cache_drops_uninstalled_models_and_survives_damage(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cache_path().parent.mkdir(parents=True, exist_ok=True)
    cache_path().write_text("{not json")
    assert MetadataCache().entries == {}
    only_1b = {"models": [m for m in TAGS["models"] if m["name"] == "llama3.2:1b"]}
    with OllamaReplay(tags=only_1b) as server:
        monkeypatch.setenv("OLLAMA_HOST", server.url)
        cache = MetadataCache()
        cache.put("0" * 64, {"model_info": {}, "capabilities": []})  # a model removed since
        asyncio.run(survey(load_config(), probes=Probes(nvml=NoNvml(), which=lambda n: None,
                                                        sysfs=tmp_path / "none"), cache=cache))
    assert list(json.loads(cache_path().read_text())["models"]) == [LLAMA32_1B_DIGEST]


def test_unreachable_ollama(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tests.llm_server import free_port

    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{free_port()}")
    s = asyncio.run(survey(load_config(), probes=Probes(nvml=NoNvml(), which=lambda n: None, sysfs=tmp_path)))
    assert s.installed == [] and s.ollama_error == "connection refused (is `ollama serve` running?)"
    c = s.choose("default", tools=True)
    assert c.model is None and c.reason.startswith(f"Ollama is not reachable at {s.ollama_url}")


def test_a_model_the_person_chose_is_kept(isolated_home: Path, monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    write_user_config(isolated_home, "providers:\n  ollama:\n    models:\n      default: deepseek-r1:1.5b\n")
    probes = Probes(nvml=NoNvml(), which=lambda n: None, sysfs=tmp_path)
    with OllamaReplay() as server:
        monkeypatch.setenv("OLLAMA_HOST", server.url)
        s = asyncio.run(survey(load_config(), probes=probes, vram_mib=4096))
        c = s.choose("default", tools=True)
        assert (c.model, c.pinned) == ("deepseek-r1:1.5b", True)
        assert c.reason.endswith("· pinned by providers.ollama.models.default")
        assert c.warnings == ("providers.ollama.models.default deepseek-r1:1.5b does not support tools "
                              "(Ollama capabilities): tool calls may fail",)
        assert not s.choose("fast", tools=True).pinned  # the built-in fast model is only a default
        monkeypatch.setenv("LLMOS_MODEL", "llama3.2:1b")  # --model / LLMOS_MODEL: every tier
        s = asyncio.run(survey(load_config(), probes=probes, vram_mib=4096))
    assert {t: s.choose(t).model for t in ("fast", "default", "reasoning")} == dict.fromkeys(
        ("fast", "default", "reasoning"), "llama3.2:1b")
    assert s.choose("fast").reason.endswith("· pinned by router.model")


def test_a_server_that_is_not_ollama(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tests.replay_server import ReplayServer

    with ReplayServer() as server:  # answers 404 to everything, as an OpenAI-compatible server would
        monkeypatch.setenv("OLLAMA_HOST", server.url)
        s = asyncio.run(survey(load_config(), probes=Probes(nvml=NoNvml(), which=lambda n: None, sysfs=tmp_path)))
    # /api/tags and /api/ps are asked together: either 404 may be the one reported
    assert s.installed == [] and s.ollama_error and "no replay for GET /api/" in s.ollama_error


def test_an_ollama_that_is_remote_is_noted(isolated_home: Path, tmp_path: Path) -> None:
    write_user_config(isolated_home, "providers:\n  ollama:\n    base_url: http://192.0.2.1:11434\n")
    from llmos.picker.inventory import ollama_client

    client, url, notes = ollama_client(load_config())
    assert client is not None and url == "http://192.0.2.1:11434"
    assert notes and "not on this machine" in notes[0]
    asyncio.run(client.close())
