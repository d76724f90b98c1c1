"""Ollama's native /api/chat — local models, with num_ctx and keep_alive under our control."""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import httpx

from llmos.errors import ConfigError, ErrorKind, ProviderError
from llmos.llm.messages import ChatRequest, Done, Message, StreamEvent, TextDelta, ToolCall, ToolCallEvent, Usage
from llmos.llm.providers.base import (HTML_ANSWER, SHAPE_ERRORS, Provider, cut_off, estimate_usage, html_body,
                                      kind_for_status, malformed, one_line, parse_arguments, read_timeout,
                                      single_result, text_field, unavailable)


def _import_ollama() -> Any:
    """The SDK builds a default client from $OLLAMA_HOST when imported, and a malformed value makes the import
    itself fail. llmos passes the host explicitly (the config already took OLLAMA_HOST in), so import without it."""
    saved = os.environ.pop("OLLAMA_HOST", None)
    try:
        import ollama as sdk
    finally:
        if saved is not None:
            os.environ["OLLAMA_HOST"] = saved
    return sdk


ollama = _import_ollama()

if TYPE_CHECKING:
    from llmos.config.model import ProviderConfig


class OllamaProvider(Provider):
    def __init__(self, name: str, config: ProviderConfig):
        super().__init__(name, config)
        try:
            self._client = ollama.AsyncClient(
                host=config.base_url,  # None: the SDK falls back to $OLLAMA_HOST, then 127.0.0.1:11434
                # A backstop only: the router's clock enforces first-byte, idle and total limits itself.
                timeout=httpx.Timeout(read_timeout(config), connect=config.connect_timeout),
                headers=config.headers or None,
            )
        except ValueError as exc:  # the SDK parses the host here: a malformed OLLAMA_HOST or base_url
            where = config.base_url or os.environ.get("OLLAMA_HOST", "")
            raise ConfigError(f"providers.{name}.base_url: {where!r} is not a usable address ({one_line(exc)}); "
                              "set OLLAMA_HOST or base_url to something like http://127.0.0.1:11434") from None

    async def chat(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        try:
            if not request.stream:
                response = await self._post(self._wire_request(request))
                text = text_field(self.name, response.message.content, "message.content")
                calls = _calls(response.message)
                async for event in single_result(text, calls, _usage(request, response, text),
                                                 response.done_reason or "stop"):
                    yield event
                return
            async for event in self._stream(request):
                yield event
        except ollama.ResponseError as exc:
            # status -1: an {"error": ...} line after the stream began, i.e. the runner failed mid-answer.
            status = exc.status_code if exc.status_code > 0 else 500
            raise ProviderError(self.name, kind_for_status(status, str(exc.error)), _detail(exc)) from exc
        except ProviderError:
            raise
        except Exception as exc:
            raise self._transport_error(exc) from exc

    async def _stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        parts: list[str] = []
        final: Any = None
        # aclosing: stopping early must close the HTTP stream, or the connection stays busy.
        async with contextlib.aclosing(await self._post(self._wire_request(request))) as stream:
            try:
                async for chunk in stream:
                    # `thinking` text of reasoning models is deliberately dropped, but it is a sign of life:
                    # an empty delta keeps the router's idle clock from firing while the model thinks.
                    text = text_field(self.name, chunk.message.content, "message.content")
                    calls = _calls(chunk.message)  # Ollama sends each tool call whole, never in pieces
                    if text or not (calls or chunk.done):
                        parts.append(text)
                        yield TextDelta(text)
                    for call in calls:
                        yield ToolCallEvent(call)
                    if chunk.done:
                        final = chunk
            except (httpx.TransportError, ConnectionError) as exc:  # dropped while streaming
                raise cut_off(self.name, one_line(exc)) from exc
        text = "".join(parts)
        if final is None:  # a complete answer always ends with a "done": true line
            raise cut_off(self.name, f"the stream ended before its last line, after {len(text)} characters")
        yield Done(_usage(request, final, text), final.done_reason or "stop")

    async def list_models(self) -> list[str]:
        try:
            listing = await self._client.list()
        except ollama.ResponseError as exc:
            kind = kind_for_status(exc.status_code, str(exc.error))
            raise ProviderError(self.name, kind, _detail(exc)) from exc
        except Exception as exc:
            raise self._transport_error(exc) from exc
        return [m.model for m in listing.models if m.model]

    def missing_setup(self) -> str | None:
        return None  # a local server needs no key

    async def aclose(self) -> None:
        await self._client.close()

    async def _post(self, body: dict[str, Any]) -> Any:
        # The SDK's public chat() re-validates tools through its own pydantic model, which silently drops
        # JSON-schema keywords it does not know (nested properties, anyOf, default, minimum...). The
        # private _request sends our body verbatim while keeping the SDK's transport and NDJSON parsing.
        return await self._client._request(  # noqa: SLF001
            ollama.ChatResponse, "POST", "/api/chat", json=body, stream=body["stream"])

    def _wire_request(self, request: ChatRequest) -> dict[str, Any]:
        # Always send num_ctx: Ollama's default window is small and it silently truncates the prompt.
        options: dict[str, Any] = {"num_ctx": request.num_ctx or self.config.num_ctx}
        if request.temperature is not None:
            options["temperature"] = request.temperature
        if request.max_tokens is not None:
            options["num_predict"] = request.max_tokens
        body: dict[str, Any] = {"model": request.model, "messages": _wire_messages(request.messages),
                                "stream": request.stream, "options": options,
                                "keep_alive": self.config.keep_alive}
        if request.tools:
            body["tools"] = [{"type": "function", "function": {
                "name": t.name, "description": t.description, "parameters": t.input_schema}}
                for t in request.tools]
        if request.json_schema is not None:
            body["format"] = request.json_schema
        return body

    def _transport_error(self, exc: Exception) -> ProviderError:
        """Anything but an HTTP error reply. The SDK turns a refused connection into a builtin
        ConnectionError on plain requests but lets httpx.ConnectError through when streaming."""
        if isinstance(exc, httpx.ConnectTimeout):  # nothing answered the connect: unreachable, not slow
            return unavailable(self.name, exc)
        if isinstance(exc, httpx.TimeoutException):
            return ProviderError(self.name, ErrorKind.TIMEOUT, f"no answer within {read_timeout(self.config):g}s")
        if isinstance(exc, (ConnectionError, httpx.HTTPError)):
            return unavailable(self.name, exc)
        if isinstance(exc, json.JSONDecodeError) and html_body(None, exc.doc):
            return malformed(self.name, HTML_ANSWER)
        if isinstance(exc, json.JSONDecodeError):
            return malformed(self.name, f"a line is not valid JSON ({exc.msg} at column {exc.colno})")
        if isinstance(exc, ValueError):  # an unexpected shape (the SDK's model rejected it): not an Ollama server?
            return malformed(self.name, f"a line has an unexpected shape ({one_line(exc, 120)})")
        if isinstance(exc, SHAPE_ERRORS):
            return malformed(self.name, f"a line has an unexpected shape ({type(exc).__name__})")
        raise exc  # a bug of ours, not a provider failure: let it surface as itself


def _wire_messages(messages: list[Message]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    names: dict[str, str] = {}  # call id -> tool name, for tool results that do not carry the name
    for m in messages:
        if m.role == "tool":
            # Ollama has no call ids: it pairs a result with its call by tool name and order.
            out.append({"role": "tool", "content": m.content,
                        "tool_name": m.name or names.get(m.tool_call_id or "", "")})
            continue
        wire: dict[str, Any] = {"role": m.role, "content": m.content}
        if m.tool_calls:
            names.update((c.id, c.name) for c in m.tool_calls)
            # Arguments go as objects; a malformed call's raw text cannot be sent, so it goes as {}.
            wire["tool_calls"] = [{"function": {"name": c.name, "arguments": c.arguments}}
                                  for c in m.tool_calls]
        out.append(wire)
    return out


def _calls(message: Any) -> list[ToolCall]:
    # The SDK keeps no call id, so make one; unique, because conversations outlive one answer and
    # another provider (Anthropic) may later reject duplicate ids in the history.
    return [parse_arguments(tc.function.name, dict(tc.function.arguments or {}),
                            f"call_{uuid.uuid4().hex[:12]}") for tc in message.tool_calls or ()]


def _usage(request: ChatRequest, final: Any, text: str) -> Usage:
    if final is None or final.eval_count is None:
        return estimate_usage(request.messages, text)
    if final.prompt_eval_count is None:  # Ollama omits it when the whole prompt came from its cache
        return Usage(estimate_usage(request.messages, text).input_tokens, final.eval_count, estimated=True)
    return Usage(final.prompt_eval_count, final.eval_count)


def _detail(exc: Any) -> str:
    first = (HTML_ANSWER if html_body(None, str(exc.error)) else one_line(str(exc.error))) if exc.error else ""
    if exc.status_code <= 0:  # an error line inside a 200 stream has no status of its own
        return first or "error while streaming"
    return f"HTTP {exc.status_code}: {first}" if first else f"HTTP {exc.status_code}"
