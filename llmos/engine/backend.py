"""The one small interface a llama.cpp binding implements, so the provider and the router never see which.

A backend holds one loaded model and one context (a single sequence). It knows nothing about chats, tools or
caches: the engine (engine.py) builds prefix reuse, grammars and cancellation on these primitives, so a second
binding (llama-cpp-python, a GPU wheel) only has to implement this class.
"""

from __future__ import annotations

import abc
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class EngineError(Exception):
    """Anything the engine cannot do; ``reason`` says which kind (the provider maps it to an ErrorKind)."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason  # "missing", "load", "context", "grammar", "cancelled", "decode"


class Cancelled(EngineError):
    def __init__(self) -> None:
        super().__init__("cancelled", "generation cancelled")


@dataclass(frozen=True)
class LoadOptions:
    path: Path
    n_ctx: int | None = None  # None: the model's trained context, capped at DEFAULT_MAX_CTX
    n_gpu_layers: int = 0
    n_threads: int | None = None  # None: the machine's physical cores


DEFAULT_MAX_CTX = 4096  # a context this size fits every small model in a few hundred MB of KV cache


def default_threads() -> int:
    """Physical cores: llama.cpp gains nothing from hyper-threads and loses a lot when cores are shared."""
    try:
        import psutil

        cores = psutil.cpu_count(logical=False)
    except Exception:  # psutil may not know this platform
        cores = None
    return max(1, cores or os.cpu_count() or 1)


class Sampler(abc.ABC):
    @abc.abstractmethod
    def sample(self) -> int:
        """The next token from the logits of the last evaluated token (accepted into the grammar state)."""


class Backend(abc.ABC):
    """One model and its context. Positions are token indexes in the context's single sequence."""

    @property
    @abc.abstractmethod
    def n_ctx(self) -> int: ...

    @property
    @abc.abstractmethod
    def trained_context(self) -> int: ...

    @property
    @abc.abstractmethod
    def n_threads(self) -> int:
        """The threads generation runs on, as the context was created with."""

    @abc.abstractmethod
    def metadata(self) -> dict[str, str]: ...

    @abc.abstractmethod
    def chat_template(self) -> str:
        """The Jinja chat template stored in the GGUF, or '' when it has none."""

    @abc.abstractmethod
    def special_text(self) -> tuple[str, str]:
        """The BOS and EOS tokens as text, for templates that mention them."""

    @abc.abstractmethod
    def tokenize(self, text: str, add_bos: bool = False) -> list[int]:
        """Special tokens written in ``text`` (<|im_start|>) become their ids."""

    @abc.abstractmethod
    def detokenize(self, tokens: list[int]) -> str: ...

    @abc.abstractmethod
    def is_end(self, token: int) -> bool:
        """End of generation (EOS, EOT, <|im_end|>…)."""

    @abc.abstractmethod
    def evaluate(self, tokens: list[int], start: int) -> None:
        """Run ``tokens`` at positions start… ; raises Cancelled when ``abort`` was called meanwhile."""

    @abc.abstractmethod
    def forget_from(self, position: int) -> None:
        """Drop the KV cache from ``position`` on (the kept prefix stays evaluated)."""

    @abc.abstractmethod
    def grammar_from_schema(self, schema: dict[str, Any]) -> str:
        """A GBNF grammar that accepts exactly the JSON documents ``schema`` allows; ValueError if it cannot."""

    @abc.abstractmethod
    def sampler(self, grammar: str | None, temperature: float, seed: int) -> Sampler: ...

    @abc.abstractmethod
    def abort(self, value: bool) -> None:
        """Set or clear the flag that stops an evaluation in progress (safe from any thread)."""

    @abc.abstractmethod
    def save_state(self, path: Path, tokens: list[int]) -> None: ...

    @abc.abstractmethod
    def load_state(self, path: Path, max_tokens: int) -> list[int]:
        """Restore a saved KV state; returns the tokens it holds."""

    @abc.abstractmethod
    def close(self) -> None: ...
