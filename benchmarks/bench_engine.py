"""Figures for the embedded engine (benchmarks/README.md): tool-call modes, one-shot wall time with and
without a saved prefix, shell turns, tokens evaluated per turn, RSS, fresh-venv install.

    .venv/bin/python benchmarks/bench_engine.py toolcalls --threads 1     # the tool-call modes, 0.5B
    .venv/bin/python benchmarks/bench_engine.py oneshot --runs 3          # `llmos run` wall, ± saved prefix
    .venv/bin/python benchmarks/bench_engine.py shell --turns 4           # turn time, evaluated vs new tokens, RSS
    .venv/bin/python benchmarks/bench_engine.py install                   # fresh venv: pip install .
Models come from scripts/test-models (--model qwen0.5 | qwen1.5 | smollm2).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from llmos.llm.messages import Message, ToolSpec  # noqa: E402

MODELS = {"smollm2": "SmolLM2-135M-Instruct.Q4_1.gguf", "qwen0.5": "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
          "qwen1.5": "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"}


def _obj(**props: str) -> dict:
    return {"type": "object", "properties": {k: {"type": v} for k, v in props.items()}, "required": list(props)}


TOOLS = [ToolSpec("list_directory", "List the files and folders in a directory.", _obj(path="string")),
         ToolSpec("find_largest", "Find the largest files under a directory.", _obj(path="string", count="integer")),
         ToolSpec("git_status", "Show the working tree status of a git repository.", _obj(repo="string")),
         ToolSpec("delete", "Delete a file or folder (to the trash).", _obj(path="string")),
         ToolSpec("disk_usage", "Show free and used space of the disks.", {"type": "object", "properties": {}}),
         ToolSpec("read_file", "Read a text file.", _obj(path="string"))]
# (request, expected tool or None for a plain answer, argument that must appear)
REQUESTS = [("list the files in ~/Downloads", "list_directory", "Downloads"),
            ("what are the 3 biggest files in ~/Videos?", "find_largest", "Videos"),
            ("is my repo ~/src/app clean?", "git_status", "app"),
            ("delete ~/notes.txt", "delete", "notes.txt"),
            ("how much disk space is left?", "disk_usage", None),
            ("show me what ~/todo.md says", "read_file", "todo.md"),
            ("what's inside the folder /tmp?", "list_directory", "/tmp"),
            ("remove the file /tmp/old.log", "delete", "old.log"),
            ("what is the capital of France?", None, None),
            ("say hello", None, None)]
SYSTEM = "You are llmos, an assistant that operates this computer for its user through tools."


def model_file(key: str) -> Path:
    path = ROOT / ".test-cache" / "models" / MODELS[key]
    if not path.is_file():
        subprocess.run([sys.executable, str(ROOT / "scripts" / "test-models"), "--print", key], check=True)
    return path


def _judge(text: str, calls: list, expected: str | None, argument: str | None) -> bool:
    if expected is None:
        return not calls and bool(text.strip())
    named = argument is None or argument in json.dumps(calls[0].arguments if calls else {})
    return bool(calls) and calls[0].name == expected and named


def bench_toolcalls(args: argparse.Namespace) -> None:
    """Right tool and arguments per mode: the grammar of toolcalls.py (tagged / json) vs. the free native text."""
    from llmos.agent import repair
    from llmos.engine import chat
    from llmos.engine.backend import LoadOptions
    from llmos.engine.engine import Engine, Generation

    engine = Engine.load(LoadOptions(model_file(args.model), n_ctx=4096, n_threads=args.threads))
    for mode in args.modes.split(","):
        right, seconds = 0, []
        for request, expected, argument in REQUESTS:
            messages = [Message("system", SYSTEM), Message("user", request)]
            plan = chat.plan(engine, messages, TOOLS, tool_format="json" if mode == "json" else "tagged")
            start = time.perf_counter()
            job = Generation(plan.prompt, 120, None if mode == "native" else plan.grammar)
            raw = engine.generate(job)
            seconds.append(time.perf_counter() - start)
            if mode == "native":
                calls = repair.calls_from_text(raw, {t.name for t in TOOLS})
                text = "" if calls else raw
            else:
                reader = chat.Reader(plan, repair.new_call_id)
                reader.feed(raw)
                text, calls = reader.finish()
            ok = _judge(text, calls, expected, argument)
            right += ok
            print(f"  {mode:7} {'ok ' if ok else 'BAD'} {request!r}: {raw[:100]!r}", file=sys.stderr)
        print(f"| {args.model} | {mode} | {right}/{len(REQUESTS)} | {statistics.median(seconds):.1f} s |")


def _home(model: Path, threads: int, work: Path) -> dict[str, str]:
    home = Path(tempfile.mkdtemp(prefix="llmos-bench-"))
    env = dict(os.environ)
    for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_STATE_HOME", "state"), ("XDG_DATA_HOME", "data"),
                     ("XDG_CACHE_HOME", "cache"), ("LLM_OS_SYSTEM_CONFIG_DIR", "etc")):
        (home / sub).mkdir(parents=True)
        env[var] = str(home / sub)
    off = "".join(f"  {n}: {{enabled: false}}\n" for n in ("git", "system", "apps", "browser"))
    (home / "config" / "llm-os").mkdir()
    (home / "config" / "llm-os" / "llm.yaml").write_text(
        "providers:\n  ollama: {enabled: false}\n  claude: {enabled: false}\n  openai: {enabled: false}\n"
        f"  embedded:\n    model: {model}\n    threads: {threads}\n    n_ctx: 4096\n"
        f"servers:\n{off}  filesystem:\n    roots: [{work}]\nagent:\n  max_steps: 2\n")
    return env


def _load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def bench_oneshot(args: argparse.Namespace) -> None:
    """Wall time of `llmos run "list the files in this folder"` from start to exit."""
    work = Path(tempfile.mkdtemp(prefix="llmos-work-"))
    for name in ("notes.txt", "budget.csv", "photo.jpg"):
        (work / name).write_text("x\n")
    env = _home(model_file(args.model), args.threads, work)
    env["LLMOS_DEBUG"] = "1"  # the provider logs each generation's reused / evaluated tokens
    cache = Path(env["XDG_CACHE_HOME"]) / "llm-os" / "engine"
    # The built-in system prompt names the day, not the minute: the system-and-tools prefix saved by one run is
    # the same for every run of the day.
    prompt_kind = "built-in system prompt"
    print(f"one-shot, {args.model}, {args.threads} thread(s), {prompt_kind}; {_load()}", file=sys.stderr)
    for label, keep_prefix in (("no saved prefix", False), ("saved prefix", True)):
        times = []
        for _ in range(args.runs):
            if not keep_prefix:
                shutil.rmtree(cache, ignore_errors=True)
            start = time.perf_counter()
            out = subprocess.run([sys.executable, "-m", "llmos", "run", "--json", "list the files in this folder"],
                                 cwd=work, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
            times.append(time.perf_counter() - start)
            calls = json.loads(out.stdout)["tool_calls"] if out.returncode == 0 else out.stderr[-200:]
            engine = [line.split("engine: ", 1)[1] for line in out.stderr.splitlines() if "engine: " in line]
            print(f"  {label}: {times[-1]:.2f} s, rc {out.returncode}, {calls}; {engine}; {_load()}",
                  file=sys.stderr)
        print(f"| one-shot tool request, {args.model}, {args.threads} thread(s), {prompt_kind}, {label} | "
              f"{statistics.median(times):.2f} s | {max(times):.2f} s |")


def bench_shell(args: argparse.Namespace) -> None:
    """Turns of one session in one process: wall per turn, prompt tokens evaluated vs. new, RSS."""
    import asyncio

    import psutil

    from llmos.config.model import ProviderConfig
    from llmos.llm.messages import ChatRequest, Done
    from llmos.llm.providers.embedded import EmbeddedProvider, load_engine

    path = model_file(args.model)
    config = ProviderConfig(name="embedded", type="embedded", model=str(path), threads=args.threads, n_ctx=4096)
    provider = EmbeddedProvider("embedded", config)
    engine = load_engine(provider.plan())
    history = [Message("system", SYSTEM)]
    asks = ["what is in ~/Downloads?", "and how much disk space is left?", "read ~/todo.md", "is ~/src/app clean?",
            "delete ~/old.log", "say thanks"]
    previous = 0

    async def turn(text: str) -> tuple[float, list]:
        history.append(Message("user", text))
        start = time.perf_counter()
        events = [e async for e in provider.chat(ChatRequest(list(history), model=str(path), tools=TOOLS,
                                                             max_tokens=80))]
        return time.perf_counter() - start, events

    for n, text in enumerate(asks[:args.turns], 1):
        seconds, events = asyncio.run(turn(text))
        done = next(e for e in events if isinstance(e, Done))
        calls = [e.call for e in events if hasattr(e, "call")]
        history.append(Message("assistant", "".join(getattr(e, "text", "") for e in events), tool_calls=calls))
        for call in calls:
            history.append(Message("tool", '{"ok": true}', tool_call_id=call.id, name=call.name))
        stats = engine.last_stats
        new = done.usage.input_tokens - previous
        print(f"| turn {n} | {seconds:.2f} s | {done.usage.input_tokens} | {new} | {stats.evaluated_tokens} | "
              f"{stats.reused_tokens} |")
        previous = done.usage.input_tokens + done.usage.output_tokens
    print(f"RSS with {args.model} loaded: {psutil.Process().memory_info().rss / 2**20:.0f} MiB")


def bench_install(args: argparse.Namespace) -> None:
    """A fresh virtual environment, then `pip install .` (llmos, its engine wheel, every dependency)."""
    venv = Path(tempfile.mkdtemp(prefix="llmos-venv-"))
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    start = time.perf_counter()
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-cache-dir", str(ROOT)],
                   check=True)
    install = time.perf_counter() - start
    start = time.perf_counter()
    subprocess.run([str(venv / "bin" / "python"), "-c", "import cyllama.llama.llama_cpp"], check=True)
    imported = time.perf_counter() - start
    print(f"| fresh venv `pip install .` (no pip cache) | {install:.1f} s | engine import {imported:.2f} s |")
    shutil.rmtree(venv, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["toolcalls", "oneshot", "shell", "install"])
    parser.add_argument("--model", default="qwen0.5", choices=sorted(MODELS))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--turns", type=int, default=4)
    parser.add_argument("--modes", default="tagged,json,native")
    args = parser.parse_args()
    {"toolcalls": bench_toolcalls, "oneshot": bench_oneshot, "shell": bench_shell, "install": bench_install}[
        args.what](args)


if __name__ == "__main__":
    main()
