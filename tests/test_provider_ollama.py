"""The real Ollama adapter and the real ollama SDK against Ollama's wire format replayed on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import pytest

from llmos.config.model import ProviderConfig
from llmos.errors import ErrorKind, ProviderError
from llmos.llm.messages import (ChatRequest, Done, Message, StreamEvent, TextDelta, ToolCall, ToolCallEvent,
                                ToolSpec)
from llmos.llm.providers import create_provider
from llmos.llm.providers.base import drain
from llmos.llm.providers.ollama_chat import OllamaProvider
from tests.replay_server import ReplayServer, Reply, ndjson

MODEL = "llama3.2:3b"
TIMINGS = {"total_duration": 412345678, "load_duration": 12345678, "prompt_eval_duration": 98765432,
           "eval_duration": 287654321}


def chunk(content: str = "", **message: Any) -> dict[str, Any]:
    return {"model": MODEL, "created_at": "2025-01-15T10:20:30.123456Z",
            "message": {"role": "assistant", "content": content, **message}, "done": False}


def final(prompt: int | None = 26, output: int | None = 12, reason: str = "stop") -> dict[str, Any]:
    out: dict[str, Any] = {"model": MODEL, "created_at": "2025-01-15T10:20:31.234567Z",
                           "message": {"role": "assistant", "content": ""}, "done": True,
                           "done_reason": reason, **TIMINGS}
    if prompt is not None:
        out["prompt_eval_count"] = prompt
    if output is not None:
        out["eval_count"] = output
    return out


def config(url: str, **kw: Any) -> ProviderConfig:
    return ProviderConfig(name="ollama", type="ollama", base_url=url, models={"default": MODEL}, **kw)


async def collect(provider: OllamaProvider, request: ChatRequest) -> list[StreamEvent]:
    try:
        return [event async for event in provider.chat(request)]
    finally:
        await provider.aclose()


def run(url: str, request: ChatRequest, **kw: Any) -> list[StreamEvent]:
    return asyncio.run(collect(OllamaProvider("ollama", config(url, **kw)), request))


def ask(text: str = "hi", **kw: Any) -> ChatRequest:
    return ChatRequest(messages=[Message("user", text)], model=MODEL, **kw)


def failure(url: str, request: ChatRequest, **kw: Any) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        run(url, request, **kw)
    return info.value


def test_create_provider_builds_the_ollama_adapter() -> None:
    provider = create_provider("ollama", config("http://127.0.0.1:1"))
    assert isinstance(provider, OllamaProvider)
    assert provider.missing_setup() is None


def test_streamed_text_assembles_and_usage_comes_from_eval_counts() -> None:
    with ReplayServer() as server:
        server.add("POST", "/api/chat", chunks=ndjson(
            [chunk("Hello"), chunk(", wor"), chunk("ld!"), final(26, 12)]))
        events = run(server.url, ask())
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert deltas == ["Hello", ", wor", "ld!"]
    done = events[-1]
    assert isinstance(done, Done) and done.finish_reason == "stop"
    assert (done.usage.input_tokens, done.usage.output_tokens, done.usage.estimated) == (26, 12, False)
    assert sum(isinstance(e, Done) for e in events) == 1


def test_done_reason_is_passed_through() -> None:
    with ReplayServer() as server:
        server.add("POST", "/api/chat", chunks=ndjson([chunk("cut"), final(5, 1, reason="length")]))
        events = run(server.url, ask(max_tokens=1))
    assert isinstance(events[-1], Done) and events[-1].finish_reason == "length"


def test_missing_usage_is_estimated() -> None:
    with ReplayServer() as server:
        server.add("POST", "/api/chat", chunks=ndjson([chunk("some answer text"), final(None, None)]))
        events = run(server.url, ask("a question of some length"))
    done = events[-1]
    assert isinstance(done, Done) and done.usage.estimated
    assert done.usage.input_tokens > 0 and done.usage.output_tokens > 0


def test_cached_prompt_without_prompt_eval_count_keeps_the_real_output_count() -> None:
    with ReplayServer() as server:
        server.add("POST", "/api/chat", chunks=ndjson([chunk("ok"), final(None, 7)]))
        events = run(server.url, ask())
    done = events[-1]
    assert isinstance(done, Done) and done.usage.output_tokens == 7 and done.usage.estimated


def test_streamed_tool_calls_are_parsed_with_unique_ids() -> None:
    calls = [{"function": {"name": "list_files", "arguments": {"path": "/tmp", "recursive": True}}},
             {"function": {"name": "disk_usage", "arguments": {}}}]
    with ReplayServer() as server:
        server.add("POST", "/api/chat", chunks=ndjson([chunk("", tool_calls=calls), final(80, 25)]))
        tools = [ToolSpec("list_files", "List", {"type": "object"})]
        events = run(server.url, ask("what is in /tmp", tools=tools))
    got = [e.call for e in events if isinstance(e, ToolCallEvent)]
    assert [(c.name, c.arguments, c.malformed) for c in got] == [
        ("list_files", {"path": "/tmp", "recursive": True}, None), ("disk_usage", {}, None)]
    assert all(c.id.startswith("call_") for c in got) and len({c.id for c in got}) == 2
    assert not [e for e in events if isinstance(e, TextDelta)]
    assert isinstance(events[-1], Done) and events[-1].usage.output_tokens == 25


def test_non_streaming_answer_with_text_and_tool_call() -> None:
    reply = {**final(31, 9), "message": {"role": "assistant", "content": "Checking.", "tool_calls": [
        {"function": {"name": "read_file", "arguments": {"path": "notes.txt"}}}]}}
    with ReplayServer() as server:
        server.add_json("POST", "/api/chat", reply)
        events = run(server.url, ask(stream=False))
        body = server.requests[0].json()
    assert body["stream"] is False
    assert [type(e) for e in events] == [TextDelta, ToolCallEvent, Done]
    assert events[0] == TextDelta("Checking.")
    assert isinstance(events[1], ToolCallEvent) and events[1].call.name == "read_file"
    assert events[1].call.arguments == {"path": "notes.txt"}
    assert isinstance(events[2], Done)
    assert (events[2].usage.input_tokens, events[2].usage.output_tokens) == (31, 9)


def test_request_body_on_the_wire_is_ollamas_shape() -> None:
    schema = {"type": "object", "properties": {
        "path": {"type": "string", "description": "where"},
        "filter": {"type": "object", "properties": {"min_size": {"type": "integer", "minimum": 0}},
                   "required": ["min_size"]},
        "limit": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": 10}},
        "required": ["path"], "additionalProperties": False}
    history = [
        Message("system", "You are a shell."),
        Message("user", "list /tmp"),
        Message("assistant", "", tool_calls=[ToolCall("call_a1", "list_files", {"path": "/tmp"})]),
        Message("tool", "a.txt\nb.txt", tool_call_id="call_a1", name="list_files"),
        Message("assistant", "", tool_calls=[ToolCall("call_b2", "stat", {"path": "/tmp/a.txt"})]),
        Message("tool", "12 bytes", tool_call_id="call_b2"),  # no name: looked up from the call
    ]
    request = ChatRequest(messages=history, model=MODEL, temperature=0.2, max_tokens=256,
                          tools=[ToolSpec("list_files", "List a folder", schema)])
    with ReplayServer() as server:
        server.add("POST", "/api/chat", chunks=ndjson([chunk("done"), final()]))
        run(server.url, request, num_ctx=8192, keep_alive="30m")
        sent = server.requests[0]
    assert (sent.method, sent.path) == ("POST", "/api/chat")
    body = sent.json()
    assert body["model"] == MODEL and body["stream"] is True
    assert body["options"] == {"num_ctx": 8192, "temperature": 0.2, "num_predict": 256}
    assert body["keep_alive"] == "30m"
    assert "format" not in body
    # The whole schema arrives, including keywords the SDK's own Tool model would have dropped.
    assert body["tools"] == [{"type": "function", "function": {
        "name": "list_files", "description": "List a folder", "parameters": schema}}]
    assert body["messages"] == [
        {"role": "system", "content": "You are a shell."},
        {"role": "user", "content": "list /tmp"},
        {"role": "assistant", "content": "",
         "tool_calls": [{"function": {"name": "list_files", "arguments": {"path": "/tmp"}}}]},
        {"role": "tool", "content": "a.txt\nb.txt", "tool_name": "list_files"},
        {"role": "assistant", "content": "",
         "tool_calls": [{"function": {"name": "stat", "arguments": {"path": "/tmp/a.txt"}}}]},
        {"role": "tool", "content": "12 bytes", "tool_name": "stat"},
    ]


def test_num_ctx_defaults_to_config_and_request_overrides_it() -> None:
    with ReplayServer() as server:
        server.add("POST", "/api/chat", chunks=ndjson([chunk("a"), final()]))
        run(server.url, ask())
        run(server.url, ask(num_ctx=2048), num_ctx=16384)
        first, second = (r.json() for r in server.requests)
    assert first["options"] == {"num_ctx": 4096} and first["keep_alive"] == "5m"
    assert second["options"] == {"num_ctx": 2048}


def test_json_schema_goes_as_format() -> None:
    schema = {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}
    with ReplayServer() as server:
        server.add_json("POST", "/api/chat", {**final(10, 6), "message": {
            "role": "assistant", "content": '{"command": "ls -la"}'}})
        events = run(server.url, ask(json_schema=schema, stream=False))
        body = server.requests[0].json()
    assert body["format"] == schema
    assert json.loads("".join(e.text for e in events if isinstance(e, TextDelta))) == {"command": "ls -la"}


def test_list_models_reads_api_tags() -> None:
    tags = {"models": [
        {"name": MODEL, "model": MODEL, "modified_at": "2025-01-10T08:00:00.000000+01:00", "size": 2019393189,
         "digest": "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
         "details": {"parent_model": "", "format": "gguf", "family": "llama", "families": ["llama"],
                     "parameter_size": "3.2B", "quantization_level": "Q4_K_M"}},
        {"name": "qwen2.5-coder:7b", "model": "qwen2.5-coder:7b", "modified_at": "2025-01-09T08:00:00Z",
         "size": 4683087332, "digest": "2b0496514337", "details": {"format": "gguf", "family": "qwen2"}}]}

    async def go(url: str) -> list[str]:
        provider = OllamaProvider("ollama", config(url))
        try:
            return await provider.list_models()
        finally:
            await provider.aclose()

    with ReplayServer() as server:
        server.add_json("GET", "/api/tags", tags)
        assert asyncio.run(go(server.url)) == [MODEL, "qwen2.5-coder:7b"]
        assert server.requests[0].path == "/api/tags"


@pytest.mark.parametrize("stream", [True, False])
def test_model_not_found_is_a_bad_request_naming_the_model(stream: bool) -> None:
    with ReplayServer() as server:
        server.add_json("POST", "/api/chat", {"error": f'model "{MODEL}" not found, try pulling it first'},
                        status=404)
        err = failure(server.url, ask(stream=stream))
    assert err.kind is ErrorKind.BAD_REQUEST
    assert MODEL in err.detail and "404" in err.detail and err.provider == "ollama"


@pytest.mark.parametrize("stream", [True, False])
def test_server_error_is_unavailable(stream: bool) -> None:
    with ReplayServer() as server:
        server.add_json("POST", "/api/chat", {"error": "llama runner process has terminated: exit status 2"},
                        status=500)
        err = failure(server.url, ask(stream=stream))
    assert err.kind is ErrorKind.UNAVAILABLE and "llama runner process has terminated" in err.detail


def test_context_error_maps_to_context_too_long() -> None:
    with ReplayServer() as server:
        server.add_json("POST", "/api/chat", {"error": "input length exceeds the context length"}, status=400)
        err = failure(server.url, ask())
    assert err.kind is ErrorKind.CONTEXT_TOO_LONG


def test_error_line_mid_stream_is_unavailable_after_the_text_so_far() -> None:
    seen: list[StreamEvent] = []

    async def go(url: str) -> None:
        provider = OllamaProvider("ollama", config(url))
        try:
            async for event in provider.chat(ask()):
                seen.append(event)
        finally:
            await provider.aclose()

    with ReplayServer() as server:
        server.add("POST", "/api/chat", chunks=ndjson(
            [chunk("Part"), {"error": "an error was encountered while running the model"}]))
        with pytest.raises(ProviderError) as info:
            asyncio.run(go(server.url))
    assert seen == [TextDelta("Part")]
    assert info.value.kind is ErrorKind.UNAVAILABLE
    assert info.value.detail == "an error was encountered while running the model"


def test_non_json_reply_is_unavailable_not_an_sdk_exception() -> None:
    with ReplayServer() as server:
        server.add("POST", "/api/chat", Reply(200, [b"<html>not ollama</html>"],
                                              {"content-type": "text/html"}))
        err = failure(server.url, ask(stream=False))
    assert err.kind is ErrorKind.UNAVAILABLE and "malformed" in err.detail


def test_slow_answer_times_out() -> None:
    with ReplayServer() as server:
        server.add("POST", "/api/chat", Reply(200, ndjson([chunk("late"), final()]), delay_s=1.0))
        with pytest.raises(ProviderError) as info:  # the deadlines are kept by drain (the router reads through it)
            asyncio.run(drain(OllamaProvider("ollama", config(server.url, timeout=0.2)), ask(), lambda e: None))
    assert info.value.kind is ErrorKind.TIMEOUT and "within 0.2s" in info.value.detail


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("stream", [True, False])
def test_nothing_listening_is_unavailable(stream: bool) -> None:
    err = failure(closed_port_url(), ask(stream=stream))
    assert err.kind is ErrorKind.UNAVAILABLE and err.detail
    assert err.kind.retryable and err.kind.try_next_provider


def test_list_models_with_nothing_listening_is_unavailable() -> None:
    async def go() -> None:
        provider = OllamaProvider("ollama", config(closed_port_url()))
        try:
            await provider.list_models()
        finally:
            await provider.aclose()

    with pytest.raises(ProviderError) as info:
        asyncio.run(go())
    assert info.value.kind is ErrorKind.UNAVAILABLE


def test_stopping_early_ends_cleanly_with_only_what_was_read() -> None:
    async def go(url: str) -> list[StreamEvent]:
        provider = OllamaProvider("ollama", config(url))
        got: list[StreamEvent] = []
        try:
            stream = provider.chat(ask())
            async for event in stream:
                got.append(event)
                break
            await stream.aclose()  # type: ignore[attr-defined]
        finally:
            await provider.aclose()
        return got

    with ReplayServer() as server:
        server.add("POST", "/api/chat",
                   Reply(200, ndjson([chunk("first"), chunk("second"), final()]), delay_s=0.05))
        assert asyncio.run(go(server.url)) == [TextDelta("first")]
