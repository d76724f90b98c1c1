"""Running one task through llmos the real way: `llmos run --json --yes REQUEST` in-process (llmos.entry.run
on a terminal of strings, as tests/inprocess.py does), in the task's sandbox home with a user config that
makes the embedded engine the only provider. The engine stays loaded between tasks (the provider keeps
one per process), as the shell keeps it between turns."""

from __future__ import annotations

import contextlib
import io
import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.tasks.checks import Outcome, Verdict, judge
from benchmarks.tasks.suite import Sandbox, Task

ROOT = Path(__file__).resolve().parents[2]
MODELS = {"smollm2": "SmolLM2-135M-Instruct.Q4_1.gguf", "qwen0.5": "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
          "qwen1.5": "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"}

CONFIG = """\
providers:
  ollama: {{enabled: false}}
  claude: {{enabled: false}}
  openai: {{enabled: false}}
  embedded: {{type: embedded, model: {model}, threads: {threads}, timeout: {timeout}}}
agent: {{constrained: {constrained}, max_steps: {max_steps}}}
servers:
  filesystem: {{roots: ["{{home}}"]}}
  browser: {{allow_private: true}}
"""


def model_path(name: str) -> Path:
    """A key of MODELS (fetched by scripts/test-models) or a path to a .gguf file."""
    path = ROOT / ".test-cache" / "models" / MODELS[name] if name in MODELS else Path(name).expanduser()
    if not path.is_file():
        key = name if name in MODELS else "qwen0.5"
        raise SystemExit(f"no model at {path}: fetch it with `scripts/test-models --all` "
                         f"(or `scripts/test-models --print {key}`)")
    return path


def config_text(model: Path, constrained: bool, threads: int, max_steps: int, timeout: int = 600) -> str:
    """``timeout``: seconds to the first byte; llmos's default (120) is too short for a 1,000-token prompt on
    one busy core, and a provider that times out is dropped for the run."""
    return CONFIG.format(model=model, threads=threads, constrained=str(constrained).lower(), max_steps=max_steps,
                         timeout=timeout)


@dataclass
class Result:
    task: Task
    verdict: Verdict
    outcome: Outcome
    seconds: float
    steps: int
    prompt_tokens: int
    output_tokens: int
    transcript: list[str]

    def record(self) -> dict[str, Any]:
        return {"id": self.task.id, "group": self.task.group, "ok": self.verdict.ok,
                "failure": self.verdict.failure, "detail": self.verdict.detail, "seconds": round(self.seconds, 2),
                "steps": self.steps, "prompt_tokens": self.prompt_tokens, "output_tokens": self.output_tokens,
                "calls": self.outcome.calls, "text": self.outcome.text[:400],
                "transcript": self.transcript}


@contextlib.contextmanager
def _inside(box: Sandbox) -> Iterator[None]:
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    os.environ.update(box.environment())
    for var in [v for v in os.environ if v.startswith("LLMOS_") or v.endswith("_API_KEY") or v == "OLLAMA_HOST"]:
        del os.environ[var]
    os.chdir(box.home)
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)


def _llmos(args: list[str]) -> tuple[int, str, str]:
    from llmos.entry import run
    from llmos.terminal import Terminal

    out = io.StringIO()
    with tempfile.TemporaryFile("w+", encoding="utf-8") as err:
        terminal = Terminal(stdin=io.StringIO(""), stdout=out, stderr=err, person=False)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = run(args, terminal)
        err.seek(0)
        return status, out.getvalue(), err.read()


def _outcome(status: int, stdout: str, stderr: str) -> Outcome:
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    try:
        data = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        said = " | ".join(line.strip() for line in stderr.strip().splitlines()[-3:] if "DEBUG" not in line)
        return Outcome(status, stdout, error=f"exit {status}: {said or 'no output'}")
    return Outcome(status, data.get("text") or "", data.get("tool_calls") or [], bool(data.get("step_limit_hit")))


def _transcript(home: Path) -> list[str]:
    """The saved conversation, each message cut short: what the model saw and said, for reading failures."""
    sessions = sorted((home / ".local/share/llm-os/sessions").glob("*.jsonl"))
    lines = []
    for line in sessions[-1].read_text().splitlines()[1:] if sessions else []:
        m = json.loads(line)
        calls = [f"{c['name']}({json.dumps(c['arguments'])})" for c in m.get("tool_calls") or []]
        lines.append(f"{m.get('role')}: {(m.get('content') or '')[:300]} {' '.join(calls)}".strip())
    return lines


def _usage(home: Path) -> tuple[int, int, int]:
    """Model calls, prompt tokens and generated tokens of the run, from llmos's own records."""
    sessions = sorted((home / ".local/share/llm-os/sessions").glob("*.jsonl"))
    steps = 0
    if sessions:
        steps = sum(1 for line in sessions[-1].read_text().splitlines() if '"role": "assistant"' in line)
    db = home / ".local/state/llm-os/usage.sqlite3"
    if not db.exists():
        return steps, 0, 0
    with contextlib.closing(sqlite3.connect(db)) as c:
        row = c.execute("select coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0) from requests"
                        ).fetchone()
    return steps, int(row[0]), int(row[1])


def run_task(task: Task, box: Sandbox, config: str) -> Result:
    box.build(task, config)
    try:
        with _inside(box):
            request = box.request(task)
            started = time.perf_counter()
            status, stdout, stderr = _llmos(["run", "--json", "--yes", request])
            seconds = time.perf_counter() - started
        outcome = _outcome(status, stdout, stderr)
        time.sleep(0.2)  # a launched recorder script or a kill signal lands
        verdict = judge(task, box, outcome)
        steps, prompt_tokens, output_tokens = _usage(box.home)
        transcript = _transcript(box.home)
    finally:
        box.close()
    return Result(task, verdict, outcome, seconds, steps, prompt_tokens, output_tokens, transcript)
