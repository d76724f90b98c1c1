"""context.max_tokens and context.keep_messages, checked on the wire: what the model server received."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from llmos.agent.confirm import NonInteractive
from llmos.agent.setup import build_agent
from llmos.config import load_config
from llmos.conversation.session import ChatSession
from llmos.conversation.tokens import TokenCounter
from llmos.llm.messages import Message
from llmos.llm.router import Router
from tests.conftest import servers_config, write_user_config
from tests.replay_server import Reply, ReplayServer, sse

_CHUNK = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "scripted"}


def answer_without_usage(text: str) -> Reply:
    """A streamed answer that reports no token counts, so llmos keeps its own estimate (no calibration)."""
    return Reply(chunks=sse([{**_CHUNK, "choices": [{"index": 0, "delta": {"role": "assistant", "content": text},
                                                      "finish_reason": None}]},
                             {**_CHUNK, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}, "[DONE]"]),
                 headers={"content-type": "text/event-stream"})


class AnsweringServer(ReplayServer):
    """Answers every chat request in the shape it asked for: streamed, or one JSON body (compaction's
    summary requests are not streamed)."""

    def _next(self, method: str, path: str) -> Reply:
        if path != "/v1/chat/completions":
            return super()._next(method, path)
        n = len(self.requests)
        if self.requests[-1].json().get("stream"):
            return answer_without_usage(f"Noted, part {n}.")
        body = {**_CHUNK, "object": "chat.completion", "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "The user listed items to remember."},
             "finish_reason": "stop"}]}
        return Reply(chunks=[json.dumps(body).encode()])


def config_text(url: str, context: str) -> str:
    return (f"providers:\n  ollama: {{enabled: false}}\n  claude: {{enabled: false}}\n  openai: {{enabled: false}}\n"
            f"  local:\n    type: openai-compatible\n    base_url: {url}\n    context_window: 4096\n"
            f"    models: {{default: scripted}}\n{context}{servers_config()}")


def converse(isolated_home: Path, context: str, turns: list[str]) -> list[list[dict]]:
    """Run ``turns`` in one conversation through the real agent; return the messages of every request sent."""
    with AnsweringServer() as server:
        write_user_config(isolated_home, config_text(server.url + "/v1", context))
        config = load_config()
        router = Router(config)
        agent = build_agent(config, router, NonInteractive())

        async def run() -> None:
            session = ChatSession()
            try:
                await agent.host.ready()
                for text in turns:
                    await agent.turn(session, text)
            finally:
                await agent.host.aclose()
                await router.aclose()

        asyncio.run(run())
        return [r.json()["messages"] for r in server.requests
                if r.path == "/v1/chat/completions" and r.json().get("stream")]


def long_turn(i: int) -> str:
    # Long, yet one turn alone fits the 1000-token bound beside the system prompt.
    return f"Remember item {i}: " + " ".join(f"word{i}x{j}" for j in range(90))


def test_max_tokens_bounds_the_prompt_window_of_a_larger_model(isolated_home: Path) -> None:
    turns = [long_turn(i) for i in range(8)]
    sent = converse(isolated_home, "context:\n  max_tokens: 1000\n", turns)
    counter = TokenCounter("scripted", "openai-compatible")
    sizes = [sum(counter.count_message(Message(m["role"], m.get("content") or "")) for m in messages)
             for messages in sent]
    assert len(sent) == len(turns)
    assert max(sizes) <= 1000, sizes
    assert max(sizes) > 500, sizes  # the history was budgeted up to the bound, not dropped wholesale
    # Without the bound all eight turns (far more than 1000 tokens) would fit the model's 4096.
    assert sum(counter.count(t) for t in turns) > 1500
    assert "Remember item 0" not in str(sent[-1])


def test_without_max_tokens_the_models_window_is_used(isolated_home: Path) -> None:
    turns = [long_turn(i) for i in range(4)]
    sent = converse(isolated_home, "", turns)
    assert "Remember item 0" in str(sent[-1])  # the whole history fits 4096 tokens


def test_keep_messages_bounds_the_history_sent(isolated_home: Path) -> None:
    turns = [f"short request number {i}" for i in range(6)]
    sent = converse(isolated_home, "context:\n  keep_messages: 4\n", turns)
    history = [[m for m in messages if m["role"] != "system"] for messages in sent]
    assert max(len(h) for h in history) <= 4, [len(h) for h in history]
    assert history[-1][-1]["content"] == "short request number 5"  # the request itself is always sent
    # Older exchanges stay while they fit, whole (request and answer): the previous one here.
    assert [m["role"] for m in history[-1]] == ["user", "assistant", "user"]
    assert history[-1][0]["content"] == "short request number 4"
