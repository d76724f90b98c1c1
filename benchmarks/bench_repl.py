"""Shell benchmarks: launch to visible prompt in a real terminal (tmux), and RSS of an idle shell with all
built-in servers loaded.

Run: .venv/bin/python benchmarks/bench_repl.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psutil


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True).stdout


def launch(env: dict[str, str], wait_banner: bool = False) -> tuple[float, str]:
    name = f"bench-{uuid.uuid4().hex[:6]}"
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items() if k.startswith(("XDG_", "LLM_OS_", "PATH",
                                                                                       "HOME")))
    command = f"env {exports} {shlex.quote(sys.executable)} -m llmos"
    start = time.perf_counter()
    subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "100", "-y", "30", command], check=True)
    marker = "tools —" if wait_banner else "llmos>"
    while marker not in tmux("capture-pane", "-p", "-t", name):
        if time.perf_counter() - start > 60:
            raise RuntimeError("no prompt within 60 s")
        time.sleep(0.005)
    return time.perf_counter() - start, name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "XDG_CONFIG_HOME": f"{tmp}/config", "XDG_STATE_HOME": f"{tmp}/state",
               "XDG_DATA_HOME": f"{tmp}/data", "LLM_OS_SYSTEM_CONFIG_DIR": f"{tmp}/etc"}
        Path(f"{tmp}/config/llm-os").mkdir(parents=True)
        times = []
        for _ in range(args.runs + 1):
            seconds, name = launch(env)
            tmux("kill-session", "-t", name)
            times.append(seconds)
        times = sorted(times[1:])  # the first run warms the file cache
        print(f"launch → visible prompt: median {statistics.median(times) * 1000:.0f} ms, "
              f"p95 {times[int(0.95 * (len(times) - 1))] * 1000:.0f} ms, n={len(times)}")
        seconds, name = launch(env, wait_banner=True)
        time.sleep(2)
        pane_pid = int(tmux("display-message", "-p", "-t", name, "#{pane_pid}").strip())
        process = psutil.Process(pane_pid)
        shell = max((p for p in [process, *process.children(recursive=True)] if "python" in p.name()),
                    key=lambda p: p.memory_info().rss)
        rss = shell.memory_info().rss / 2**20
        print(f"launch → banner (all built-in servers connected): {seconds * 1000:.0f} ms")
        print(f"idle shell RSS with all built-in servers loaded: {rss:.0f} MiB")
        tmux("kill-session", "-t", name)


if __name__ == "__main__":
    main()
