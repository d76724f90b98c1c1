"""`llmos models` as a person runs it: a real process, the real ollama client, Ollama's wire format replayed
on loopback. Detection is this machine's (no GPU here), so GPU cases use the --vram-mib what-if."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write_user_config
from tests.llm_server import free_port
from tests.ollama_wire import PULL_LLAMA32_3B, OllamaReplay

# The real entry point (`llmos.entry.main`: exit codes, error messages) with the sub-app mounted as `models`,
# as llmos/cli/__init__.py registers it; the mount is skipped once it is registered there.
RUNNER = """
import sys
import llmos.cli as cli
from llmos.cli import models_cmd
if not any(g.name == "models" for g in cli.app.registered_groups):
    cli.app.add_typer(models_cmd.app, name="models")
sys.argv[0] = "llmos"
from llmos.entry import main
main()
"""


def llmos(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", RUNNER, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "120"})


def as_json(out: subprocess.CompletedProcess) -> Any:
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.fixture
def ollama(monkeypatch: pytest.MonkeyPatch) -> OllamaReplay:
    with OllamaReplay() as server:
        monkeypatch.setenv("OLLAMA_HOST", server.url)
        yield server


def test_list_as_json_with_a_what_if_card(ollama: OllamaReplay) -> None:
    data = as_json(llmos("models", "--json", "--vram-mib", "4096"))
    assert data["machine"]["hypothetical"] and data["machine"]["gpus"][0]["total_bytes"] == 4096 * 1024 * 1024
    rows = {m["model"]: m for m in data["models"]}
    installed = [m["model"] for m in data["models"] if m["installed"]]
    assert installed == ["llama3.2:3b", "llama3.2:1b", "deepseek-r1:1.5b", "nomic-embed-text:latest"]
    assert not rows["llama3.1:8b"]["installed"] and rows["llama3.1:8b"]["source"] == "catalog"
    assert "llama3.2:3b" in rows and len([m for m in data["models"] if m["model"] == "llama3.2:3b"]) == 1
    three = rows["llama3.2:3b"]
    assert (three["source"], three["quantization"], three["size_bytes"], three["tools"]) == (
        "ollama", "Q4_K_M", 2019393189, True)
    assert three["estimate"]["num_ctx"] == 8192 and three["verdict"] == "fits on GPU"
    assert rows["llama3.1:8b"]["verdict"].startswith("partial: ")
    assert data["choice"]["model"] == "llama3.2:3b" and data["choice"]["device"] == "gpu"


def test_list_as_a_table(ollama: OllamaReplay) -> None:
    out = llmos("models", "--vram-mib", "4096")
    assert out.returncode == 0, out.stderr
    assert "what-if 4096 MiB GPU" in out.stdout and "Picker llama3.2:3b · ctx 8192 · 29/29 layers on GPU" in out.stdout
    assert "● llama3.2:3b" in out.stdout and "  qwen2.5:7b" in out.stdout and "fits on GPU" in out.stdout


def test_fit_explains_one_estimate(ollama: OllamaReplay) -> None:
    data = as_json(llmos("models", "fit", "llama3.2:3b", "--ctx", "4096", "--vram-mib", "3696", "--json"))
    e = data["estimate"]
    assert e["kv_cache_bytes"] == 469_762_048  # 4096 × 28 × 8 × (128+128) × 2
    assert e["weights_bytes"] == 2019393189 and e["fits"] and e["gpu_layers"] == e["total_layers"] == 29
    assert data["architecture"]["key_length"] == 128 and data["source"] == "ollama"
    assert [x["num_ctx"] for x in data["by_context"]] == [2048, 4096, 8192, 16384, 32768]
    assert [x["fits"] for x in data["by_context"]] == [True, True, False, False, False]
    text = llmos("models", "fit", "llama3.2:3b", "--ctx", "4096", "--vram-mib", "3696")
    assert text.returncode == 0 and "4096 × 28 layers × 8 KV heads × (128+128) × f16" in text.stdout


def test_fit_a_catalog_model_that_is_not_installed(ollama: OllamaReplay) -> None:
    data = as_json(llmos("models", "fit", "llama3.1:8b", "--vram-mib", "4096", "--json"))
    assert not data["installed"] and data["source"] == "catalog"
    assert data["estimate"]["device"] == "partial" and 0 < data["estimate"]["gpu_layers"] < 33


def test_fit_an_unknown_model_is_a_usage_error(ollama: OllamaReplay) -> None:
    out = llmos("models", "fit", "no-such-model:13b")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "unknown model 'no-such-model:13b'" in out.stderr and "llama3.2:3b" in out.stderr


def test_recommend_for_a_4_gb_card(ollama: OllamaReplay) -> None:
    data = as_json(llmos("models", "recommend", "--vram-mib", "4096", "--json"))
    recs = {r["tier"]: r for r in data["recommendations"]}
    assert (recs["default"]["model"], recs["default"]["installed"]) == ("llama3.2:3b", True)
    assert (recs["reasoning"]["model"], recs["reasoning"]["installed"]) == ("qwen3:4b", False)
    assert all(r["device"] == "gpu" for r in recs.values())
    text = llmos("models", "recommend", "--vram-mib", "4096")
    assert text.returncode == 0 and "llmos models pull qwen3:4b" in text.stdout
    assert "llmos models pull llama3.2:3b" not in text.stdout  # installed already


def test_pull_streams_progress(ollama: OllamaReplay) -> None:
    ollama.add_pull(PULL_LLAMA32_3B)
    out = llmos("models", "pull", "llama3.2:3b")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "pulled llama3.2:3b"
    for status in ("pulling manifest", "verifying sha256 digest", "writing manifest", "success"):
        assert status in out.stderr
    (request,) = [r for r in ollama.requests if r.path == "/api/pull"]
    assert request.json()["model"] == "llama3.2:3b" and request.json()["stream"] is True


def test_pull_error_from_ollama(ollama: OllamaReplay) -> None:
    ollama.add_pull([{"status": "pulling manifest"}, {"error": "pull model manifest: file does not exist"}])
    out = llmos("models", "pull", "no-such-model:13b")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "pull no-such-model:13b: pull model manifest: file does not exist" in out.stderr


def test_without_ollama_the_catalog_still_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{free_port()}")
    data = as_json(llmos("models", "--json"))
    assert data["ollama_error"] == "connection refused (is `ollama serve` running?)"
    assert data["choice"]["model"] is None and not any(m["installed"] for m in data["models"])
    assert len(data["models"]) == 12  # the catalog
    assert llmos("models", "pull", "llama3.2:3b").returncode == 1


def test_bad_picker_config_exits_2_naming_file_and_key(isolated_home: Path, ollama: OllamaReplay) -> None:
    path = write_user_config(isolated_home, "picker:\n  num_ctx: lots\n")
    out = llmos("models")
    assert out.returncode == 2 and f"{path}:2" in out.stderr and "picker.num_ctx" in out.stderr


def test_pinned_model_is_shown_with_its_warning(isolated_home: Path, ollama: OllamaReplay) -> None:
    write_user_config(isolated_home, "picker:\n  model: llama3.1:8b\n")
    data = as_json(llmos("models", "--json", "--vram-mib", "4096"))
    assert data["choice"]["model"] == "llama3.1:8b" and data["choice"]["pinned"]
    assert any("does not fit" in w for w in data["choice"]["warnings"])
