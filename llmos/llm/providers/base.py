"""The interface every provider adapter implements, and what the adapters share."""

from __future__ import annotations

import abc
import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from llmos.errors import ErrorKind, ProviderError
from llmos.llm.messages import ChatRequest, Done, Message, StreamEvent, TextDelta, ToolCall, ToolCallEvent, Usage

if TYPE_CHECKING:
    from llmos.config.model import ProviderConfig


class Provider(abc.ABC):
    """One configured provider. Adapters raise ProviderError, never an SDK's own exception."""

    def __init__(self, name: str, config: ProviderConfig):
        self.name = name
        self.config = config

    @abc.abstractmethod
    def chat(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """Text deltas and complete tool calls, then one Done. ``request.stream=False`` makes one
        non-streaming call on the wire and yields its result the same way."""

    @abc.abstractmethod
    async def list_models(self) -> list[str]:
        """Models the provider serves; raises ProviderError when it cannot be reached."""

    def missing_setup(self) -> str | None:
        """Why this provider cannot work without trying the network (e.g. no API key), or None."""
        if self.config.api_key_env and not self.config.api_key:
            return f"{self.config.api_key_env} is not set"
        return None

    async def aclose(self) -> None:  # noqa: B027 — optional hook
        """Release connections."""


# Providers describe errors in many ways; these words in a 400's message mean the prompt did not fit.
_CONTEXT_WORDS = ("context length", "context_length", "context window", "too many tokens", "prompt is too long",
                  "maximum context", "exceeds the context", "context size", "n_ctx")


def kind_for_status(status: int, message: str = "") -> ErrorKind:
    """Map an HTTP status (and the error text) to the error taxonomy."""
    low = message.lower()
    if status in (401, 403):
        return ErrorKind.AUTH_FAILED
    if status == 429:
        return ErrorKind.RATE_LIMITED
    if status in (408, 504):
        return ErrorKind.TIMEOUT
    if status == 413 or (status == 400 and any(w in low for w in _CONTEXT_WORDS)):
        return ErrorKind.CONTEXT_TOO_LONG
    if status >= 500:  # includes Anthropic's 529 "overloaded"
        return ErrorKind.UNAVAILABLE
    if status == 404 and "model" in low:
        return ErrorKind.BAD_REQUEST
    return ErrorKind.BAD_REQUEST


def retry_after(response: Any) -> float | None:
    """Seconds from a Retry-After header (the seconds form; rate limits use it), when there is one."""
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value else None
    except ValueError:
        return None


def parse_arguments(name: str, raw: str | dict[str, Any] | None, call_id: str) -> ToolCall:
    """A tool call from wire arguments; unparseable JSON is kept in ``malformed`` for repair upstream."""
    if isinstance(raw, dict):
        return ToolCall(call_id, name, raw)
    text = (raw or "").strip()
    if not text:
        return ToolCall(call_id, name, {})
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return ToolCall(call_id, name, {}, malformed=text)
    if not isinstance(value, dict):
        return ToolCall(call_id, name, {}, malformed=text)
    return ToolCall(call_id, name, value)


def estimate_tokens(text: str) -> int:
    """Rough count for providers that report no usage; marked as estimated wherever it is used."""
    return max(1, (len(text) + 3) // 4) if text else 0


def estimate_usage(messages: list[Message], output: str) -> Usage:
    prompt = sum(estimate_tokens(m.content) + 4 for m in messages)
    return Usage(prompt, estimate_tokens(output), estimated=True)


async def single_result(text: str, calls: list[ToolCall], usage: Usage, finish: str) -> AsyncIterator[StreamEvent]:
    """Events for a non-streaming answer, so callers handle both modes the same way."""
    if text:
        yield TextDelta(text)
    for call in calls:
        yield ToolCallEvent(call)
    yield Done(usage, finish)


def unavailable(provider: str, exc: BaseException) -> ProviderError:
    """A connection that failed outright: not worth retrying, go straight to the next provider."""
    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return ProviderError(provider, ErrorKind.UNAVAILABLE, detail, transient=False)
