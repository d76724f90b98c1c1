"""OpenAI chat completions — api.openai.com and every OpenAI-compatible server (vLLM, llama.cpp, Groq…)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import openai

from llmos.errors import ErrorKind, ProviderError
from llmos.llm.messages import ChatRequest, Done, Message, StreamEvent, TextDelta, ToolCall, ToolCallEvent, Usage
from llmos.llm.providers.base import (HTML_ANSWER, SHAPE_ERRORS, Provider, cut_off, estimate_usage, html_body,
                                      kind_for_status, malformed, one_line, parse_arguments, read_timeout,
                                      html_response, retry_after, shape_error, single_result, text_field, token_field,
                                      unavailable)


class OpenAIChatProvider(Provider):
    def __init__(self, name, config):
        super().__init__(name, config)
        self._client = openai.AsyncOpenAI(
            # Local servers need no key, but the SDK insists on one.
            api_key=config.api_key or ("unused" if config.type == "openai-compatible" else None) or "missing",
            base_url=config.base_url or None,
            # A backstop only: the router's clock enforces first-byte, idle and total limits itself.
            timeout=openai.Timeout(read_timeout(config), connect=config.connect_timeout),
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
                if html_body(stream.response.headers.get("content-type")):
                    raise malformed(self.name, HTML_ANSWER)
                async for event in self._events_from_stream(request, stream):
                    yield event
            except (openai.APIConnectionError, httpx2.TransportError) as exc:  # dropped while streaming
                raise cut_off(self.name, one_line(exc.__cause__ or exc)) from exc
            finally:
                await stream.close()
        except openai.APIStatusError as exc:
            raise ProviderError(self.name, kind_for_status(exc.status_code, str(exc.message)), _detail(exc),
                                retry_after(exc.response)) from exc
        except openai.APITimeoutError as exc:
            raise self._timeout(exc) from exc
        except openai.APIConnectionError as exc:
            raise unavailable(self.name, exc.__cause__ or exc) from exc
        except openai.APIError as exc:  # malformed stream or response
            raise malformed(self.name, str(exc)) from exc
        except SHAPE_ERRORS as exc:
            raise shape_error(self.name, exc) from exc

    def _timeout(self, exc: openai.APITimeoutError) -> ProviderError:
        if isinstance(exc.__cause__, httpx2.ConnectTimeout):
            return ProviderError(self.name, ErrorKind.UNAVAILABLE,
                                 f"could not connect within {self.config.connect_timeout:g}s", transient=False)
        return ProviderError(self.name, ErrorKind.TIMEOUT, f"no answer within {read_timeout(self.config):g}s")

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
            if request.tool_choice:
                kwargs["tool_choice"] = request.tool_choice  # "none": the tools stay, this answer is words
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
        if isinstance(response, str):  # the SDK hands back a body it could not parse as JSON
            raise malformed(self.name, HTML_ANSWER if html_body(None, response) else "the answer is not JSON")
        choice = response.choices[0]
        text = text_field(self.name, choice.message.content, "message.content")
        calls = [parse_arguments(text_field(self.name, tc.function.name, "tool name"), tc.function.arguments, tc.id)
                 for tc in (choice.message.tool_calls or [])]
        usage = _usage(self.name, response.usage) or estimate_usage(request.messages, text)
        async for event in single_result(text, calls, usage, choice.finish_reason or "stop"):
            yield event

    async def _events_from_stream(self, request: ChatRequest, stream: Any) -> AsyncIterator[StreamEvent]:
        calls = _ToolCallAccumulator(self.name)
        text_parts: list[str] = []
        usage: Usage | None = None
        finish: str | None = None
        async for chunk in stream:
            usage = _usage(self.name, chunk.usage) or usage
            if not chunk.choices:
                continue
            choice = chunk.choices[0]
            delta = choice.delta
            content = text_field(self.name, delta.content, "delta.content")
            if content:
                text_parts.append(content)
                yield TextDelta(content)
            for tc in delta.tool_calls or ():
                calls.add(tc.index, tc.id, tc.function.name if tc.function else None,
                          tc.function.arguments if tc.function else None)
            if choice.finish_reason:
                finish = text_field(self.name, choice.finish_reason, "finish_reason")
        if finish is None:  # a complete answer always says why it stopped
            text = "".join(text_parts)
            raise cut_off(self.name, f"the stream ended without a finish reason after {len(text)} characters")
        for call in calls.finish():
            yield ToolCallEvent(call)
        yield Done(usage or estimate_usage(request.messages, "".join(text_parts)), finish)


def _usage(provider: str, usage: Any) -> Usage | None:
    if not usage:
        return None
    prompt = token_field(provider, usage.prompt_tokens, "usage.prompt_tokens")
    completion = token_field(provider, usage.completion_tokens, "usage.completion_tokens")
    return Usage(prompt or 0, completion or 0)


class _ToolCallAccumulator:
    """Streamed tool calls arrive as fragments keyed by index: an id and name once, argument text in pieces.
    Some servers repeat the name in every chunk; it is taken once, never concatenated."""

    def __init__(self, provider: str) -> None:
        self._provider = provider
        self._calls: dict[int, dict[str, Any]] = {}

    def add(self, index: Any, call_id: Any, name: Any, arguments: Any) -> None:
        if index is not None and (isinstance(index, bool) or not isinstance(index, int)):
            raise malformed(self._provider, f"tool_calls.index is {index!r}, not a number")
        call_id = text_field(self._provider, call_id, "tool_calls.id")
        name = text_field(self._provider, name, "tool_calls.function.name")
        arguments = text_field(self._provider, arguments, "tool_calls.function.arguments")
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
    if html_response(exc.response):
        return f"HTTP {exc.status_code}: {HTML_ANSWER}"
    return f"HTTP {exc.status_code}: {one_line(exc.message)}"
