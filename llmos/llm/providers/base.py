"""The interface every provider adapter implements, and what the adapters share."""

from __future__ import annotations

import abc
import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

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


@dataclass(frozen=True)
class Deadlines:
    """How long one answer may take: before its first event, between events, and in all (seconds)."""

    first_byte: float
    idle: float
    total: float


def deadlines(config: ProviderConfig, stream: bool) -> Deadlines:
    """`timeout` is the wait for the first byte of an answer; `idle_timeout` the longest silence inside a
    stream; `total_timeout` the whole answer. A non-streamed answer arrives at once, so only the total counts."""
    total = config.total_timeout
    if not stream:
        return Deadlines(total, total, total)
    return Deadlines(min(config.timeout, total), min(config.idle_timeout, total), total)


async def drain(provider: Provider, request: ChatRequest, take: Callable[[StreamEvent], None]) -> None:
    """Read one answer to its end, handing each event to ``take``, under the provider's deadlines.

    One clock for the whole answer, moved on by every event: the first must come within the first-byte
    limit, each next one within the idle limit, all within the total. A limit that runs out raises a
    TIMEOUT naming it with its real figure — not retried, since the same wait would only come again."""
    limits = deadlines(provider.config, request.stream)
    loop = asyncio.get_running_loop()
    begun = loop.time()
    started = False
    try:
        async with (asyncio.timeout(limits.first_byte) as clock,
                    contextlib.aclosing(cast(Any, provider.chat(request))) as events):
            async for event in events:
                clock.reschedule(min(loop.time() + limits.idle, begun + limits.total))
                started = True
                take(event)
    except TimeoutError:
        elapsed = loop.time() - begun
        if elapsed >= limits.total - 0.05:
            detail = f"the answer took longer than {limits.total:g}s in all (total_timeout)"
        elif started:
            detail = f"the stream went silent for {limits.idle:g}s (idle_timeout)"
        else:
            detail = f"no answer within {limits.first_byte:g}s of sending the request (timeout)"
        raise ProviderError(provider.name, ErrorKind.TIMEOUT, detail, transient=False) from None


def read_timeout(config: ProviderConfig) -> float:
    """The HTTP client's own read timeout: a backstop a little past every deadline the router enforces."""
    return config.total_timeout + 5


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
    return ProviderError(provider, ErrorKind.UNAVAILABLE, one_line(exc), transient=False)


def one_line(exc: BaseException | str, limit: int = 200) -> str:
    """The first line of an error, short, with every known secret masked (providers echo keys back)."""
    from llmos.redact import scrub

    text = str(exc).strip()
    first = text.splitlines()[0] if text else (type(exc).__name__ if isinstance(exc, BaseException) else "")
    return scrub(first)[:limit]


# ---- what a well-formed stream looks like ----------------------------------------------------------------

# Shape errors while reading a chunk: the wire sent something that is not what its format says.
SHAPE_ERRORS = (json.JSONDecodeError, AttributeError, KeyError, TypeError, IndexError)
_SURROGATE = re.compile("[\ud800-\udfff]")


def malformed(provider: str, what: str) -> ProviderError:
    """The provider's answer broke its own wire format: say what, in one line, and let the router fall back."""
    return ProviderError(provider, ErrorKind.UNAVAILABLE, f"malformed answer: {one_line(what)}", transient=False)


def cut_off(provider: str, reason: str) -> ProviderError:
    """The stream ended before the answer did."""
    return ProviderError(provider, ErrorKind.UNAVAILABLE, f"the answer was cut off: {one_line(reason)}",
                         transient=False)


def shape_error(provider: str, exc: BaseException) -> ProviderError:
    if isinstance(exc, json.JSONDecodeError):
        return malformed(provider, f"a chunk is not valid JSON ({exc.msg} at column {exc.colno})")
    return malformed(provider, f"a chunk has an unexpected shape ({type(exc).__name__}: {one_line(exc, 120)})")


def text_field(provider: str, value: Any, where: str) -> str:
    """A text value from the wire: a string (or absent), and valid Unicode."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise malformed(provider, f"{where} is {type(value).__name__}, not text")
    if _SURROGATE.search(value):
        raise malformed(provider, f"{where} holds an unpaired UTF-16 surrogate (not valid Unicode)")
    return value


def token_field(provider: str, value: Any, where: str) -> int | None:
    """A token count from the wire: a whole number ≥ 0, or absent."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise malformed(provider, f"{where} is {value!r}, not a token count")
    return value


def html_body(content_type: str | None, body: Any = None) -> bool:
    """An HTML page where an API answer was expected: a proxy, a login portal, or a wrong base_url."""
    if content_type and "text/html" in content_type.lower():
        return True
    return isinstance(body, str) and body.lstrip()[:15].lower().startswith(("<!doctype html", "<html"))


def html_response(response: Any) -> bool:
    """Whether an HTTP error response carries an HTML page (its body may not have been read: then, by header)."""
    if response is None:
        return False
    try:
        body = response.text
    except Exception:  # a streamed body not read yet
        body = ""
    return html_body(response.headers.get("content-type"), body)


HTML_ANSWER = "the server sent an HTML page, not an API answer (is base_url right? a proxy in the way?)"
