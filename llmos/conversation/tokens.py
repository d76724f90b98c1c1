"""Counting tokens: a real tokenizer where one is known, else an estimate calibrated from the counts the
provider reports (Ollama, llama.cpp and the cloud APIs all return prompt token counts)."""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable

from llmos.llm.messages import Message

MESSAGE_OVERHEAD = 4  # role markers and separators every chat template adds around a message
DEFAULT_CHARS_PER_TOKEN = 4.0


@functools.lru_cache(maxsize=8)
def _encoding(name: str) -> Callable[[str], list[int]] | None:
    """The BPE tables for one encoding, loaded once per process. bpe-openai ships OpenAI's tables inside its
    wheel (byte-for-byte tiktoken-compatible); tiktoken itself downloads them on first use, which fails or
    stalls offline, so it is only the fallback."""
    try:
        import bpe_openai

        encoding = bpe_openai.get_encoding(name)
        return encoding.encode_ordinary if hasattr(encoding, "encode_ordinary") else encoding.encode
    except Exception:
        pass
    try:
        import tiktoken

        return tiktoken.get_encoding(name).encode_ordinary
    except Exception:
        return None


def _openai_encoder(model: str) -> Callable[[str], list[int]] | None:
    """OpenAI's BPE for a model name, or None for models whose tokenizer is not known here."""
    name = "o200k_base" if model.startswith(("gpt-4o", "gpt-4.1", "gpt-5", "o1", "o3", "o4")) else (
        "cl100k_base" if model.startswith(("gpt-4", "gpt-3.5")) else None)
    return _encoding(name) if name else None


class TokenCounter:
    """Tokens for one model. ``exact`` when a real tokenizer is used; otherwise characters ÷ a ratio that
    starts at 4 and is corrected by every prompt-token count the provider reports."""

    def __init__(self, model: str = "", provider_type: str = ""):
        self._encode = _openai_encoder(model) if provider_type in ("openai", "") or model.startswith("gpt") else None
        self._chars = 0  # characters of prompts whose real token count was reported
        self._tokens = 0  # and those real counts
        # id(message) -> (message, size): tokens with a real tokenizer, characters otherwise (the ratio may
        # still change). Holding the message keeps its id from being reused while cached.
        self._sizes: dict[int, tuple[Message, int]] = {}

    @property
    def exact(self) -> bool:
        return self._encode is not None

    @property
    def chars_per_token(self) -> float:
        if self._tokens < 50:  # too little evidence: keep the conventional ratio
            return DEFAULT_CHARS_PER_TOKEN
        return self._chars / self._tokens

    def count(self, text: str) -> int:
        if not text:
            return 0
        if self._encode is not None:
            return len(self._encode(text))
        return max(1, math.ceil(len(text) / self.chars_per_token))

    def message_chars(self, message: Message) -> int:
        size = len(message.content)
        for call in message.tool_calls:
            size += len(call.name) + len(json.dumps(call.arguments)) + 10
        return size

    def count_message(self, message: Message) -> int:
        cached = self._sizes.get(id(message))
        if cached is None or cached[0] is not message:
            if self._encode is not None:
                text = message.content + "".join(c.name + json.dumps(c.arguments) for c in message.tool_calls)
                size = len(self._encode(text)) + 3 * len(message.tool_calls)
            else:
                size = self.message_chars(message)
            cached = self._sizes[id(message)] = (message, size)
        if self._encode is not None:
            return cached[1] + MESSAGE_OVERHEAD
        return math.ceil(cached[1] / self.chars_per_token) + MESSAGE_OVERHEAD

    def forget(self, messages: list[Message]) -> None:
        """Drop cached sizes of messages no longer in any conversation."""
        for m in messages:
            self._sizes.pop(id(m), None)

    def calibrate(self, prompt_chars: int, reported_tokens: int) -> None:
        """Learn the ratio from a prompt of ``prompt_chars`` characters that the provider counted."""
        if reported_tokens > 0 and prompt_chars > 0:
            self._chars += prompt_chars
            self._tokens += reported_tokens

    def calibrate_prompt(self, messages: list[Message], reported_tokens: int, extra_tokens: int = 0) -> None:
        """Calibrate from a whole prompt: ``extra_tokens`` (tool schemas) and per-message overhead are
        taken out first, so the ratio describes text alone."""
        chars = sum(self.message_chars(m) for m in messages)
        text_tokens = reported_tokens - extra_tokens - MESSAGE_OVERHEAD * len(messages)
        if text_tokens > 0:
            self.calibrate(chars, text_tokens)
