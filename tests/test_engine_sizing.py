"""The embedded engine is sized by the model picker (llmos/picker/embedded.py): GGUF, n_ctx, GPU layers and
threads come from its choice unless the config pins them, and the context budgeted for is the one the engine
loads. Real GGUFs from .test-cache/models, found where a person would put them (the llmos models folder)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from llmos.config import load_config
from llmos.llm.messages import ChatRequest, Message
from llmos.llm.providers.embedded import load_engine
from llmos.llm.router import Router
from llmos.picker.embedded import physical_cores
from tests.conftest import write_user_config
from tests.inprocess import llmos
from tests.llm_server import MODELS, model_path

QWEN = MODELS / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
ONLY_EMBEDDED = "providers:\n  ollama: {enabled: false}\n  claude: {enabled: false}\n  openai: {enabled: false}\n"


@pytest.fixture
def models_folder(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The llmos models folder holding the two test models (linked, as `llmos models pull` would store them),
    and a home with no other model stores."""
    if not QWEN.is_file():
        pytest.fail(f"{QWEN} is missing: run scripts/test-models", pytrace=False)
    monkeypatch.setenv("HOME", str(isolated_home))
    folder = isolated_home / "data" / "llm-os" / "models"
    folder.mkdir(parents=True)
    for model in (QWEN, model_path()):
        (folder / model.name).symlink_to(model)
    return folder


def answer(router: Router, text: str = "Say hi.") -> object:
    async def go():
        try:
            await router.prepare(text, tools=True)
            return await router.chat(ChatRequest([Message("user", text)], max_tokens=2))
        finally:
            await router.aclose()

    return asyncio.run(go())


def test_with_nothing_pinned_the_engine_runs_the_pickers_choice(models_folder: Path) -> None:
    write_user_config(models_folder.parents[2], ONLY_EMBEDDED + "  embedded: {threads: 1}\n")
    router = Router(load_config())
    config = router.provider("embedded").config
    plan = router.engine_plan(config)
    # Tools are wanted and only the Qwen coder's template has them: the picker takes it over SmolLM2.
    assert plan.path == QWEN.resolve() and plan.model == "qwen2.5-coder-0.5b-instruct"
    assert plan.banner() == "qwen2.5-coder-0.5b-instruct · ctx 4096 · CPU · 1 thread"
    assert router.context_window(config) == plan.n_ctx == 4096  # what the conversation is budgeted for
    result = answer(router)
    engine = load_engine(plan)  # the process's engine for this plan: the one that answered
    assert result.provider == "embedded" and result.model == plan.model
    assert engine.last_stats.prompt_tokens == result.usage.input_tokens > 0
    assert (engine.n_ctx, engine.backend.n_threads, engine.options.path) == (4096, 1, QWEN.resolve())


def test_threads_default_to_the_physical_cores(models_folder: Path) -> None:
    write_user_config(models_folder.parents[2], ONLY_EMBEDDED + f"  embedded: {{model: {model_path()}}}\n")
    router = Router(load_config())
    plan = router.engine_plan(router.provider("embedded").config)
    assert plan.threads == physical_cores() and plan.path == model_path().resolve()
    engine = load_engine(plan)  # loading only: no generation on every core of a shared machine
    assert engine.backend.n_threads == plan.threads


def test_the_pickers_section_sizes_the_engine(models_folder: Path) -> None:
    write_user_config(models_folder.parents[2], ONLY_EMBEDDED + f"  embedded: {{model: {model_path()}, threads: 1}}\n"
                      "picker: {num_ctx: 3072}\n")
    router = Router(load_config())
    config = router.provider("embedded").config
    result = answer(router)
    plan = router.engine_plan(config)
    assert plan.n_ctx == 3072 and router.context_window(config) == 3072
    assert result.model == plan.model == "SmolLM2-135M-Instruct.Q4_1"
    assert load_engine(plan).n_ctx == 3072


def test_config_values_pin_model_context_and_threads(models_folder: Path) -> None:
    write_user_config(models_folder.parents[2], ONLY_EMBEDDED + f"  embedded:\n    model: {model_path()}\n"
                      "    n_ctx: 2048\n    threads: 1\n    gpu_layers: 0\npicker: {num_ctx: 3072}\n")
    router = Router(load_config())
    config = router.provider("embedded").config
    plan = router.engine_plan(config)
    assert plan.path == model_path().resolve()  # not the Qwen coder the picker would take
    assert (plan.n_ctx, plan.threads, plan.gpu_layers) == (2048, 1, 0) and router.context_window(config) == 2048
    assert plan.banner() == "SmolLM2-135M-Instruct.Q4_1 · ctx 2048 · CPU · 1 thread"
    answer(router)
    engine = load_engine(plan)
    assert (engine.n_ctx, engine.backend.n_threads) == (2048, 1)


def test_a_catalog_name_finds_its_file(models_folder: Path) -> None:
    write_user_config(models_folder.parents[2], ONLY_EMBEDDED + "  embedded: {model: qwen2.5-coder-0.5b-instruct}\n")
    router = Router(load_config())
    plan = router.engine_plan(router.provider("embedded").config)
    assert plan.path == QWEN.resolve() and plan.n_ctx == 4096


def test_gpu_layers_the_binding_cannot_offload_are_not_promised(models_folder: Path) -> None:
    from cyllama.llama import llama_cpp

    assert not llama_cpp.llama_supports_gpu_offload()  # this machine's wheel: CPU only
    write_user_config(models_folder.parents[2], ONLY_EMBEDDED + f"  embedded: {{model: {model_path()}, threads: 1,"
                      " gpu_layers: 10}\n")
    router = Router(load_config())
    plan = router.engine_plan(router.provider("embedded").config)
    assert (plan.gpu_layers, plan.device) == (0, "cpu") and plan.banner().endswith("· CPU · 1 thread")


def test_llmos_models_shows_what_the_config_pins(models_folder: Path) -> None:
    """`llmos models` says what `llmos` will load: the configured file, context, threads and GPU layers."""
    write_user_config(models_folder.parents[2], ONLY_EMBEDDED + f"  embedded:\n    model: {model_path()}\n"
                      "    n_ctx: 2048\n    threads: 1\n    gpu_layers: 0\n")
    done = llmos("models", "--json")
    assert done.returncode == 0, done.stderr
    engine = json.loads(done.stdout)["gguf"]["engine"]
    assert (engine["model"], engine["n_ctx"], engine["threads"], engine["gpu_layers"]) == \
        ("SmolLM2-135M-Instruct.Q4_1", 2048, 1, 0)
    assert engine["banner"] == "SmolLM2-135M-Instruct.Q4_1 · ctx 2048 · CPU · 1 thread"
    table = llmos("models")
    assert "Embedded engine SmolLM2-135M-Instruct.Q4_1 · ctx 2048 · CPU · 1 thread" in " ".join(table.stdout.split())
