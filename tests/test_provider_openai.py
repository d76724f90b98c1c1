"""The OpenAI chat adapter against OpenAI's wire format replayed on loopback (api.openai.com is out of reach)."""

from __future__ import annotations

import asyncio

import pytest

from llmos.config.model import ProviderConfig
from llmos.errors import ErrorKind, ProviderError
from llmos.llm.messages import ChatRequest, Done, Message, TextDelta, ToolCall, ToolCallEvent, ToolSpec
from llmos.llm.providers.base import drain
from llmos.llm.providers.openai_chat import OpenAIChatProvider
from tests.replay_server import Reply, ReplayServer, sse

LS = ToolSpec("list_directory", "List a directory.", {"type": "object", "properties": {"path": {"type": "string"}}})


def chunk(delta: dict, finish: str | None = None, usage: dict | None = None, choices: bool = True) -> dict:
    body = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1732233600, "model": "gpt-4o-mini",
            "system_fingerprint": "fp_1", "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                                       "finish_reason": finish}] if choices else []}
    if usage is not None:
        body["usage"] = usage
    return body


def provider(server: ReplayServer, monkeypatch: pytest.MonkeyPatch, **kw) -> OpenAIChatProvider:
    monkeypatch.setenv("TEST_OPENAI_KEY", "sk-test-123")
    cfg = ProviderConfig(name="openai", type="openai", base_url=server.url + "/v1", api_key_env="TEST_OPENAI_KEY",
                         models={"default": "gpt-4o-mini"}, **kw)
    return OpenAIChatProvider("openai", cfg)


async def collect(p: OpenAIChatProvider, request: ChatRequest) -> list:
    try:
        return [e async for e in p.chat(request)]
    finally:
        await p.aclose()


def test_streamed_text_and_usage(monkeypatch: pytest.MonkeyPatch) -> None:
    with ReplayServer() as server:
        server.add("POST", "/v1/chat/completions", Reply(headers={"content-type": "text/event-stream"}, chunks=sse([
            chunk({"role": "assistant", "content": ""}), chunk({"content": "Rayleigh"}),
            chunk({"content": " scattering."}),
            chunk({}, finish="stop"),
            chunk({}, usage={"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}, choices=False),
            "[DONE]"])))
        events = asyncio.run(collect(provider(server, monkeypatch), ChatRequest(
            [Message("system", "be brief"), Message("user", "why is the sky blue?")], model="gpt-4o-mini",
            max_tokens=50)))
        sent = server.requests[-1]
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Rayleigh", " scattering."]
    done = events[-1]
    assert isinstance(done, Done) and done.usage.input_tokens == 12 and done.usage.output_tokens == 3
    assert not done.usage.estimated
    body = sent.json()
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["max_completion_tokens"] == 50 and "max_tokens" not in body
    assert sent.headers["authorization"] == "Bearer sk-test-123"


def test_streamed_tool_call_deltas_are_accumulated_and_a_repeated_name_taken_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    tc = lambda **f: {"tool_calls": [{"index": 0, **f}]}  # noqa: E731
    with ReplayServer() as server:
        server.add("POST", "/v1/chat/completions", Reply(headers={"content-type": "text/event-stream"}, chunks=sse([
            chunk({"role": "assistant", "content": None, **tc(id="call_abc", type="function",
                                                              function={"name": "list_directory", "arguments": ""})}),
            chunk(tc(function={"name": "list_directory", "arguments": "{\"pa"})),
            chunk(tc(function={"name": "list_directory", "arguments": "th\": \"~/Down"})),
            chunk(tc(function={"arguments": "loads\"}"})),
            chunk({"tool_calls": [{"index": 1, "id": "call_def", "type": "function",
                                   "function": {"name": "list_directory", "arguments": "{\"path\": \"/tmp\"}"}}]}),
            chunk({}, finish="tool_calls"), "[DONE]"])))
        events = asyncio.run(collect(provider(server, monkeypatch), ChatRequest(
            [Message("user", "what is in downloads")], model="gpt-4o-mini", tools=[LS])))
        body = server.requests[-1].json()
    calls = [e.call for e in events if isinstance(e, ToolCallEvent)]
    assert calls == [ToolCall("call_abc", "list_directory", {"path": "~/Downloads"}),
                     ToolCall("call_def", "list_directory", {"path": "/tmp"})]
    assert events[-1].finish_reason == "tool_calls"
    assert events[-1].usage.estimated  # this server sent no usage: counted locally and marked so
    assert body["tools"] == [{"type": "function", "function": {"name": "list_directory",
                                                               "description": "List a directory.",
                                                               "parameters": LS.input_schema}}]


def test_malformed_streamed_arguments_are_kept_for_repair(monkeypatch: pytest.MonkeyPatch) -> None:
    with ReplayServer() as server:
        server.add("POST", "/v1/chat/completions", Reply(chunks=sse([
            chunk({"tool_calls": [{"index": 0, "id": "c1", "function": {"name": "list_directory",
                                                                         "arguments": "{path: ~}"}}]}),
            chunk({}, finish="tool_calls"), "[DONE]"])))
        events = asyncio.run(collect(provider(server, monkeypatch), ChatRequest([Message("user", "x")], model="m")))
    call = next(e.call for e in events if isinstance(e, ToolCallEvent))
    assert call.arguments == {} and call.malformed == "{path: ~}"


def test_tool_history_goes_out_in_openai_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    completion = {"id": "chatcmpl-2", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
                  "choices": [{"index": 0, "message": {"role": "assistant", "content": "Two files."},
                               "finish_reason": "stop", "logprobs": None}],
                  "usage": {"prompt_tokens": 40, "completion_tokens": 3, "total_tokens": 43}}
    with ReplayServer() as server:
        server.add_json("POST", "/v1/chat/completions", completion)
        history = [Message("user", "list /tmp"),
                   Message("assistant", "", tool_calls=[ToolCall("c1", "list_directory", {"path": "/tmp"})]),
                   Message("tool", '{"entries": 2}', tool_call_id="c1", name="list_directory")]
        events = asyncio.run(collect(provider(server, monkeypatch), ChatRequest(history, model="gpt-4o-mini",
                                                                                stream=False)))
        sent = server.requests[-1].json()["messages"]
    assert events[0] == TextDelta("Two files.") and events[-1].usage.input_tokens == 40
    assert sent[1] == {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "list_directory", "arguments": "{\"path\": \"/tmp\"}"}}]}
    assert sent[2] == {"role": "tool", "tool_call_id": "c1", "content": '{"entries": 2}'}


@pytest.mark.parametrize("status,error_type,message,kind", [
    (429, "rate_limit_exceeded", "Rate limit reached for gpt-4o-mini", ErrorKind.RATE_LIMITED),
    (401, "invalid_api_key", "Incorrect API key provided", ErrorKind.AUTH_FAILED),
    (400, "context_length_exceeded", "This model's maximum context length is 128000 tokens",
     ErrorKind.CONTEXT_TOO_LONG),
    (503, "server_error", "The engine is currently overloaded", ErrorKind.UNAVAILABLE),
    (400, "invalid_request_error", "Invalid value for 'temperature'", ErrorKind.BAD_REQUEST),
])
def test_error_replies_map_to_the_taxonomy(monkeypatch: pytest.MonkeyPatch, status: int, error_type: str,
                                           message: str, kind: ErrorKind) -> None:
    with ReplayServer() as server:
        server.add_json("POST", "/v1/chat/completions",
                        {"error": {"message": message, "type": error_type, "param": None, "code": error_type}},
                        status=status, headers={"retry-after": "7"} if status == 429 else {})
        with pytest.raises(ProviderError) as err:
            asyncio.run(collect(provider(server, monkeypatch), ChatRequest([Message("user", "hi")], model="m")))
    assert err.value.kind is kind and err.value.provider == "openai"
    assert str(status) in err.value.detail
    if status == 429:
        assert err.value.retry_after == 7.0


def test_slow_server_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    with ReplayServer() as server:
        server.add("POST", "/v1/chat/completions", Reply(chunks=sse([chunk({"content": "late"}), "[DONE]"]),
                                                          delay_s=2.0))
        with pytest.raises(ProviderError) as err:
            asyncio.run(drain(provider(server, monkeypatch, timeout=0.3),
                              ChatRequest([Message("user", "hi")], model="m"),
                              lambda e: None))  # the deadlines are kept by drain, which the router reads through
    assert err.value.kind is ErrorKind.TIMEOUT and "within 0.3s" in err.value.detail


def test_json_schema_is_sent_as_response_format(monkeypatch: pytest.MonkeyPatch) -> None:
    schema = {"type": "object", "properties": {"tool": {"enum": ["a", "b"]}}, "required": ["tool"]}
    with ReplayServer() as server:
        server.add("POST", "/v1/chat/completions", Reply(chunks=sse([chunk({"content": "{\"tool\": \"a\"}"}),
                                                                     chunk({}, finish="stop"), "[DONE]"])))
        asyncio.run(collect(provider(server, monkeypatch), ChatRequest([Message("user", "x")], model="m",
                                                                       json_schema=schema)))
        body = server.requests[-1].json()
    assert body["response_format"] == {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}}


def test_missing_key_is_reported_before_any_request() -> None:
    cfg = ProviderConfig(name="openai", type="openai", api_key_env="SURELY_UNSET_KEY_VAR")
    assert OpenAIChatProvider("openai", cfg).missing_setup() == "SURELY_UNSET_KEY_VAR is not set"
    compatible = ProviderConfig(name="box", type="openai-compatible", base_url="http://127.0.0.1:1/v1")
    assert OpenAIChatProvider("box", compatible).missing_setup() is None
