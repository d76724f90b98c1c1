"""One exception root and the exit statuses scripts can rely on.

Exceptions become exit statuses in exactly one place: ``llmos.entry.guarded``.
"""

from __future__ import annotations

import enum


class ExitStatus(enum.IntEnum):
    OK = 0
    ERROR = 1  # unexpected failure (bug or provider error that has no better code)
    USAGE = 2  # bad command line or bad configuration
    NO_PROVIDER = 3  # no LLM provider could answer
    REFUSED = 4  # an action needed confirmation and was refused
    INTERRUPTED = 130  # Ctrl-C


class LlmosError(Exception):
    """Base of every error llmos reports to the user as one friendly message."""

    exit_status = ExitStatus.ERROR


class ConfigError(LlmosError):
    """Malformed or mistyped configuration; the message names file, line and key."""

    exit_status = ExitStatus.USAGE


class ErrorKind(enum.StrEnum):
    UNAVAILABLE = "provider unavailable"
    RATE_LIMITED = "rate limited"
    CONTEXT_TOO_LONG = "context too long"
    AUTH_FAILED = "authentication failed"
    BAD_REQUEST = "bad request"
    TIMEOUT = "timed out"
    NOT_SET_UP = "not set up"  # never tried: no API key, no model file (the detail says what to do)

    @property
    def retryable(self) -> bool:
        """Worth trying the same provider again after a pause."""
        return self in (ErrorKind.RATE_LIMITED, ErrorKind.UNAVAILABLE, ErrorKind.TIMEOUT)

    @property
    def try_next_provider(self) -> bool:
        """Worth falling back to another provider (the request itself may be fine)."""
        return self is not ErrorKind.BAD_REQUEST


_HINTS = {
    ErrorKind.UNAVAILABLE: "is it running and reachable?",
    ErrorKind.RATE_LIMITED: "wait a moment or use another provider.",
    ErrorKind.CONTEXT_TOO_LONG: "shorten the request or clear the conversation.",
    ErrorKind.AUTH_FAILED: "check the API key.",
    ErrorKind.BAD_REQUEST: "the provider rejected the request.",
    ErrorKind.TIMEOUT: "the provider took too long to answer.",
    ErrorKind.NOT_SET_UP: "it needs setting up first (a key or a model).",
}


class ProviderError(LlmosError):
    """A provider failed; ``kind`` decides retry and fallback, ``detail`` keeps the original text."""

    def __init__(self, provider: str, kind: ErrorKind, detail: str = "", retry_after: float | None = None,
                 transient: bool | None = None):
        self.provider = provider
        self.kind = kind
        self.detail = detail
        self.retry_after = retry_after
        # A refused connection is "unavailable" but retrying it only adds delay before the fallback.
        self.transient = kind.retryable if transient is None else transient
        super().__init__(f"{provider}: {kind.value}" + (f" ({detail})" if detail else ""))

    @property
    def hint(self) -> str:
        return _HINTS[self.kind]


class NoProviderAvailable(LlmosError):
    """Every provider in the chain failed; the message says what was tried and how to fix it."""

    exit_status = ExitStatus.NO_PROVIDER

    def __init__(self, attempts: list[ProviderError]):
        self.attempts = attempts
        super().__init__(self._explain())

    def _explain(self) -> str:
        if self.attempts:
            tried = "; ".join(f"{e.provider} — {e.kind.value}" + (f": {e.detail}" if e.detail else "")
                              for e in self.attempts)
        else:
            tried = "no provider is configured and enabled"
        return (
            f"No LLM provider could answer. Tried: {tried}. "
            "To fix: start Ollama (`ollama serve`) and pull a model (`ollama pull llama3.2:3b`); "
            "or set ANTHROPIC_API_KEY or OPENAI_API_KEY; "
            "or add an OpenAI-compatible endpoint to the config (`llmos config edit`)."
        )


class UsageError(LlmosError):
    """The command line asked for something that cannot be done as asked."""

    exit_status = ExitStatus.USAGE
