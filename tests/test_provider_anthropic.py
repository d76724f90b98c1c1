"""The Anthropic adapter against Anthropic's wire format replayed from 127.0.0.1: the real SDK, real HTTP."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from typing import Any

import pytest

from llmos.config.model import ProviderConfig
from llmos.errors import ErrorKind, ProviderError
from llmos.llm.messages import (ChatRequest, Done, Message, StreamEvent, TextDelta, ToolCall, ToolCallEvent,
                                ToolSpec, Usage)
from llmos.llm.providers.base import drain
from llmos.llm.providers.anthropic_messages import AnthropicProvider
from tests.replay_server import ReplayServer, Reply, sse

KEY_ENV = "TEST_ANTHROPIC_KEY"
MODEL = "claude-sonnet-4-6"
SSE_HEADERS = {"content-type": "text/event-stream", "cache-control": "no-cache"}

WEATHER = ToolSpec("get_weather", "Get the current weather in a given location",
                   {"type": "object", "required": ["location"],
                    "properties": {"location": {"type": "string"}, "unit": {"type": "string"}}})


@pytest.fixture
def server():
    with ReplayServer() as s:
        yield s


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-ant-test-123")


def make_provider(url: str, timeout: float = 5.0, headers: dict[str, str] | None = None,
                  total: float = 600.0) -> AnthropicProvider:
    config = ProviderConfig(name="claude", type="anthropic", base_url=url, api_key_env=KEY_ENV,
                            timeout=timeout, connect_timeout=2.0, headers=headers or {},
                            total_timeout=total)
    return AnthropicProvider("claude", config)


def run(provider: AnthropicProvider, request: ChatRequest) -> list[StreamEvent]:
    async def go() -> list[StreamEvent]:
        try:
            return [event async for event in provider.chat(request)]
        finally:
            await provider.aclose()
    return asyncio.run(go())


def run_until_error(provider: AnthropicProvider, request: ChatRequest
                    ) -> tuple[list[StreamEvent], ProviderError]:
    """Events yielded before the failure, and the failure (the test fails if there is none)."""
    seen: list[StreamEvent] = []

    async def go() -> None:
        try:
            async for event in provider.chat(request):
                seen.append(event)
        finally:
            await provider.aclose()
    with pytest.raises(ProviderError) as info:
        asyncio.run(go())
    return seen, info.value


def ask(text: str = "What's the weather in San Francisco?", **kwargs: Any) -> ChatRequest:
    return ChatRequest([Message("system", "You are terse."), Message("user", text)], model=MODEL, **kwargs)


def json_delta(index: int, fragment: str) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index,
            "delta": {"type": "input_json_delta", "partial_json": fragment}}


# Exactly the event shapes Anthropic documents for a streamed answer with text and a tool call.
STREAM_EVENTS: list[dict[str, Any]] = [
    {"type": "message_start", "message": {
        "id": "msg_014p7gG3wDgGV9EUtLvnow3U", "type": "message", "role": "assistant", "model": MODEL,
        "content": [], "stop_reason": None, "stop_sequence": None,
        "usage": {"input_tokens": 472, "output_tokens": 2}}},
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    {"type": "ping"},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Okay, let me"}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": " check."}},
    {"type": "content_block_stop", "index": 0},
    {"type": "content_block_start", "index": 1, "content_block": {
        "type": "tool_use", "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "name": "get_weather", "input": {}}},
    # Argument JSON split mid-key and mid-value, after the empty first fragment Anthropic sends.
    *(json_delta(1, part)
      for part in ("", '{"locat', 'ion": "San Fra', 'ncisco, CA", "unit": "cel', 'sius"}')),
    {"type": "content_block_stop", "index": 1},
    {"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": None},
     "usage": {"output_tokens": 89}},
    {"type": "message_stop"},
]


def test_stream_yields_text_then_assembled_tool_call_then_usage(server):
    server.add("POST", "/v1/messages", Reply(200, sse(STREAM_EVENTS, named=True), SSE_HEADERS))
    events = run(make_provider(server.url), ask(tools=[WEATHER]))
    assert events == [
        TextDelta("Okay, let me"),
        TextDelta(" check."),
        ToolCallEvent(ToolCall("toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather",
                               {"location": "San Francisco, CA", "unit": "celsius"})),
        Done(Usage(472, 89), "tool_calls"),
    ]


def test_stream_request_on_the_wire(server):
    server.add("POST", "/v1/messages", Reply(200, sse(STREAM_EVENTS, named=True), SSE_HEADERS))
    provider = make_provider(server.url, headers={"anthropic-beta": "test-beta-2025"})
    run(provider, ask(tools=[WEATHER], temperature=0.2))
    sent = server.requests[-1]
    body = sent.json()
    headers = {k.lower(): v for k, v in sent.headers.items()}
    assert sent.path == "/v1/messages"
    # SDK 2.x sends the key as a bearer token rather than x-api-key; the API accepts either.
    assert headers["authorization"] == "Bearer sk-ant-test-123"
    assert headers["anthropic-version"] == "2026-10-21"
    assert headers["anthropic-beta"] == "test-beta-2025"  # configured headers pass through
    assert body["stream"] is True
    assert body["model"] == MODEL
    assert body["max_tokens"] == 4096  # required by Anthropic; the request set none
    assert "temperature" not in body  # API version 2026-10-21 rejects sampling parameters
    assert body["system"] == "You are terse."
    assert body["messages"] == [{"role": "user", "content": [
        {"type": "text", "text": "What's the weather in San Francisco?"}]}]
    assert body["tools"] == [{"name": "get_weather", "description": WEATHER.description,
                              "input_schema": WEATHER.input_schema}]


def test_conversation_with_tool_results_converts_to_alternating_turns(server):
    server.add_json("POST", "/v1/messages", NON_STREAM_REPLY)
    request = ChatRequest(model=MODEL, stream=False, max_tokens=512, messages=[
        Message("system", "You are terse."),
        Message("system", "Use tools when useful."),
        Message("user", "Weather in Paris and Rome?"),
        Message("assistant", "Checking both.", tool_calls=[
            ToolCall("toolu_a", "get_weather", {"location": "Paris"}),
            ToolCall("toolu_b", "get_weather", {"location": "Rome"})]),
        Message("tool", "18C cloudy", tool_call_id="toolu_a", name="get_weather"),
        Message("tool", "25C sunny", tool_call_id="toolu_b", name="get_weather"),
        Message("user", "And which is warmer?"),
    ])
    run(make_provider(server.url), request)
    body = server.requests[-1].json()
    assert body["system"] == "You are terse.\n\nUse tools when useful."
    assert body["max_tokens"] == 512
    assert "stream" not in body or body["stream"] is False
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Weather in Paris and Rome?"}]},
        {"role": "assistant", "content": [
            {"type": "text", "text": "Checking both."},
            {"type": "tool_use", "id": "toolu_a", "name": "get_weather", "input": {"location": "Paris"}},
            {"type": "tool_use", "id": "toolu_b", "name": "get_weather", "input": {"location": "Rome"}}]},
        # Both results, and the follow-up question, in one user turn: the roles must alternate.
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_a", "content": "18C cloudy"},
            {"type": "tool_result", "tool_use_id": "toolu_b", "content": "25C sunny"},
            {"type": "text", "text": "And which is warmer?"}]},
    ]


NON_STREAM_REPLY: dict[str, Any] = {
    "id": "msg_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant", "model": MODEL,
    "content": [
        {"type": "text", "text": "I'll look that up."},
        {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather",
         "input": {"location": "San Francisco, CA"}},
    ],
    "stop_reason": "tool_use", "stop_sequence": None,
    "usage": {"input_tokens": 2095, "output_tokens": 503},
}


def test_non_streaming_message(server):
    server.add_json("POST", "/v1/messages", NON_STREAM_REPLY)
    events = run(make_provider(server.url), ask(tools=[WEATHER], stream=False))
    assert events == [
        TextDelta("I'll look that up."),
        ToolCallEvent(ToolCall("toolu_01A09q90qw90lq917835lq9", "get_weather",
                               {"location": "San Francisco, CA"})),
        Done(Usage(2095, 503), "tool_calls"),
    ]


def test_max_tokens_stop_reason_and_malformed_tool_arguments(server):
    events = [
        STREAM_EVENTS[0],
        {"type": "content_block_start", "index": 0, "content_block": {
            "type": "tool_use", "id": "toolu_x", "name": "get_weather", "input": {}}},
        json_delta(0, '{"loc'),  # cut off by max_tokens
        {"type": "content_block_stop", "index": 0},
        # message_delta usage is cumulative; with server-side tools the input count outgrows message_start's.
        {"type": "message_delta", "delta": {"stop_reason": "max_tokens", "stop_sequence": None},
         "usage": {"input_tokens": 1310, "output_tokens": 7}},
        {"type": "message_stop"},
    ]
    server.add("POST", "/v1/messages", Reply(200, sse(events, named=True), SSE_HEADERS))
    out = run(make_provider(server.url), ask(tools=[WEATHER]))
    assert out == [ToolCallEvent(ToolCall("toolu_x", "get_weather", {}, malformed="{\"loc")),
                   Done(Usage(1310, 7), "length")]


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message},
            "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"}


@pytest.mark.parametrize(("status", "body", "headers", "kind", "retry_after"), [
    (429, _error("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"),
     {"retry-after": "17"}, ErrorKind.RATE_LIMITED, 17.0),
    (529, _error("overloaded_error", "Overloaded"), {}, ErrorKind.UNAVAILABLE, None),
    (401, _error("authentication_error", "invalid x-api-key"), {}, ErrorKind.AUTH_FAILED, None),
    (400, _error("invalid_request_error", "prompt is too long: 208310 tokens > 200000 maximum"), {},
     ErrorKind.CONTEXT_TOO_LONG, None),
    (400, _error("invalid_request_error", "messages: roles must alternate"), {}, ErrorKind.BAD_REQUEST, None),
    (500, _error("api_error", "Internal server error"), {}, ErrorKind.UNAVAILABLE, None),
])
@pytest.mark.parametrize("stream", [True, False])
def test_http_errors_map_to_error_kinds(server, status, body, headers, kind, retry_after, stream):
    server.add_json("POST", "/v1/messages", body, status=status, headers=headers)
    events, err = run_until_error(make_provider(server.url), ask(stream=stream))
    assert events == []
    assert err.kind is kind
    assert err.provider == "claude"
    assert err.retry_after == retry_after
    assert body["error"]["message"] in err.detail
    assert len(server.requests) == 1  # the SDK must not retry on its own


def test_error_event_inside_stream_becomes_provider_error(server):
    events = STREAM_EVENTS[:4] + [_error("overloaded_error", "Overloaded")]
    server.add("POST", "/v1/messages", Reply(200, sse(events, named=True), SSE_HEADERS))
    seen, err = run_until_error(make_provider(server.url), ask())
    assert seen == [TextDelta("Okay, let me")]  # what arrived before the failure was already passed on
    assert err.kind is ErrorKind.UNAVAILABLE
    assert err.detail == "overloaded_error mid-stream: Overloaded"


def test_rate_limit_error_event_inside_stream(server):
    events = STREAM_EVENTS[:2] + [_error("rate_limit_error", "slow down")]
    server.add("POST", "/v1/messages", Reply(200, sse(events, named=True), SSE_HEADERS))
    _, err = run_until_error(make_provider(server.url), ask())
    assert err.kind is ErrorKind.RATE_LIMITED


def test_connection_refused_is_unavailable():
    with socket.socket() as s:  # a port that was free a moment ago and has no listener now
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _, err = run_until_error(make_provider(f"http://127.0.0.1:{port}"), ask())
    assert err.kind is ErrorKind.UNAVAILABLE


def test_connection_dropped_mid_stream_is_unavailable():
    """The server sends headers and the first events, then hangs up without ending the chunked body."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            body = b"".join(sse(STREAM_EVENTS[:4], named=True))
            head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
            conn.sendall(head + f"{len(body):x}\r\n".encode() + body + b"\r\n")
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        seen, err = run_until_error(make_provider(f"http://127.0.0.1:{port}"), ask())
    finally:
        thread.join(5)
        listener.close()
    assert seen == [TextDelta("Okay, let me")]
    assert err.kind is ErrorKind.UNAVAILABLE


@pytest.mark.parametrize("stream", [True, False])
def test_slow_answer_is_timeout(server, stream):
    # Headers arrive at once, the body after a pause: when streaming, the wait happens while iterating.
    chunks = sse(STREAM_EVENTS, named=True) if stream else [json.dumps(NON_STREAM_REPLY).encode()]
    server.add("POST", "/v1/messages", Reply(200, chunks, SSE_HEADERS if stream else {}, delay_s=1.5))
    with pytest.raises(ProviderError) as info:  # the deadlines are kept by drain, which the router reads through
        asyncio.run(drain(make_provider(server.url, timeout=0.3, total=0.3 if not stream else 600), ask(stream=stream),
                          lambda e: None))
    assert info.value.kind is ErrorKind.TIMEOUT and "0.3s" in info.value.detail


def test_list_models(server):
    server.add_json("GET", "/v1/models", {
        "data": [
            {"type": "model", "id": "claude-sonnet-4-5-20250929", "display_name": "Claude Sonnet 4.5",
             "created_at": "2025-09-29T00:00:00Z"},
            {"type": "model", "id": "claude-haiku-4-5-20251001", "display_name": "Claude Haiku 4.5",
             "created_at": "2025-10-01T00:00:00Z"},
        ],
        "has_more": False, "first_id": "claude-sonnet-4-5-20250929", "last_id": "claude-haiku-4-5-20251001",
    })
    provider = make_provider(server.url)

    async def go() -> list[str]:
        try:
            return await provider.list_models()
        finally:
            await provider.aclose()
    assert asyncio.run(go()) == ["claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001"]
    assert server.requests[-1].path == "/v1/models"


def test_list_models_auth_failure(server):
    server.add_json("GET", "/v1/models", _error("authentication_error", "invalid x-api-key"), status=401)
    provider = make_provider(server.url)

    async def go() -> None:
        try:
            await provider.list_models()
        finally:
            await provider.aclose()
    with pytest.raises(ProviderError) as info:
        asyncio.run(go())
    assert info.value.kind is ErrorKind.AUTH_FAILED


def test_missing_setup_names_the_key_variable(monkeypatch):
    assert make_provider("http://127.0.0.1:9").missing_setup() is None
    monkeypatch.delenv(KEY_ENV)
    assert make_provider("http://127.0.0.1:9").missing_setup() == f"{KEY_ENV} is not set"


def test_without_its_key_the_sdk_does_not_look_for_credentials_elsewhere(server, monkeypatch, tmp_path):
    monkeypatch.delenv(KEY_ENV)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-someone-elses-key")
    monkeypatch.setenv("ANTHROPIC_CONFIG_DIR", str(tmp_path / "absent"))  # SDK's profile lookup would raise
    server.add_json("POST", "/v1/messages", _error("authentication_error", "invalid x-api-key"), status=401)
    _, err = run_until_error(make_provider(server.url), ask())
    assert err.kind is ErrorKind.AUTH_FAILED
    assert "someone-elses" not in server.requests[-1].headers.get("Authorization", "")
