"""The task suite's answer check (benchmarks/tasks/checks.py): a fact is stated, a number only whole."""

from __future__ import annotations

import pytest

from benchmarks.tasks.checks import says


@pytest.mark.parametrize(("text", "wanted", "stated"), [
    ("It has 23.5 GB of RAM", "23.5", True),
    ("2+2 is 4.", "4", True),
    ("PID 4242 is backup-daemon", "4242", True),
    ("the capital is paris", "Paris", True),
    # the first 0.5B run passed "how much RAM?" on a disk answer: "25" (GB of RAM) inside "25.0%"
    ("The disk has 76.1 GB free, 25.0% of it", "25", False),
    ("memory 1.2 GB of 23.5 GB", "2", False),
    ("15% of 200 is 300", "30", False),
])
def test_a_number_counts_only_whole(text: str, wanted: str, stated: bool) -> None:
    assert says(text, wanted) is stated


def test_every_tool_a_check_names_exists() -> None:
    """sys-disk-free once asked for system.system_disk_usage (the exposed name, not the tool's), so a right
    call of system.disk_usage failed."""
    from benchmarks.tasks import suite
    from tests.test_retrieval_corpus import live_tools

    tools = {t.qualified for t in live_tools().values()}
    named = {(t.id, n) for t in suite.load() for n in t.check.get("called") or []}
    assert named and {(i, n) for i, n in named if n not in tools} == set()
