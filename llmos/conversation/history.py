"""The history of one conversation, and fitting it into a token budget.

Trimming drops whole exchanges, oldest first: an exchange is a user message with every assistant message
and tool result that answered it, so a tool call and its result always go (or stay) together. The system
prompt, pinned notes and the latest exchange always stay. One pass, O(n) in the number of messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from llmos.conversation.tokens import TokenCounter
from llmos.errors import ErrorKind, ProviderError
from llmos.llm.messages import Message


class RequestTooLarge(ProviderError):
    """The latest request alone does not fit the model's context."""

    def __init__(self, needed: int, available: int):
        self.needed, self.available = needed, available
        super().__init__("context", ErrorKind.CONTEXT_TOO_LONG, "", transient=False)
        self.args = (self.__str__(),)

    def __str__(self) -> str:
        if self.available <= 0:
            return (f"the model's context is too small for this request (about {self.needed:,} tokens) next to the "
                    "system prompt and tools; use a model with a larger context")
        return (f"this request needs about {self.needed:,} tokens but only {self.available:,} fit in the model's "
                f"context; shorten it, or send part of it (about the first {self.available * 3:,} characters)")


@dataclass
class Conversation:
    messages: list[Message] = field(default_factory=list)
    summary: str = ""  # compacted older exchanges; sent as a note before the history
    pinned: list[str] = field(default_factory=list)  # facts that must stay (e.g. resolved references)

    def append(self, message: Message) -> None:
        self.messages.append(message)

    def exchanges(self) -> list[tuple[int, int]]:
        """(start, end) index ranges of exchanges; messages before the first user message form one too."""
        starts = [i for i, m in enumerate(self.messages) if m.role == "user"]
        if not starts or starts[0] != 0:
            starts = [0, *starts]
        bounds = [*starts, len(self.messages)]
        return [(bounds[i], bounds[i + 1]) for i in range(len(starts)) if bounds[i] < bounds[i + 1]]

    def notes(self) -> list[Message]:
        """Summary and pinned facts, sent after the system prompt."""
        parts = []
        if self.summary:
            parts.append(f"Summary of the earlier conversation:\n{self.summary}")
        if self.pinned:
            parts.append("Keep in mind:\n" + "\n".join(f"- {p}" for p in self.pinned))
        return [Message("user", "\n\n".join(parts)), Message("assistant", "Understood.")] if parts else []

    def fit(self, budget: int, counter: TokenCounter, max_messages: int | None = None) -> list[Message]:
        """The notes and the newest whole exchanges that fit in ``budget`` tokens (system prompt excluded)
        and, beyond the latest exchange, in ``max_messages`` messages (context.keep_messages)."""
        notes = self.notes()
        used = sum(counter.count_message(m) for m in notes)
        ranges = self.exchanges()
        if not ranges:
            return notes
        kept_from = len(self.messages)
        for position, (start, end) in enumerate(reversed(ranges)):
            cost = sum(counter.count_message(m) for m in self.messages[start:end])
            if used + cost > budget:
                if position == 0:  # the latest exchange is the request itself: it must be sent whole
                    raise RequestTooLarge(used + cost, budget)
                break
            if position > 0 and max_messages is not None and len(self.messages) - start > max_messages:
                break
            used += cost
            kept_from = start
        return [*notes, *self.messages[kept_from:]]

    def tokens(self, counter: TokenCounter) -> int:
        return sum(counter.count_message(m) for m in (*self.notes(), *self.messages))
