"""A small real-model tier: a few everyday tasks from benchmarks/tasks/ done by Qwen2.5-Coder-0.5B through
llmos in-process (`llmos run --json --yes`, the embedded engine the only provider, one thread), each in a
throwaway home and judged by the state afterwards — the folder exists, the answer names the files, no tool
ran for a plain question. The whole suite is a benchmark: benchmarks/bench_tasks.py. ("what's in this folder?"
and "what have I changed in my repo?" are not here: the 0.5B runs the right tool but its answer often misses
the names — measured there, as wrong answers.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.tasks import suite
from benchmarks.tasks.runner import ROOT, MODELS, config_text, run_task

MODEL = ROOT / ".test-cache" / "models" / MODELS["qwen0.5"]
TASKS = {t.id: t for t in suite.load(["fs-mkdir", "fact-2plus2", "chat-hi"])}


@pytest.fixture(scope="module")
def model() -> Path:
    if not MODEL.is_file():
        pytest.fail(f"no model at {MODEL}: fetch it with `scripts/test-models`")
    return MODEL


@pytest.mark.parametrize("task_id", sorted(TASKS))
def test_an_everyday_task_leaves_the_right_state(task_id: str, model: Path, tmp_path: Path,
                                                 isolated_home: Path) -> None:
    task = TASKS[task_id]
    # agent.constrained is llmos's default (false): the engine holds the model to its tool-call template.
    result = run_task(task, suite.Sandbox(tmp_path / "sandbox"), config_text(model, False, threads=1, max_steps=4))
    calls = [c["tool"] for c in result.outcome.calls]
    assert result.verdict.ok, (f"{task.request!r}: {result.verdict.failure} — {result.verdict.detail}; "
                               f"calls {calls}; answer {result.outcome.text[:200]!r}")
    if task.needs_no_tool:
        assert calls == []
