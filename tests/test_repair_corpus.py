"""Tool-call repair over the public corpus (tests/data/repair-public.json: canitoolcall fixtures and BFCL v4
irrelevance sets) and the project's own (tests/data/repair-own.yaml). benchmarks/bench_repair.py prints the
same figures per shape for benchmarks/README.md.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from llmos.agent.repair import repair

DATA = Path(__file__).parent / "data"


def builtin_schemas() -> dict[str, Any]:
    tools = json.loads((DATA / "builtin-tools.json").read_text(encoding="utf-8"))["tools"]
    return {name: tool["input_schema"] for name, tool in tools.items()}


def load_cases() -> list[dict[str, Any]]:
    public = json.loads((DATA / "repair-public.json").read_text(encoding="utf-8"))["cases"]
    own = yaml.safe_load((DATA / "repair-own.yaml").read_text(encoding="utf-8"))["cases"]
    builtin = builtin_schemas()
    for case in own:
        case["family"] = "own/" + case["shape"]
        case["tools"] = case.get("tools") or builtin
    return public + own


def outcome(case: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """recovered | missed | wrong (a different call than meant) | false call | correct (no call, none made)."""
    calls = [{"name": c.name, "arguments": c.arguments} for c in repair(case["text"], case["tools"]).calls]
    expect = case["expect"]
    if not expect:
        return ("correct" if not calls else "false call"), calls
    if calls == expect:
        return "recovered", calls
    return ("missed" if not calls else "wrong"), calls


def tally(cases: list[dict[str, Any]]) -> dict[str, Counter[str]]:
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for case in cases:
        table[case["family"]][outcome(case)[0]] += 1
    return table


CASES = load_cases()


def _failures(cases: list[dict[str, Any]], kinds: tuple[str, ...]) -> list[str]:
    out = []
    for case in cases:
        kind, calls = outcome(case)
        if kind in kinds:
            out.append(f"{case['id']}: {kind}: got {calls} expected {case['expect']}")
    return out


def test_no_false_calls_anywhere() -> None:
    failures = _failures(CASES, ("false call", "wrong"))
    assert not failures, "\n".join(failures[:40])


def test_at_least_95_percent_of_calls_are_recovered() -> None:
    with_calls = [c for c in CASES if c["expect"]]
    failures = _failures(with_calls, ("missed",))
    recovered = len(with_calls) - len(failures)
    print(f"\nrecovered {recovered}/{len(with_calls)} = {recovered / len(with_calls):.1%}")
    assert recovered / len(with_calls) >= 0.95, "\n".join(failures[:60])


def test_the_corpus_is_large_and_covers_every_shape() -> None:
    families = {c["family"] for c in CASES}
    assert len(CASES) >= 1000
    for family in ("qwen3-hermes", "qwen3-xml", "mistral", "gemma4", "llama", "bfcl-irrelevance"):
        assert family in families


@pytest.mark.parametrize("case", [c for c in CASES if c["family"].startswith("own/")], ids=lambda c: c["id"])
def test_own_corpus_case(case: dict[str, Any]) -> None:
    kind, calls = outcome(case)
    assert kind in ("recovered", "correct"), f"{kind}: got {calls}, expected {case['expect']}"
