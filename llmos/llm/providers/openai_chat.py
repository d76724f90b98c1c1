"""OpenAI chat completions — api.openai.com and every OpenAI-compatible server (vLLM, llama.cpp, Groq…)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import openai

from llmos.errors import ErrorKind, ProviderError
from llmos.llm.messages import ChatRequest, Done, Message, StreamEvent, TextDelta, ToolCall, ToolCallEvent, Usage
from llmos.llm.providers.base import (Provider, estimate_usage, kind_for_status, parse_arguments, retry_after,
                                      single_result, unavailable)


class OpenAIChatProvider(Provider):
    def __init__(self, name, config):
        super().__init__(name, config)
        self._client = openai.AsyncOpenAI(
            # Local servers need no key, but the SDK insists on one.
            api_key=config.api_key or ("unused" if config.type == "openai-compatible" else None) or "missing",
            base_url=config.base_url or None,
            timeout=openai.Timeout(config.timeout, connect=config.connect_timeout),
            max_retries=0,  # the router owns retries, so backoff and fallback are decided in one place
            default_headers=config.headers or None,
        )

    async def chat(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        kwargs = self._wire_request(request)
        try:
            if not request.stream:
                response = await self._client.chat.completions.create(**kwargs, stream=False)
                async for event in self._events_from_response(request, response):
                    yield event
                return
            stream = await self._client.chat.completions.create(
                **kwargs, stream=True, stream_options={"include_usage": True})
            try:
                async for event in self._events_from_stream(request, stream):
                    yield event
            finally:
                await stream.close()
        except openai.APIStatusError as exc:
            raise ProviderError(self.name, kind_for_status(exc.status_code, str(exc.message)), _detail(exc),
                                retry_after(exc.response)) from exc
        except openai.APITimeoutError as exc:
            raise ProviderError(self.name, ErrorKind.TIMEOUT, f"no answer within {self.config.timeout:g}s") from exc
        except openai.APIConnectionError as exc:
            raise unavailable(self.name, exc.__cause__ or exc) from exc
        except openai.APIError as exc:  # malformed stream or response
            raise ProviderError(self.name, ErrorKind.BAD_REQUEST, str(exc)) from exc

    async def list_models(self) -> list[str]:
        try:
            page = await self._client.models.list()
            return [m.id async for m in page]
        except openai.APIStatusError as exc:
            raise ProviderError(self.name, kind_for_status(exc.status_code, str(exc.message)), _detail(exc)) from exc
        except openai.APIError as exc:
            raise unavailable(self.name, exc.__cause__ or exc) from exc

    def missing_setup(self) -> str | None:
        if self.config.type == "openai" and not self.config.api_key:
            return f"{self.config.api_key_env or 'OPENAI_API_KEY'} is not set"
        return super().missing_setup()

    async def aclose(self) -> None:
        await self._client.close()

    def _wire_request(self, request: ChatRequest) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"model": request.model, "messages": [_wire_message(m) for m in request.messages]}
        if request.tools:
            kwargs["tools"] = [{"type": "function", "function": {
                "name": t.name, "description": t.description, "parameters": t.input_schema}} for t in request.tools]
        if request.max_tokens is not None:
            # api.openai.com's newer models only take max_completion_tokens; many servers only max_tokens.
            key = "max_completion_tokens" if self.config.type == "openai" else "max_tokens"
            kwargs[key] = request.max_tokens
        if request.temperature is not None:
            kwargs["temperature"] = request.temperature
        if request.json_schema is not None:
            kwargs["response_format"] = {"type": "json_schema",
                                         "json_schema": {"name": "answer", "schema": request.json_schema}}
        return kwargs

    async def _events_from_response(self, request: ChatRequest, response: Any) -> AsyncIterator[StreamEvent]:
        choice = response.choices[0]
        text = choice.message.content or ""
        calls = [parse_arguments(tc.function.name, tc.function.arguments, tc.id)
                 for tc in (choice.message.tool_calls or [])]
        usage = (Usage(response.usage.prompt_tokens, response.usage.completion_tokens) if response.usage
                 else estimate_usage(request.messages, text))
        async for event in single_result(text, calls, usage, choice.finish_reason or "stop"):
            yield event

    async def _events_from_stream(self, request: ChatRequest, stream: Any) -> AsyncIterator[StreamEvent]:
        calls = _ToolCallAccumulator()
        text_parts: list[str] = []
        usage: Usage | None = None
        finish = "stop"
        async for chunk in stream:
            if chunk.usage:
                usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
            if not chunk.choices:
                continue
            choice = chunk.choices[0]
            delta = choice.delta
            if delta.content:
                text_parts.append(delta.content)
                yield TextDelta(delta.content)
            for tc in delta.tool_calls or ():
                calls.add(tc.index, tc.id, tc.function.name if tc.function else None,
                          tc.function.arguments if tc.function else None)
            if choice.finish_reason:
                finish = choice.finish_reason
        for call in calls.finish():
            yield ToolCallEvent(call)
        yield Done(usage or estimate_usage(request.messages, "".join(text_parts)), finish)


class _ToolCallAccumulator:
    """Streamed tool calls arrive as fragments keyed by index: an id and name once, argument text in pieces.
    Some servers repeat the name in every chunk; it is taken once, never concatenated."""

    def __init__(self) -> None:
        self._calls: dict[int, dict[str, Any]] = {}

    def add(self, index: int | None, call_id: str | None, name: str | None, arguments: str | None) -> None:
        slot = self._calls.setdefault(index or 0, {"id": None, "name": None, "args": []})
        if call_id and not slot["id"]:
            slot["id"] = call_id
        if name and not slot["name"]:
            slot["name"] = name
        if arguments:
            slot["args"].append(arguments)

    def finish(self) -> list[ToolCall]:
        return [parse_arguments(slot["name"] or "", "".join(slot["args"]), slot["id"] or f"call_{index}")
                for index, slot in sorted(self._calls.items())]


def _wire_message(m: Message) -> dict[str, Any]:
    if m.role == "tool":
        return {"role": "tool", "tool_call_id": m.tool_call_id, "content": m.content}
    out: dict[str, Any] = {"role": m.role, "content": m.content}
    if m.tool_calls:
        out["content"] = m.content or None
        out["tool_calls"] = [{"id": c.id, "type": "function", "function": {
            "name": c.name, "arguments": c.malformed if c.malformed is not None else json.dumps(c.arguments)}}
            for c in m.tool_calls]
    return out


def _detail(exc: openai.APIStatusError) -> str:
    return f"HTTP {exc.status_code}: {str(exc.message).splitlines()[0][:200]}"
