"""Compaction: older exchanges summarised by the model into a short note that keeps paths, decisions and
results. If summarising fails or does not fit, trimming takes over — a session can never get stuck."""

from __future__ import annotations

import logging

from llmos.conversation.history import Conversation
from llmos.conversation.tokens import TokenCounter
from llmos.errors import LlmosError
from llmos.llm.messages import ChatRequest, Message
from llmos.llm.router import Router

log = logging.getLogger(__name__)

KEEP_EXCHANGES = 2  # the newest exchanges stay verbatim
SUMMARY_PROMPT = ("Summarise this conversation between a user and an assistant that operates their computer, "
                  "in at most {words} words. Keep every file path, folder, URL, app, process and repository "
                  "mentioned, what was decided, and what was done with what result. Plain sentences, no preamble.")


def render(messages: list[Message]) -> str:
    lines = []
    for m in messages:
        if m.role == "tool":
            lines.append(f"[tool {m.name or ''} result] {m.content[:600]}")
        elif m.tool_calls:
            calls = "; ".join(f"{c.name}({c.arguments})" for c in m.tool_calls)
            lines.append(f"assistant called: {calls}" + (f" — {m.content}" if m.content else ""))
        else:
            lines.append(f"{m.role}: {m.content}")
    return "\n".join(lines)


async def compact(conversation: Conversation, router: Router, counter: TokenCounter, budget: int,
                  force: bool = False, threshold: float = 0.75) -> bool:
    """Summarise all but the newest exchanges when the history passes ``threshold`` of ``budget``.
    Returns True when it compacted; on any failure it leaves the history as it was (fit() trims)."""
    ranges = conversation.exchanges()
    if len(ranges) <= KEEP_EXCHANGES:
        return False
    if not force and conversation.tokens(counter) < threshold * budget:
        return False
    cut = ranges[-KEEP_EXCHANGES][0]
    old = conversation.messages[:cut]
    text = render(old)
    if conversation.summary:
        text = f"Earlier summary: {conversation.summary}\n{text}"
    words = max(40, min(200, budget // 12))
    # The summary request must itself fit: the model reads at most about half the budget of old text.
    limit_chars = budget * 2  # about half the budget at ~4 characters a token
    if len(text) > limit_chars:
        text = text[-limit_chars:]
    request = ChatRequest([Message("system", SUMMARY_PROMPT.format(words=words)), Message("user", text)],
                          max_tokens=words * 2, stream=False)
    try:
        result = await router.chat(request, text_for_routing="summarise")  # simple → the fast, cheap tier
    except LlmosError as exc:
        log.info("compaction failed, trimming instead: %s", exc)
        return False
    summary = result.text.strip()
    if not summary or counter.count(summary) > budget // 3:
        return False
    conversation.summary = summary
    conversation.messages = conversation.messages[cut:]
    counter.forget(old)
    return True
