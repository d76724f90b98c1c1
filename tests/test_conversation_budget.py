"""Budget and trimming: property-based over random histories with tool exchanges."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmos.conversation.history import Conversation, RequestTooLarge
from llmos.conversation.tokens import TokenCounter
from llmos.llm.messages import Message, ToolCall

text = st.text(alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "Zs")), max_size=400)


@st.composite
def exchange(draw) -> list[Message]:
    messages = [Message("user", draw(text))]
    for step in range(draw(st.integers(0, 3))):
        calls = [ToolCall(f"c{step}_{i}_{draw(st.integers(0, 10**6))}", "list_directory", {"path": draw(text)[:40]})
                 for i in range(draw(st.integers(1, 3)))]
        messages.append(Message("assistant", draw(text)[:50], tool_calls=calls))
        messages += [Message("tool", draw(text), tool_call_id=c.id, name=c.name) for c in calls]
    messages.append(Message("assistant", draw(text)))
    return messages


histories = st.lists(exchange(), min_size=1, max_size=12).map(lambda xs: [m for x in xs for m in x])


def assert_well_formed(kept: list[Message]) -> None:
    offered = set()
    for m in kept:
        if m.role == "assistant":
            offered |= {c.id for c in m.tool_calls}
        if m.role == "tool":
            assert m.tool_call_id in offered, "a tool result lost its call"
    answered = {m.tool_call_id for m in kept if m.role == "tool"}
    for m in kept:
        for c in m.tool_calls:
            assert c.id in answered, "a tool call lost its result"


@settings(max_examples=300, deadline=None)
@given(histories, st.integers(20, 3000), st.sampled_from(["", "gpt-4o"]))
def test_trimming_never_exceeds_budget_nor_orphans_a_tool_result(messages, budget, model) -> None:
    conversation = Conversation(list(messages))
    counter = TokenCounter(model, "openai" if model else "ollama")
    try:
        kept = conversation.fit(budget, counter)
    except RequestTooLarge as exc:
        last_user = max(i for i, m in enumerate(messages) if m.role == "user")
        assert sum(counter.count_message(m) for m in messages[last_user:]) > budget
        assert exc.needed > exc.available == budget
        return
    assert sum(counter.count_message(m) for m in kept) <= budget
    assert_well_formed(kept)
    last_user = max(i for i, m in enumerate(messages) if m.role == "user")
    assert kept[-(len(messages) - last_user):] == messages[last_user:], "the latest exchange is kept whole"
    assert kept == messages[len(messages) - len(kept):], "only the oldest messages are dropped"


@settings(max_examples=100, deadline=None)
@given(histories, st.integers(200, 3000), st.text(min_size=1, max_size=200))
def test_summary_and_pinned_notes_always_stay(messages, budget, summary) -> None:
    conversation = Conversation(list(messages), summary=summary, pinned=["it = ~/Downloads/ubuntu.iso"])
    try:
        kept = conversation.fit(budget, TokenCounter())
    except RequestTooLarge:
        return
    assert summary in kept[0].content and "ubuntu.iso" in kept[0].content
    assert_well_formed(kept)


def test_a_request_too_large_says_what_fits() -> None:
    conversation = Conversation([Message("user", "x " * 5000)])
    with pytest.raises(RequestTooLarge) as err:
        conversation.fit(1000, TokenCounter())
    assert "needs about" in str(err.value) and "1,000" in str(err.value)


def test_calibration_moves_the_estimate_towards_reported_counts() -> None:
    from llmos.conversation.tokens import text_units

    counter = TokenCounter("llama3.2:3b", "ollama")
    message = Message("user", "delete the file ~/Downloads/report-2024.pdf now " * 40)
    units = text_units(message.content)
    assert counter.count_message(message) == -(-units * 10 // 11) + 4  # units ÷ 1.1, plus overhead
    counter.calibrate_prompt([message], reported_tokens=units // 2 + 4)  # this model: 2 units a token
    assert counter.units_per_token == pytest.approx(2.0, rel=0.02)
    assert counter.count_message(message) == pytest.approx(units / 2 + 4, abs=1)


def test_a_cancelled_step_leaves_every_tool_call_answered() -> None:
    from llmos.conversation.session import ChatSession

    session = ChatSession()
    session.add(Message("user", "clean up"))
    calls = [ToolCall("a", "delete", {"path": "/tmp/x"}), ToolCall("b", "delete", {"path": "/tmp/y"})]
    session.add(Message("assistant", "", tool_calls=calls))
    session.add(Message("tool", "moved to trash", tool_call_id="a", name="delete"))
    session.close_dangling("cancelled by the user")  # Ctrl-C before the second call ran
    messages = session.conversation.messages
    assert [(m.role, m.tool_call_id) for m in messages[-2:]] == [("tool", "a"), ("tool", "b")]
    assert messages[-1].content == "Not run: cancelled by the user."
    session.close_dangling("again")  # nothing left waiting: nothing added
    assert len(session.conversation.messages) == 4
