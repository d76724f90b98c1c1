"""The router sends Ollama the model and num_ctx the VRAM-aware picker chose (wire format replayed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from llmos.config import load_config
from llmos.picker import survey_sync
from tests.conftest import servers_config, write_user_config
from tests.ollama_wire import OllamaReplay
from tests.scripted_model import ollama_text



def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "llmos", "run", "--json", *args], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ), stdin=subprocess.DEVNULL)


def test_ollama_gets_the_pickers_model_and_context(isolated_home: Path) -> None:
    with OllamaReplay() as ollama:
        ollama.add("POST", "/api/chat", ollama_text("Hi there."))
        write_user_config(isolated_home, "providers:\n  claude: {enabled: false}\n  openai: {enabled: false}\n"
                          f"  ollama:\n    base_url: {ollama.url}\n" + servers_config())
        expected = survey_sync(load_config()).choose("fast", tools=False)  # "hello" is a simple request
        out = run("hello")
        assert out.returncode == 0, out.stderr
        chat = next(r.json() for r in ollama.requests if r.path == "/api/chat")
    assert expected.model is not None
    assert chat["model"] == expected.model and json.loads(out.stdout)["model"] == expected.model
    assert chat["options"]["num_ctx"] == expected.num_ctx


def test_an_explicit_model_wins_over_the_picker(isolated_home: Path) -> None:
    with OllamaReplay() as ollama:
        ollama.add("POST", "/api/chat", ollama_text("Hi."))
        write_user_config(isolated_home, "providers:\n  claude: {enabled: false}\n  openai: {enabled: false}\n"
                          f"  ollama:\n    base_url: {ollama.url}\n    num_ctx: 3072\n" + servers_config())
        out = run("--model", "deepseek-r1:1.5b", "hello")
        assert out.returncode == 0, out.stderr
        chat = next(r.json() for r in ollama.requests if r.path == "/api/chat")
    assert chat["model"] == "deepseek-r1:1.5b"
    assert chat["options"]["num_ctx"] == 3072  # not the picker's context for another model: the config's
