"""The real test LLM: SmolLM2-135M served on 127.0.0.1 by tests/engine_server.py, an OpenAI-compatible
server on llmos's embedded engine (llama.cpp in-process through cyllama's prebuilt wheel).

The model comes from PyPI (scripts/test-models puts it in .test-cache/models). Nothing here is a fake:
requests go over real HTTP to a real model, so tests assert on shape and behaviour, never on exact words.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

MODEL_ALIAS = "smollm2"


class TestLLMMissing(RuntimeError):
    pass


MODELS = Path(__file__).resolve().parent.parent / ".test-cache" / "models"


def model_path() -> Path:
    path = MODELS / "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not path.is_file():
        raise TestLLMMissing(f"the test model is missing ({path}): run scripts/test-models")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LLMServer:
    process: subprocess.Popen
    port: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start(log_dir: Path, ctx: int = 4096, timeout_s: float = 90.0, slots: int = 2) -> LLMServer:
    """Serve the test model; each request gets ``ctx // slots`` tokens, as llama-server's -c/-np gave."""
    port = free_port()
    log = log_dir / "engine-server.log"
    cmd = [sys.executable, "-m", "tests.engine_server", "--model", str(model_path()), "--alias", MODEL_ALIAS,
           "--port", str(port), "--threads", "1", "--ctx", str(ctx // slots), "--log", str(log),
           # Answers end at 400 tokens (as llama-server -n 400 caps every request), not at the request's
           # max_tokens: `llmos run` asks for its answer reserve (1024), and SmolLM2 at temperature 0 sometimes
           # repeats itself to the end of it (measured: the same "say hello" prompt answered in 17 tokens on a fresh
           # server, in 1024 when the previous request's prompt was reused), a minute on a busy CPU. 400: the most
           # any test asks for (the constrained decision's answer), so a bounded request is never cut shorter.
           "--predict", "400"]
    root = Path(__file__).resolve().parent.parent
    with open(log, "ab") as out:
        process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=root,
                                   env={**os.environ, "PYTHONPATH": str(root)})
    server = LLMServer(process, port, log)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise TestLLMMissing(f"the test server exited with {process.returncode}; log:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                if r.status == 200:
                    return server
        except OSError:
            pass
        time.sleep(0.2)
    server.stop()
    raise TestLLMMissing(f"the test server was not healthy within {timeout_s:g}s; log:\n{log.read_text()[-2000:]}")
