"""Router: order, retries, fallback, usage records — with real adapters over loopback."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from llmos.config import load_config
from llmos.errors import ErrorKind, NoProviderAvailable, ProviderError, UsageError
from llmos.llm.classify import Task, classify
from llmos.llm.messages import ChatRequest, Message
from llmos.llm.router import Router
from llmos.usage.store import UsageStore
from tests.conftest import write_user_config
from tests.llm_server import free_port
from tests.replay_server import Reply, ReplayServer, sse


def completion_chunks(text: str) -> list[bytes]:
    base = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    return sse([{**base, "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]},
                {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
                {**base, "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}},
                "[DONE]"])


def compatible(name: str, url: str, model: str = "m") -> str:
    return f"  {name}:\n    type: openai-compatible\n    base_url: {url}\n    models: {{default: {model}}}\n"


def only(*entries: str, router: str = "") -> str:
    return ("providers:\n  ollama: {enabled: false}\n  embedded: {enabled: false}\n  claude: {enabled: false}\n"
            "  openai: {enabled: false}\n" + "".join(entries) + router)


class Sleeps(list):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def ask(router: Router, text: str = "hello", **kw) -> object:
    async def go():
        try:
            return await router.chat(ChatRequest([Message("user", text)]), **kw)
        finally:
            await router.aclose()
    return asyncio.run(go())


def test_classifier_tiers() -> None:
    assert classify("open firefox") is Task.SIMPLE
    assert classify("write a poem about the sea") is Task.CREATIVE
    assert classify("explain the trade-offs between btrfs and ext4 for a laptop") is Task.COMPLEX
    assert classify("list the files in my downloads folder that are larger than a gigabyte please") is Task.MODERATE
    assert Task.SIMPLE.tier == "fast" and Task.COMPLEX.tier == "reasoning"


def test_local_first_puts_local_providers_first(isolated_home: Path) -> None:
    write_user_config(isolated_home, "router:\n  fallback_chain: [claude, openai, ollama]\n")
    router = Router(load_config())
    assert router.order(Task.SIMPLE) == ["ollama", "embedded", "claude", "openai"]
    write_user_config(isolated_home, "router:\n  fallback_chain: [claude, openai, ollama]\n  local_first: false\n")
    assert Router(load_config()).order(Task.SIMPLE) == ["claude", "openai", "ollama", "embedded"]


def test_complex_tasks_go_to_cloud_first_when_cost_does_not_matter(isolated_home: Path) -> None:
    write_user_config(isolated_home, "router:\n  cost_optimization: false\n")
    router = Router(load_config())
    assert router.order(Task.COMPLEX)[0] == "claude"
    assert router.order(Task.SIMPLE)[0] == "ollama"


def test_explicit_provider_is_the_only_one_tried(isolated_home: Path) -> None:
    router = Router(load_config())
    assert router.order(Task.SIMPLE, provider="openai") == ["openai"]
    with pytest.raises(UsageError, match="unknown or disabled provider 'nope'"):
        router.order(Task.SIMPLE, provider="nope")


def test_fallback_to_the_next_provider_and_usage_of_both(isolated_home: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    with ReplayServer() as server:
        server.add("POST", "/v1/chat/completions", Reply(chunks=completion_chunks("hi")))
        write_user_config(isolated_home, only(compatible("dead", dead), compatible("alive", server.url + "/v1")))
        store = UsageStore(isolated_home / "usage.db")
        fallbacks = []
        result = ask(Router(load_config(), store), on_fallback=lambda name, err: fallbacks.append((name, err.kind)))
    assert result.text == "hi" and result.provider == "alive" and result.fallback_from == ["dead"]
    assert fallbacks == [("dead", ErrorKind.UNAVAILABLE)]
    records = store.records()
    assert [(r.provider, r.success, r.error_kind) for r in records] == [("dead", False, "UNAVAILABLE"),
                                                                         ("alive", True, None)]
    assert records[1].input_tokens == 5 and records[1].ttft_s is not None


def test_rate_limit_is_retried_with_backoff_honouring_retry_after(isolated_home: Path) -> None:
    with ReplayServer() as server:
        limited = b'{"error": {"message": "Rate limit reached", "type": "rate_limit_exceeded"}}'
        server.add("POST", "/v1/chat/completions", Reply(429, [limited], {"retry-after": "2"}))
        server.add("POST", "/v1/chat/completions", Reply(429, [limited]))
        server.add("POST", "/v1/chat/completions", Reply(chunks=completion_chunks("ok")))
        write_user_config(isolated_home, only(compatible("box", server.url + "/v1"),
                                              router="router:\n  max_retries: 2\n  backoff_base_s: 0.5\n"))
        sleeps = Sleeps()
        result = ask(Router(load_config(), sleep=sleeps))
        assert len(server.requests) == 3
    assert result.text == "ok"
    assert len(sleeps) == 2
    assert 1.6 <= sleeps[0] <= 2.4  # Retry-After: 2, with ±20 % jitter
    assert 0.8 <= sleeps[1] <= 1.2  # base 0.5 × 2^1, with jitter


def test_retries_are_bounded_then_fall_back(isolated_home: Path) -> None:
    with ReplayServer() as busy, ReplayServer() as spare:
        busy.add("POST", "/v1/chat/completions", Reply(529, [b'{"error": {"message": "Overloaded"}}']))
        spare.add("POST", "/v1/chat/completions", Reply(chunks=completion_chunks("spare")))
        write_user_config(isolated_home, only(compatible("busy", busy.url + "/v1"),
                                              compatible("spare", spare.url + "/v1"),
                                              router="router:\n  max_retries: 1\n"))
        result = ask(Router(load_config(), sleep=Sleeps()))
        assert len(busy.requests) == 2
    assert result.provider == "spare" and result.fallback_from == ["busy"]


def test_bad_request_does_not_fall_back(isolated_home: Path) -> None:
    with ReplayServer() as first, ReplayServer() as second:
        first.add("POST", "/v1/chat/completions", Reply(400, [b'{"error": {"message": "bad temperature"}}']))
        write_user_config(isolated_home, only(compatible("a", first.url + "/v1"), compatible("b", second.url + "/v1")))
        with pytest.raises(ProviderError) as err:
            ask(Router(load_config()))
        assert second.requests == []
    assert err.value.kind is ErrorKind.BAD_REQUEST


def test_nothing_reachable_explains_what_was_tried(isolated_home: Path) -> None:
    write_user_config(isolated_home, f"providers:\n  ollama:\n    base_url: http://127.0.0.1:{free_port()}\n")
    with pytest.raises(NoProviderAvailable) as err:
        ask(Router(load_config()))
    message = str(err.value)
    assert "ollama — provider unavailable" in message
    assert "claude — not set up: ANTHROPIC_API_KEY is not set" in message
    assert "ollama serve" in message and "OPENAI_API_KEY" in message and "OpenAI-compatible" in message


def test_a_provider_that_just_failed_is_tried_last(isolated_home: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    with ReplayServer() as server:
        server.add("POST", "/v1/chat/completions", Reply(chunks=completion_chunks("hi")))
        write_user_config(isolated_home, only(compatible("dead", dead), compatible("alive", server.url + "/v1")))
        router = Router(load_config())

        async def twice():
            await router.chat(ChatRequest([Message("user", "a")]))
            order_after = router.order(Task.SIMPLE)
            await router.aclose()
            return order_after
        assert asyncio.run(twice()) == ["alive", "dead"]


def test_configured_default_provider_is_a_preference_not_a_pin(isolated_home: Path) -> None:
    write_user_config(isolated_home, "router:\n  default_provider: openai\n  fallback_provider: claude\n")
    router = Router(load_config())
    assert router.order(Task.SIMPLE) == ["openai", "claude", "ollama", "embedded"]
    assert router.order(Task.SIMPLE, provider="ollama") == ["ollama"]  # /provider or --provider pins


def test_provider_flag_pins_even_without_the_explicit_argument(isolated_home: Path) -> None:
    # `llmos run --provider X` also reaches code that does not pass the provider along (compaction).
    router = Router(load_config(flags={"router.default_provider": "claude"}))
    assert router.order(Task.SIMPLE) == ["claude"]


def test_configured_default_that_is_down_falls_back_through_the_chain(isolated_home: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    with ReplayServer() as server:
        server.add("POST", "/v1/chat/completions", Reply(chunks=completion_chunks("hi")))
        write_user_config(isolated_home, only(compatible("dead", dead), compatible("local", server.url + "/v1"),
                                              router="router:\n  default_provider: dead\n"
                                                     "  fallback_chain: [dead, local]\n"))
        result = ask(Router(load_config()))
    assert result.text == "hi" and result.provider == "local" and result.fallback_from == ["dead"]


def test_llmos_provider_variable_pins_like_the_flag(isolated_home: Path) -> None:
    config = load_config(environ={"LLMOS_PROVIDER": "claude"})
    assert config.origins["router.default_provider"].written_as == "LLMOS_PROVIDER"
    assert Router(config).order(Task.SIMPLE) == ["claude"]
    preferred = load_config(environ={"LLMOS_PREFERENCES__DEFAULT_PROVIDER": "claude"})
    assert Router(preferred).order(Task.SIMPLE) == ["claude", "ollama", "embedded", "openai"]
