"""Anthropic Messages API (api.anthropic.com), via the official SDK."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import anthropic
import httpx2

from llmos.errors import ErrorKind, ProviderError
from llmos.llm.messages import ChatRequest, Done, Message, StreamEvent, TextDelta, ToolCallEvent, Usage
from llmos.llm.providers.base import (HTML_ANSWER, SHAPE_ERRORS, Provider, cut_off, estimate_usage, html_body,
                                      kind_for_status, malformed, one_line, parse_arguments, read_timeout,
                                      html_response, retry_after, shape_error, single_result, text_field, token_field,
                                      unavailable)

if TYPE_CHECKING:
    from llmos.config.model import ProviderConfig

DEFAULT_MAX_TOKENS = 4096  # Anthropic requires max_tokens on every request

# Anthropic's stop reasons in the vocabulary the other adapters (OpenAI, Ollama) already speak.
_FINISH = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls"}

# An `error` event inside a 200 stream carries only a type; these are the statuses it stands for.
_STATUS_FOR_TYPE = {"invalid_request_error": 400, "authentication_error": 401, "billing_error": 402,
                    "permission_error": 403, "not_found_error": 404, "request_too_large": 413,
                    "rate_limit_error": 429, "api_error": 500, "timeout_error": 504, "overloaded_error": 529}


class AnthropicProvider(Provider):
    def __init__(self, name: str, config: ProviderConfig):
        super().__init__(name, config)
        self._client = anthropic.AsyncAnthropic(
            # Never None: the SDK would then hunt ANTHROPIC_* variables and profile files on its own (and
            # can raise from here). The config is the one source of the key; missing_setup() reports it.
            api_key=config.api_key or "missing",
            base_url=config.base_url or None,
            # A backstop only: the router's clock enforces first-byte, idle and total limits itself.
            timeout=anthropic.Timeout(read_timeout(config), connect=config.connect_timeout),
            max_retries=0,  # the router owns retries, so backoff and fallback are decided in one place
            default_headers=config.headers or None,
        )

    async def chat(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        kwargs = self._wire_request(request)
        try:
            if not request.stream:
                response = await self._client.messages.create(**kwargs, stream=False)
                async for event in self._events_from_response(request, response):
                    yield event
                return
            stream = await self._client.messages.create(**kwargs, stream=True)
            try:
                if html_body(stream.response.headers.get("content-type")):
                    raise malformed(self.name, HTML_ANSWER)
                async for event in self._events_from_stream(request, stream):
                    yield event
            except (anthropic.APIConnectionError, httpx2.TransportError) as exc:  # dropped while streaming
                raise cut_off(self.name, one_line(exc.__cause__ or exc)) from exc
            finally:
                await stream.close()
        except anthropic.APIStatusError as exc:
            raise _status_error(self.name, exc) from exc
        except (anthropic.APITimeoutError, httpx2.TimeoutException) as exc:
            if isinstance(exc, httpx2.ConnectTimeout) or isinstance(exc.__cause__, httpx2.ConnectTimeout):
                raise ProviderError(self.name, ErrorKind.UNAVAILABLE, f"could not connect within "
                                    f"{self.config.connect_timeout:g}s", transient=False) from exc
            detail = f"no answer within {read_timeout(self.config):g}s"
            raise ProviderError(self.name, ErrorKind.TIMEOUT, detail) from exc
        except (anthropic.APIConnectionError, httpx2.TransportError) as exc:
            raise unavailable(self.name, exc.__cause__ or exc) from exc
        except anthropic.AnthropicError as exc:  # malformed stream or response, unresolved credentials
            raise malformed(self.name, str(exc)) from exc
        except SHAPE_ERRORS as exc:
            raise shape_error(self.name, exc) from exc

    async def list_models(self) -> list[str]:
        try:
            page = await self._client.models.list()
            return [m.id async for m in page]
        except anthropic.APIStatusError as exc:
            raise _status_error(self.name, exc) from exc
        except (anthropic.AnthropicError, httpx2.HTTPError) as exc:
            raise unavailable(self.name, exc.__cause__ or exc) from exc

    async def aclose(self) -> None:
        await self._client.close()

    def _wire_request(self, request: ChatRequest) -> dict[str, Any]:
        system = "\n\n".join(m.content for m in request.messages if m.role == "system" and m.content)
        kwargs: dict[str, Any] = {"model": request.model, "messages": _wire_messages(request.messages),
                                  "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS}
        if system:
            kwargs["system"] = system
        if request.tools:
            kwargs["tools"] = [{"name": t.name, "description": t.description, "input_schema": t.input_schema}
                               for t in request.tools]
        # request.temperature is not sent: the SDK pins anthropic-version 2026-10-21, which rejects sampling
        # parameters (even temperature=1.0) with a 400, and the SDK no longer accepts them at all.
        if request.json_schema is not None:
            kwargs["output_config"] = {"format": {"type": "json_schema", "schema": request.json_schema}}
        return kwargs

    async def _events_from_response(self, request: ChatRequest, response: Any) -> AsyncIterator[StreamEvent]:
        if isinstance(response, str):  # the SDK hands back a body it could not parse as JSON
            raise malformed(self.name, HTML_ANSWER if html_body(None, response) else "the answer is not JSON")
        text = "".join(text_field(self.name, b.text, "text block") for b in response.content if b.type == "text")
        calls = [parse_arguments(text_field(self.name, b.name, "tool name"), b.input, b.id)
                 for b in response.content if b.type == "tool_use"]
        usage = (Usage(token_field(self.name, response.usage.input_tokens, "usage.input_tokens") or 0,
                       token_field(self.name, response.usage.output_tokens, "usage.output_tokens") or 0)
                 if response.usage else estimate_usage(request.messages, text))
        async for event in single_result(text, calls, usage, _finish(response.stop_reason)):
            yield event

    async def _events_from_stream(self, request: ChatRequest, stream: Any) -> AsyncIterator[StreamEvent]:
        state = _StreamState(self.name)
        async for event in stream:
            for out in state.read(event):
                yield out
        if not state.stopped:  # a complete answer always ends with message_stop
            raise cut_off(self.name, f"the stream ended before message_stop, after {len(state.text)} characters")
        yield Done(state.usage(request), state.finish)


class _StreamState:
    """What a Messages stream has said so far; ``read`` turns each event into our events."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.tools: dict[int, dict[str, Any]] = {}  # content block index -> id, name, argument fragments
        self.text = ""
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.finish = "stop"
        self.stopped = False

    def read(self, event: Any) -> list[StreamEvent]:
        p = self.provider
        if event.type == "message_start":
            self.input_tokens = token_field(p, event.message.usage.input_tokens, "usage.input_tokens")
        elif event.type == "content_block_start" and event.content_block.type == "tool_use":
            block = event.content_block
            self.tools[event.index] = {"id": block.id, "name": text_field(p, block.name, "tool name"), "args": [],
                                       "input": block.input}
        elif event.type == "content_block_delta":
            if event.delta.type == "text_delta":
                piece = text_field(p, event.delta.text, "text_delta.text")
                self.text += piece
                return [TextDelta(piece)]
            if event.delta.type == "input_json_delta" and event.index in self.tools:
                self.tools[event.index]["args"].append(text_field(p, event.delta.partial_json, "partial_json"))
        elif event.type == "content_block_stop" and event.index in self.tools:
            slot = self.tools.pop(event.index)
            # Arguments stream as JSON fragments; without any, keep the input the block started with.
            raw = "".join(slot["args"]) if slot["args"] else slot["input"]
            return [ToolCallEvent(parse_arguments(slot["name"], raw, slot["id"]))]
        elif event.type == "message_delta":
            self.finish = _finish(event.delta.stop_reason)
            self.output_tokens = token_field(p, event.usage.output_tokens, "usage.output_tokens")
            repeated = token_field(p, getattr(event.usage, "input_tokens", None), "usage.input_tokens")
            if repeated is not None:  # newer API versions repeat the final count here
                self.input_tokens = repeated
        elif event.type == "message_stop":
            self.stopped = True
        return []

    def usage(self, request: ChatRequest) -> Usage:
        if self.input_tokens is None or self.output_tokens is None:
            return estimate_usage(request.messages, self.text)
        return Usage(self.input_tokens, self.output_tokens)


def _wire_messages(messages: list[Message]) -> list[dict[str, Any]]:
    """User and assistant turns as content blocks; tool results ride in a user turn, and consecutive
    turns of one role merge, because Anthropic wants the two roles to alternate."""
    out: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "system":
            continue
        if m.role == "tool":
            role = "user"
            blocks: list[dict[str, Any]] = [{"type": "tool_result", "tool_use_id": m.tool_call_id,
                                             "content": m.content}]
        else:
            role = m.role
            # Anthropic rejects empty text blocks, so an assistant turn of only tool calls has none.
            blocks = [{"type": "text", "text": m.content}] if m.content else []
            blocks += [{"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments}
                       for c in m.tool_calls]
        if not blocks:
            continue
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    return out


def _finish(stop_reason: str | None) -> str:
    return _FINISH.get(stop_reason or "end_turn", stop_reason or "stop")


def _status_error(provider: str, exc: anthropic.APIStatusError) -> ProviderError:
    message = exc.api_message or str(exc.message)
    status, where = exc.status_code, f"HTTP {exc.status_code}"
    if status < 400:  # an error event inside a successful stream: the error type says what happened
        status, where = _STATUS_FOR_TYPE.get(exc.type or "", 500), f"{exc.type} mid-stream"
    if html_response(exc.response):
        message = HTML_ANSWER
    detail = f"{where}: {one_line(message)}" if message else where
    return ProviderError(provider, kind_for_status(status, message), detail, retry_after(exc.response))
