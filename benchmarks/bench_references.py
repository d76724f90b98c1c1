"""Reference resolution accuracy over the dialogue corpus (tests/data/references*.yaml), by what the question
used to point at its referent. Same data and scoring as tests/test_references.py.

Run: .venv/bin/python benchmarks/bench_references.py
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from llmos.conversation.references.describe import expressions  # noqa: E402
from tests.test_references import CORPUS, questions  # noqa: E402


def kind_of(question: str, event: dict) -> str:
    if event.get("ambiguous"):
        return "two fit: must ask"
    if not event.get("expect"):
        return "nothing to refer to"
    found = expressions(question)
    for label, test in (("the one using most cpu/memory", lambda e: e.superlative in ("cpu", "memory")),
                        ("ordinal / size over the last listing", lambda e: e.ordinal is not None or e.superlative),
                        ("role (original, copy, new)", lambda e: bool(e.role)),
                        ("words of a name", lambda e: bool(e.words) and not e.extensions),
                        ("kind or extension", lambda e: bool(e.extensions or e.kinds))):
        if any(test(e) for e in found):
            return label
    return "recency (it, that, them, there)"


def main() -> None:
    right, total = Counter(), Counter()
    start = time.perf_counter()
    for _dialogue, event, _found, ok in questions():  # observing and resolving, timed together
        label = kind_of(event["ask"], event)
        total[label] += 1
        right[label] += ok
    elapsed = time.perf_counter() - start
    print(f"{len(CORPUS)} dialogues, {sum(total.values())} questions\n")
    print("| how the question points | questions | resolved as expected |")
    print("|---|---|---|")
    for label in sorted(total, key=lambda k: -total[k]):
        print(f"| {label} | {total[label]} | {right[label]} ({right[label] / total[label]:.0%}) |")
    all_right, all_total = sum(right.values()), sum(total.values())
    print(f"| **all** | {all_total} | {all_right} ({all_right / all_total:.1%}) |")
    print(f"\n{elapsed * 1000 / all_total:.2f} ms a question (observing included)")


if __name__ == "__main__":
    main()
