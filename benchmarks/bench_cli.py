"""CLI start-up benchmarks: cold start of `llmos --help/--version`, and `llmos run` start to the chat request
on the wire (with tools, and with --no-tools).

Run: .venv/bin/python benchmarks/bench_cli.py [--runs N] [--llm PATH_TO_llm]
Figures go into benchmarks/README.md by hand, with the machine they came from.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def time_command(cmd: list[str], runs: int, env: dict[str, str]) -> list[float]:
    subprocess.run(cmd, capture_output=True, env=env)  # warm the OS file cache once
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, env=env, check=False)
        times.append(time.perf_counter() - start)
    return times


def first_request_times(kind: str, runs: int, env: dict[str, str], home: Path, extra: list[str]) -> list[float]:
    """Spawn `llmos run` against a loopback listener and time spawn → the chat request's bytes arriving."""
    times = []
    for _ in range(runs):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.settimeout(0.2)
        port = listener.getsockname()[1]
        url = f"http://127.0.0.1:{port}" + ("/v1" if kind == "openai-compatible" else "")
        config = home / "config" / "llm-os" / "llm.yaml"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text("providers:\n  ollama: {enabled: false}\n  claude: {enabled: false}\n"
                          f"  openai: {{enabled: false}}\n  bench:\n    type: {kind}\n    base_url: {url}\n"
                          "    models: {default: m}\n")
        arrived: list[float] = []
        done = threading.Event()

        def accept(done: threading.Event = done, listener: socket.socket = listener,
                   arrived: list[float] = arrived) -> None:
            while not done.is_set():  # answer nothing: every request fails at once, the run exits
                try:
                    conn, _ = listener.accept()
                except OSError:
                    continue
                head = conn.recv(65536)
                if b"chat" in head.split(b"\r\n", 1)[0]:  # the chat request itself, not the picker's look-ups
                    arrived.append(time.perf_counter())
                conn.close()

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "llmos", "run", *extra, "hello"], capture_output=True, env=env,
                       timeout=120)
        done.set()
        thread.join(5)
        listener.close()
        if arrived:
            times.append(arrived[0] - start)
    return times


def report(name: str, times: list[float]) -> None:
    times.sort()
    p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
    print(f"{name:42s} median {statistics.median(times) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms   n={len(times)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--llm", help="path to PyPI llm's `llm` command, for comparison")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        env = {**os.environ, "XDG_CONFIG_HOME": str(home / "config"), "XDG_STATE_HOME": str(home / "state"),
               "LLM_OS_SYSTEM_CONFIG_DIR": str(home / "etc")}
        llmos = str(Path(sys.executable).parent / "llmos")
        report("llmos --version", time_command([llmos, "--version"], args.runs, env))
        report("llmos --help", time_command([llmos, "--help"], args.runs, env))
        if args.llm:
            report("llm --help (PyPI llm, for comparison)", time_command([args.llm, "--help"], args.runs, env))
        for kind in ("ollama", "openai-compatible"):
            for extra in ([], ["--no-tools"]):
                label = f"llmos run {' '.join(extra) + ' ' if extra else ''}→ chat request ({kind})"
                report(label, first_request_times(kind, max(5, args.runs // 2), env, home, extra))


if __name__ == "__main__":
    main()
