"""Picker cost at start-up: probe the machine, ask Ollama what is installed and loaded, choose.

Ollama is Ollama's wire format replayed on loopback (tests/ollama_wire.py) through the real ollama client, so
the figures include two real HTTP round trips; the machine probe is this machine's, for real.

Run: .venv/bin/python benchmarks/bench_picker.py [--runs N]
Figures go into benchmarks/README.md by hand, with the machine they came from.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from llmos.config import load_config  # noqa: E402
from llmos.picker.catalog import CATALOG  # noqa: E402
from llmos.picker.choose import choose  # noqa: E402
from llmos.picker.detect import detect  # noqa: E402
from llmos.picker.inventory import cache_path, survey  # noqa: E402
from tests.ollama_wire import OllamaReplay, ps  # noqa: E402


def summary(name: str, times: list[float]) -> None:
    ms = sorted(t * 1000 for t in times)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    print(f"{name:<58} median {statistics.median(ms):7.2f} ms   p95 {p95:7.2f} ms   (n={len(ms)})")


async def timed_surveys(runs: int) -> tuple[float, list[float], list[float]]:
    import ollama  # noqa: F401 - imported by the Ollama adapter anyway; timed separately below

    config = load_config()
    start = time.perf_counter()
    first = await survey(config)  # cold: /api/show for each installed model, then the cache is written
    cold = time.perf_counter() - start
    assert first.installed and cache_path().exists()
    warm, with_choice = [], []
    for _ in range(runs):
        start = time.perf_counter()
        s = await survey(config)
        warm.append(time.perf_counter() - start)
        s.choose("default", tools=True)
        with_choice.append(time.perf_counter() - start)
    return cold, warm, with_choice


def import_cost(module: str, runs: int = 5, after: str = "") -> list[float]:
    """Seconds to import ``module`` in a fresh process, once ``after`` (already loaded by then) is imported."""
    code = f"{after}\nimport time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    return [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
            for _ in range(runs)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
            os.environ[var] = str(Path(home) / var.lower())
        os.environ["LLM_OS_SYSTEM_CONFIG_DIR"] = str(Path(home) / "etc")
        with OllamaReplay(loaded=ps(("llama3.2:3b", 3_435_973_837, 4096))) as server:
            os.environ["OLLAMA_HOST"] = server.url
            cold, warm, with_choice = asyncio.run(timed_surveys(args.runs))
        print(f"{'survey, cold metadata cache (4 × /api/show)':<58} {cold * 1000:7.2f} ms")
        summary("survey, warm cache (probe ‖ /api/tags + /api/ps)", warm)
        summary("survey + choose (start-up total, warm cache)", with_choice)
    probe = []
    for _ in range(args.runs):
        start = time.perf_counter()
        detect()
        probe.append(time.perf_counter() - start)
    summary("machine probe alone (this machine)", probe)
    specs = list(CATALOG.values())
    machine = detect()
    choices = []
    for _ in range(args.runs):
        start = time.perf_counter()
        for tier in ("fast", "default", "reasoning"):
            choose(specs, machine, tier=tier, tools=True)
        choices.append((time.perf_counter() - start) / 3)
    summary("choose() alone, 12 catalog models", choices)
    summary("import llmos.picker (fresh process)", import_cost("llmos.picker"))
    summary("import llmos.picker after llmos.cli (what start-up adds)",
            import_cost("llmos.picker", after="import asyncio, llmos.cli, llmos.config"))
    summary("import ollama (fresh process; the Ollama adapter pays it too)", import_cost("ollama"))


if __name__ == "__main__":
    main()
