"""Everyday tasks completed by a real model through llmos: benchmarks/tasks/*.yaml, each in a throwaway home,
judged by the state afterwards.

    .venv/bin/python benchmarks/bench_tasks.py --model qwen0.5 --mode constrained
    .venv/bin/python benchmarks/bench_tasks.py --model qwen1.5 --mode native --only fs- git-commit chat
    .venv/bin/python benchmarks/bench_tasks.py --model path/to/model.gguf --out results.jsonl

--model: smollm2, qwen0.5, qwen1.5 (fetched by scripts/test-models --all) or a .gguf path. --mode:
constrained (agent.constrained: true, one JSON decision per step held to a grammar) or native (tools
offered to the engine, which holds the model to its template's tool-call format with a reply pseudo-tool).
Each finished task is appended to --out as one JSON line; the summary is printed at the end.
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.tasks import suite  # noqa: E402
from benchmarks.tasks.runner import Result, config_text, model_path, run_task  # noqa: E402


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen0.5", help="smollm2, qwen0.5, qwen1.5 or a .gguf path")
    parser.add_argument("--mode", choices=("constrained", "native"), default="constrained")
    parser.add_argument("--only", nargs="*", help="task ids or groups (prefixes): fs-, git, no_tool …")
    parser.add_argument("--interleave", action="store_true",
                        help="take the groups in turn (a run cut short still covers every server)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--max-steps", type=int, default=8, help="agent.max_steps (llmos's default: 8)")
    parser.add_argument("--out", type=Path, help="append one JSON line per task here")
    parser.add_argument("--report", nargs="*", type=Path, metavar="JSONL",
                        help="print the markdown table of earlier --out files instead of running")
    parser.add_argument("--sandbox", type=Path, help="the throwaway root (default: a fixed path under /tmp)")
    return parser.parse_args()


def summary(results: list[Result]) -> str:
    tool = [r for r in results if not r.task.needs_no_tool]
    plain = [r for r in results if r.task.needs_no_tool]

    def share(rs: list[Result]) -> str:
        return f"{sum(r.verdict.ok for r in rs)}/{len(rs)} ({100 * sum(r.verdict.ok for r in rs) / len(rs):.0f} %)" \
            if rs else "—"

    lines = [f"tool tasks: {share(tool)}", f"no-tool requests answered without a tool: "
             f"{sum(not r.outcome.calls for r in plain)}/{len(plain)}; correct answers {share(plain)}"]
    for group in suite.SERVERS:
        rs = [r for r in results if r.task.group == group]
        if rs:
            lines.append(f"  {group}: {share(rs)}")
    if results:
        lines.append(f"median steps {statistics.median(r.steps for r in results):g}, "
                     f"median prompt tokens {statistics.median(r.prompt_tokens for r in results):g}, "
                     f"median generated tokens {statistics.median(r.output_tokens for r in results):g}, "
                     f"median latency {statistics.median(r.seconds for r in results):.1f} s, "
                     f"p90 {sorted(r.seconds for r in results)[int(0.9 * (len(results) - 1))]:.1f} s")
    failures = Counter(r.verdict.failure for r in results if not r.verdict.ok)
    lines.append("failures: " + (", ".join(f"{k} {v}" for k, v in failures.most_common()) or "none"))
    return "\n".join(lines)


def report(files: list[Path]) -> str:
    """One markdown row per model and mode found in the --out files."""
    rows: dict[tuple[str, str], list[dict]] = {}
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            rows.setdefault((r["model"], r["mode"]), []).append(r)
    out = ["| model | mode | tool tasks done | no-tool: no call / right answer | median steps | median prompt / "
           "generated tokens | median latency | failures |", "|---|---|---|---|---|---|---|---|"]
    for (model, mode), rs in rows.items():
        tool = [r for r in rs if r["group"] != "no_tool"]
        plain = [r for r in rs if r["group"] == "no_tool"]
        failures = Counter(r["failure"] for r in rs if not r["ok"])
        out.append(f"| {model} | {mode} | {sum(r['ok'] for r in tool)}/{len(tool)} | "
                   f"{sum(not r['calls'] for r in plain)}/{len(plain)} / {sum(r['ok'] for r in plain)}/{len(plain)} | "
                   f"{statistics.median(r['steps'] for r in rs):g} | "
                   f"{statistics.median(r['prompt_tokens'] for r in rs):g} / "
                   f"{statistics.median(r['output_tokens'] for r in rs):g} | "
                   f"{statistics.median(r['seconds'] for r in rs):.0f} s | "
                   f"{', '.join(f'{k} {v}' for k, v in failures.most_common()) or 'none'} |")
    return "\n".join(out)


def interleave(tasks: list[suite.Task]) -> list[suite.Task]:
    groups = [[t for t in tasks if t.group == g] for g in suite.SERVERS]
    return [g[i] for i in range(max(map(len, groups))) for g in groups if i < len(g)]


def main() -> int:
    args = _arguments()
    if args.report:
        print(report(args.report))
        return 0
    model = model_path(args.model)
    tasks = suite.load(args.only)
    if not tasks:
        raise SystemExit(f"no task matches {args.only}")
    if args.interleave:
        tasks = interleave(tasks)
    config = config_text(model, args.mode == "constrained", args.threads, args.max_steps)
    root = args.sandbox or Path(tempfile.gettempdir()) / f"llmos-tasks-{Path(model).stem}-{args.mode}"
    box = suite.Sandbox(root)
    # A run stopped with kill still ends the programs the sandbox started (they run in their own sessions).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        results = _run_all(tasks, box, config, args, model)
    finally:
        box.close()
    print(summary(results))
    return 0


def _run_all(tasks: list[suite.Task], box: suite.Sandbox, config: str, args: argparse.Namespace, model: Path
             ) -> list[Result]:
    results = []
    for i, task in enumerate(tasks, 1):
        result = run_task(task, box, config)
        results.append(result)
        mark = "ok  " if result.verdict.ok else f"FAIL {result.verdict.failure}:"
        print(f"[{i}/{len(tasks)}] {task.id} {mark} {result.verdict.detail} ({result.seconds:.1f} s, "
              f"{result.steps} steps, calls {[c['tool'] for c in result.outcome.calls]})", flush=True)
        if args.out:
            with args.out.open("a", encoding="utf-8") as f:
                f.write(json.dumps({"model": Path(model).name, "mode": args.mode, **result.record()},
                                   ensure_ascii=False) + "\n")
    return results


if __name__ == "__main__":
    sys.exit(main())
