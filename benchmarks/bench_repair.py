"""Tool-call repair on the public corpus and llmos's own: recovered / missed / false calls per shape.

The same data and scoring as tests/test_repair_corpus.py. Public cases come from canitoolcall's fixtures and
BFCL v4's irrelevance sets (tests/data/repair-public.json, made by benchmarks/load_repair_corpus.py).

Run: .venv/bin/python benchmarks/bench_repair.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.test_repair_corpus import CASES, outcome  # noqa: E402


def main() -> None:
    rows: dict[str, dict[str, int]] = {}
    start = time.perf_counter()
    for case in CASES:
        kind, _calls = outcome(case)
        row = rows.setdefault(case["family"], {"cases": 0, "with calls": 0, "recovered": 0, "missed": 0,
                                               "wrong": 0, "false call": 0})
        row["cases"] += 1
        row["with calls"] += bool(case["expect"])
        if kind != "correct":
            row[kind] += 1
    elapsed = time.perf_counter() - start
    print("| shape / family | cases | with calls | recovered | missed | wrong call | false call (no call meant) |")
    print("|---|---|---|---|---|---|---|")
    total = {k: 0 for k in next(iter(rows.values()))}
    for family in sorted(rows):
        row = rows[family]
        total = {k: total[k] + row[k] for k in total}
        print(f"| {family} | {row['cases']} | {row['with calls']} | {row['recovered']} | {row['missed']} | "
              f"{row['wrong']} | {row['false call']} |")
    share = total["recovered"] / total["with calls"] if total["with calls"] else 0.0
    print(f"| **all** | {total['cases']} | {total['with calls']} | {total['recovered']} ({share:.1%}) | "
          f"{total['missed']} | {total['wrong']} | {total['false call']} |")
    print(f"\n{len(CASES)} cases in {elapsed * 1000:.0f} ms ({elapsed / len(CASES) * 1e6:.0f} µs a case)")


if __name__ == "__main__":
    main()
