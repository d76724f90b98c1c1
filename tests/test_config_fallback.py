"""A configured default provider is a preference: when it fails the fallback answers; --provider pins."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import servers_config, write_user_config
from tests.llm_server import MODEL_ALIAS, LLMServer, free_port


@dataclass
class ModelServer:
    base_url: str  # OpenAI-compatible, ending in /v1
    model: str


@pytest.fixture
def engine_server(llm: LLMServer) -> ModelServer:
    """The real model server shared by the session (the `llm` fixture)."""
    return ModelServer(llm.base_url, MODEL_ALIAS)


@pytest.fixture
def model_server(request: pytest.FixtureRequest) -> ModelServer:
    # The real model (SmolLM2 on llmos's engine, served over the OpenAI wire format) is the fallback.
    return request.getfixturevalue("engine_server")


def providers(server: ModelServer, router: str) -> str:
    dead = f"http://127.0.0.1:{free_port()}/v1"  # a closed loopback port: connection refused
    return (f"providers:\n  ollama: {{enabled: false}}\n  claude: {{enabled: false}}\n  openai: {{enabled: false}}\n"
            "  embedded: {enabled: false}\n"
            f"  dead:\n    type: openai-compatible\n    base_url: {dead}\n    models: {{default: x}}\n"
            f"  local:\n    type: openai-compatible\n    base_url: {server.base_url}\n    context_window: 2048\n"
            f"    models: {{default: {server.model}}}\n{router}{servers_config()}")


def llmos_run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "llmos", "run", *args], capture_output=True, text=True,
                          timeout=180, env=dict(os.environ), stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("router", [
    "router:\n  default_provider: dead\n  fallback_provider: local\n",
    "router:\n  default_provider: dead\n  fallback_chain: [dead, local]\n",  # the case issue 11 reproduced
    "preferences:\n  default_provider: dead\n",  # the guide's spelling
])
def test_configured_default_that_fails_falls_back_and_says_so(model_server: ModelServer, isolated_home: Path,
                                                              router: str) -> None:
    write_user_config(isolated_home, providers(model_server, router))
    out = llmos_run("say hello")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip()  # the answer arrived
    assert f"answered by local ({model_server.model}) — fallback after dead failed" in out.stderr


def test_provider_flag_pins_and_does_not_fall_back(model_server: ModelServer, isolated_home: Path) -> None:
    write_user_config(isolated_home, providers(model_server, "router:\n  default_provider: local\n"))
    out = llmos_run("--provider", "dead", "say hello")
    assert out.returncode == 3, out.stderr
    assert "Tried: dead" in out.stderr or "dead" in out.stderr
    assert "answered by" not in out.stderr and not out.stdout.strip()


def test_verbose_output_says_what_the_router_did(model_server: ModelServer, isolated_home: Path) -> None:
    write_user_config(isolated_home, providers(model_server, "router:\n  default_provider: dead\n"
                                               "preferences:\n  verbose_output: true\n"))
    out = llmos_run("say hello")
    assert out.returncode == 0, out.stderr
    assert "trying dead, local (dead is the default provider" in out.stderr
    assert "router: dead failed (provider unavailable); falling back" in out.stderr
    assert f"router: answered by local ({model_server.model})" in out.stderr
    assert "DEBUG" not in out.stderr  # not the raw debug log
