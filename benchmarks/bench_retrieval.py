"""Tool retrieval: recall@budget and prompt tokens over the everyday request corpus, with the real tool list
of the built-in servers (connected in process). Same data and scoring as tests/test_retrieval_corpus.py.

Run: .venv/bin/python benchmarks/bench_retrieval.py [--misses]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from llmos.agent import retrieval  # noqa: E402
from llmos.agent.loop import system_prompt  # noqa: E402
from llmos.llm.providers.base import estimate_tokens  # noqa: E402
from tests.test_retrieval_corpus import BUDGET, CORPUS, evaluate, live_tools  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list the requests whose tools were not offered")
    show_misses = parser.parse_args().misses
    tools = live_tools()
    everything = estimate_tokens(system_prompt()) + sum(retrieval.schema_tokens(t) for t in tools.values())
    print(f"{len(CORPUS)} requests, {len(tools)} tools; system prompt ≈ {estimate_tokens(system_prompt())} tokens; "
          f"every tool offered ≈ {everything} tokens\n")
    print("| tool budget | recall | requests fully served | tools offered (median / max) "
          "| prompt tokens (median / max) |")
    print("|---|---|---|---|---|")
    for budget in (500, 700, BUDGET, 1200):
        start = time.perf_counter()
        outcomes = [evaluate(tools, case, budget) for case in CORPUS]
        elapsed = (time.perf_counter() - start) / len(CORPUS)
        found, needed = sum(o.found for o in outcomes), sum(o.needed for o in outcomes)
        served = sum(not o.missing for o in outcomes)
        counts, tokens = [len(o.offered) for o in outcomes], [o.tokens for o in outcomes]
        print(f"| {budget}{' (default)' if budget == BUDGET else ''} | {found}/{needed} = {found / needed:.1%} | "
              f"{served}/{len(outcomes)} | {statistics.median(counts):.0f} / {max(counts)} | "
              f"{statistics.median(tokens):.0f} / {max(tokens)} |")
        if show_misses and budget == BUDGET:
            misses = [o for o in outcomes if o.missing]
        print(f"  ({elapsed * 1000:.2f} ms a request)", file=sys.stderr)
    if show_misses:
        for o in misses:
            print(f"- {o.request!r}: missing {', '.join(o.missing)}; offered {', '.join(o.offered)}")


if __name__ == "__main__":
    main()
