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
            key = f"{call.name} {json.dumps(call.arguments, sort_keys=True, default=str)}"
            self.counts[key] += 1
            self.just_repeated = self.just_repeated or self.counts[key] > 1
            if self.counts[key] >= self.limit:
                return (f"I stopped: the model asked for {call.name} with the same arguments {self.limit} times "
                        "in one request without getting anywhere. Try rephrasing the request, or a larger model.")
        return None
