"""Conversation benchmarks: trimming long histories to a 4k budget, and how it scales.

Run: .venv/bin/python benchmarks/bench_conversation.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from llmos.conversation.history import Conversation  # noqa: E402
from llmos.conversation.tokens import TokenCounter  # noqa: E402
from llmos.llm.messages import Message, ToolCall  # noqa: E402


def history(n: int) -> list[Message]:
    messages: list[Message] = []
    i = 0
    while len(messages) < n:
        messages.append(Message("user", f"show me the biggest files in ~/Downloads/folder{i} please"))
        call = ToolCall(f"c{i}", "find_largest", {"path": f"~/Downloads/folder{i}", "count": 5})
        messages.append(Message("assistant", "", tool_calls=[call]))
        messages.append(Message("tool", '{"files": [{"path": "~/Downloads/a.iso", "size": 4000000}]}',
                                tool_call_id=call.id, name=call.name))
        messages.append(Message("assistant", f"The biggest file in folder{i} is a.iso (4 MB)."))
        i += 1
    return messages[:n]


def measure(n: int, repeats: int = 5) -> tuple[float, float]:
    """(first fit with a cold cache, median of later fits) in seconds."""
    messages = history(n)
    counter = TokenCounter()
    conversation = Conversation(messages)
    start = time.perf_counter()
    conversation.fit(4096, counter)
    cold = time.perf_counter() - start
    warm = []
    for _ in range(repeats):
        conversation.append(Message("user", "and the next one?"))
        start = time.perf_counter()
        conversation.fit(4096, counter)
        warm.append(time.perf_counter() - start)
    return cold, statistics.median(warm)


if __name__ == "__main__":
    print(f"{'messages':>9s} {'first fit (cold cache)':>24s} {'next turn (warm cache)':>24s}")
    for n in (1_000, 10_000, 100_000):
        cold, warm = measure(n)
        print(f"{n:9,d} {cold * 1000:21.1f} ms {warm * 1000:21.2f} ms")
