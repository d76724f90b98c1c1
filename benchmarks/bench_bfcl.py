"""BFCL v4 `simple` (python), `multiple` and `irrelevance` through llmos's own prompt and decoding: the
system prompt, and in constrained mode the agent's decision schema and instructions, in native mode the
tools offered to the engine with the repair layer reading any call out of the text — the functions the
agent loop itself uses for one step (llmos.agent.loop, llmos.agent.repair). Scored AST-style: the function
name and every argument must match one of the possible answers (optional ones may be left out, no extra
ones); for irrelevance, any call fails.

    .venv/bin/pip download --no-deps bfcl-eval -d /tmp/bfcl && (cd /tmp/bfcl && unzip -oq bfcl_eval-*.whl)
    .venv/bin/python benchmarks/bench_bfcl.py --data /tmp/bfcl/bfcl_eval/data --model qwen0.5 --per 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.tasks.runner import model_path  # noqa: E402

CATEGORIES = {"simple": "BFCL_v4_simple_python.json", "multiple": "BFCL_v4_multiple.json",
              "irrelevance": "BFCL_v4_irrelevance.json"}
_TYPES = {"dict": "object", "float": "number", "tuple": "array", "list": "array", "int": "integer",
          "bool": "boolean", "str": "string"}


def json_schema(spec: Any) -> Any:
    """BFCL's Python-flavoured parameter types (dict, float, tuple, any) as JSON Schema."""
    if isinstance(spec, list):
        return [json_schema(s) for s in spec]
    if not isinstance(spec, dict):
        return spec
    out = {k: json_schema(v) for k, v in spec.items() if k not in ("optional",)}
    kind = out.get("type")
    if kind == "any":
        del out["type"]
    elif isinstance(kind, str):
        out["type"] = _TYPES.get(kind, kind)
    return out


def load(data: Path, category: str, per: int) -> list[tuple[dict[str, Any], list[Any] | None]]:
    """``per`` cases spread evenly over the category, each with its possible answers (None: irrelevance)."""
    cases = [json.loads(line) for line in (data / CATEGORIES[category]).read_text().splitlines() if line.strip()]
    answers: dict[str, Any] = {}
    answer_file = data / "possible_answer" / CATEGORIES[category]
    if answer_file.exists():
        answers = {a["id"]: a["ground_truth"] for a in map(json.loads, answer_file.read_text().splitlines())}
    step = max(1, len(cases) // per)
    return [(c, answers.get(c["id"])) for c in cases[::step][:per]]


def _same(value: Any, allowed: Any) -> bool:
    if isinstance(allowed, str) and isinstance(value, str):
        return value.strip().lower() == allowed.strip().lower()
    if isinstance(allowed, bool) or isinstance(value, bool):
        return value is allowed
    if isinstance(allowed, (int, float)) and isinstance(value, (int, float)):
        return float(value) == float(allowed)
    if isinstance(allowed, list) and isinstance(value, list):
        return len(value) == len(allowed) and all(_same(v, a) for v, a in zip(value, allowed, strict=True))
    if isinstance(allowed, dict) and isinstance(value, dict):
        return set(value) <= set(allowed) and all(
            any(_same(value[k], a) for a in allowed[k]) if isinstance(allowed[k], list) else _same(value[k], allowed[k])
            for k in value)
    return bool(value == allowed)


def ast_match(name: str, arguments: dict[str, Any], truth: list[dict[str, Any]]) -> str:
    """'' when the call matches a possible answer, else why not."""
    expected = truth[0]
    function, params = next(iter(expected.items()))
    if name != function:
        return f"wrong function {name} (wanted {function})"
    extra = set(arguments) - set(params)
    if extra:
        return f"unexpected arguments {sorted(extra)}"
    for key, allowed in params.items():
        if key not in arguments:
            if "" not in allowed:
                return f"missing {key}"
            continue
        if not any(_same(arguments[key], a) for a in allowed if a != "" or arguments[key] == ""):
            return f"{key}={arguments[key]!r} not in {allowed[:3]}"
    return ""


def _tools(functions: list[dict[str, Any]]) -> tuple[list[Any], dict[str, str]]:
    from llmos.agent.host import ToolInfo

    tools, original = [], {}
    for f in functions:
        exposed = re.sub(r"[^A-Za-z0-9_-]", "_", f["name"])[:64]
        original[exposed] = f["name"]
        tools.append(ToolInfo("bfcl", f["name"], exposed, f.get("description", ""),
                              json_schema(f.get("parameters") or {"type": "object", "properties": {}}), {}, False))
    return tools, original


async def one_step(provider: Any, case: dict[str, Any], constrained: bool) -> list[tuple[str, dict[str, Any]]]:
    """The calls llmos would run for the case's first user turn, as (original function name, arguments)."""
    from llmos.agent import decisions, loop, repair
    from llmos.llm.messages import ChatRequest, Message, TextDelta, ToolCallEvent, ToolSpec

    tools, original = _tools(case["function"])
    by_name = {t.exposed: t for t in tools}
    system = loop.system_prompt()
    turn = [Message(m["role"], m["content"]) for m in case["question"][0]]
    if constrained:
        system += "\n\n" + decisions.instructions(tools)
        request = ChatRequest([Message("system", system), *turn], json_schema=decisions.decision_schema(tools),
                              max_tokens=300, stream=False)
    else:
        request = ChatRequest([Message("system", system), *turn], max_tokens=300, stream=False,
                              tools=[ToolSpec(t.exposed, t.description, t.input_schema) for t in tools])
    text, calls = "", []
    async for event in provider.chat(request):
        if isinstance(event, TextDelta):
            text += event.text
        elif isinstance(event, ToolCallEvent):
            calls.append(event.call)
    if constrained:
        _, calls = decisions.decode(text, by_name)
    elif not calls:
        calls = repair.calls_from_text(text, {t.exposed: t.input_schema for t in tools})
    return [(original.get(c.name, c.name), c.arguments) for c in calls]


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    from llmos.config.model import ProviderConfig
    from llmos.llm.providers.embedded import EmbeddedProvider

    model = model_path(args.model)
    provider = EmbeddedProvider("embedded", ProviderConfig("embedded", "embedded", model=str(model),
                                                           threads=args.threads))
    records = []
    for category in args.categories:
        for case, truth in load(args.data, category, args.per):
            started = time.perf_counter()
            calls = await one_step(provider, case, args.mode == "constrained")
            if truth is None:
                why = f"called {calls[0][0]}" if calls else ""
            else:
                why = "no call" if not calls else ast_match(calls[0][0], calls[0][1], truth)
            record = {"model": model.name, "mode": args.mode, "category": category, "id": case["id"],
                      "ok": not why, "why": why, "calls": calls, "seconds": round(time.perf_counter() - started, 2)}
            records.append(record)
            print(json.dumps(record, ensure_ascii=False, default=str), flush=True)
            if args.out:
                with args.out.open("a", encoding="utf-8") as f:
                    f.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
    return records


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="bfcl_eval/data from the unpacked wheel")
    parser.add_argument("--model", default="qwen0.5")
    parser.add_argument("--mode", choices=("constrained", "native"), default="constrained")
    parser.add_argument("--categories", nargs="*", default=list(CATEGORIES), choices=list(CATEGORIES))
    parser.add_argument("--per", type=int, default=50, help="cases per category, spread evenly")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if not (args.data / CATEGORIES["simple"]).exists():
        raise SystemExit(f"{args.data}: no {CATEGORIES['simple']} here (see the command at the top of this file)")
    os.environ.setdefault("XDG_CACHE_HOME", tempfile.mkdtemp(prefix="llmos-bfcl-cache-"))  # the engine's KV files
    records = asyncio.run(run(args))
    for category in args.categories:
        rs = [r for r in records if r["category"] == category]
        if rs:
            good = sum(r["ok"] for r in rs)
            print(f"{category}: {good}/{len(rs)} ({100 * good / len(rs):.0f} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
