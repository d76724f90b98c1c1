"""Loop detection: a model that asks for the same call with the same arguments again and again is stuck.

The third identical call in one turn is not run; the turn ends and says so, instead of spending the step
budget (and the person's time) on a repeat that will not give a different answer. A second identical call
(``just_repeated``) is the first sign: small models often ask again for a result they already have, so the
agent's next step offers no tools and the model answers from what it has.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable

from llmos.llm.messages import ToolCall

REPEATS = 3


class LoopGuard:
    """Counts calls by (name, arguments) within one turn."""

    def __init__(self, limit: int = REPEATS) -> None:
        self.limit = limit
        self.counts: Counter[str] = Counter()
        self.just_repeated = False  # the last calls recorded included one already made in this turn

    def repeated(self, calls: Iterable[ToolCall]) -> str | None:
        """Record ``calls``; the message that stops the turn when one of them reaches the limit, else None."""
        self.just_repeated = False
        for call in calls:
            key = _key(call)
            self.counts[key] += 1
            self.just_repeated = self.just_repeated or self.counts[key] > 1
            if self.counts[key] >= self.limit:
                return (f"I stopped: the model asked for {call.name} with the same arguments {self.limit} times "
                        "in one request without getting anywhere. Try rephrasing the request, or a larger model.")
        return None


class Failures:
    """Calls that failed in this turn. Measured on Qwen2.5-Coder-0.5B (benchmarks/README.md): after an
    error, it sends the very same call again — delete of a made-up path, git_show of a 'master' that does not
    exist, kill_process of an invented PID — until the loop guard ends the turn (10 of 80 tasks in one run).

    So the same failing call is not run again (its error is given back at once), and a tool whose call
    failed twice the same way, or was refused for an identifier nobody gave, is withdrawn from the steps
    after — the model has to take another tool or answer — until some other call succeeds (a PID looked up
    brings kill_process back).
    """

    GIVE_UP = 2  # tools withdrawn in one turn before the model must answer

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}
        self.withdrawn: set[str] = set()
        self.withdrawals = 0  # in the whole turn; measured: pushed off delete and delete_permanently, the 0.5B
        # tried git_delete_branch, then git_init — which made the home folder a repository

    @property
    def given_up(self) -> bool:
        """Enough tools failed: the next step answers instead of trying unrelated ones."""
        return self.withdrawals >= self.GIVE_UP

    def known(self, call: ToolCall) -> str | None:
        """The error this very call gave earlier in the turn, or None."""
        return self.errors.get(_key(call))

    def record(self, call: ToolCall, ok: bool, text: str, hopeless: bool = False) -> None:
        """``hopeless``: retrying this tool cannot help until something new is known."""
        key = _key(call)
        if ok:
            self.withdrawn.clear()
            return
        if (key in self.errors or hopeless) and call.name not in self.withdrawn:
            self.withdrawn.add(call.name)
            # A made-up PID refused is not a tool that failed: measured, counting those ended "what's the PID
            # of backup-daemon?" after process_details(12345) and kill_process(12345), before find_processes.
            self.withdrawals += 0 if hopeless else 1
        self.errors.setdefault(key, text)

    def offered(self, names: Iterable[str]) -> set[str]:
        return set(names) - self.withdrawn


def _key(call: ToolCall) -> str:
    return f"{call.name} {json.dumps(call.arguments, sort_keys=True, default=str)}"
