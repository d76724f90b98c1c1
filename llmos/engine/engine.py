"""The engine: one loaded model, the token prefix it has evaluated, and generation that can be stopped.

Prefix reuse: the tokens already in the KV cache are remembered; a new prompt that starts with them
evaluates only what is new (a shell turn re-reads nothing of the system prompt, tools and history).
Across processes, the stable prefix (system prompt + tool schemas) is saved to a state file and restored
(prefix_cache.py). Cancellation is a flag checked before every token and inside a long prompt evaluation.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from llmos.engine.backend import Backend, Cancelled, EngineError, LoadOptions

# Prompts are read in chunks this size: each one finished is a sign of life (at ~10 tokens/s, a busy CPU's
# speed for a 0.5B model on one thread, a chunk takes ~13 s) and a point where a cancel is seen at the latest.
PROGRESS_CHUNK = 128


@dataclass
class GenerationStats:
    prompt_tokens: int = 0
    reused_tokens: int = 0  # prompt tokens already in the KV cache (this process or a restored state file)
    evaluated_tokens: int = 0  # prompt tokens actually run through the model
    output_tokens: int = 0
    restored_from: str | None = None  # the state file a prefix came from
    finish_reason: str = "stop"  # stop, length, cancelled
    seconds: float = 0.0


@dataclass
class Generation:
    """What to generate; the prompt is already rendered and tokenized."""

    prompt: list[int]
    max_tokens: int = 512
    grammar: str | None = None
    temperature: float = 0.0
    seed: int = 0
    stable_prefix: int = 0  # the first N prompt tokens are worth saving to (and restoring from) a state file
    # The grammar applies only if the answer starts like a call ("<", "{", "[", "`"); plain words are written
    # freely. Measured on Qwen2.5-Coder-0.5B, 2 threads: checking the grammar costs ~20 ms a token over the
    # 151k-token vocabulary, and a reply written as JSON takes ~4x the tokens of the same words.
    lazy_grammar: bool = False
    # Called (in the engine's thread) after each chunk of the prompt is read, with the tokens read so far: a
    # sign of life while a long prompt is evaluated on a slow CPU, so deadlines can count silence, not wait.
    on_progress: Callable[[int], None] | None = None
    stats: GenerationStats = field(default_factory=GenerationStats)
    output: list[int] = field(default_factory=list)  # the tokens generated


def starts_like_call(text: str) -> bool:
    """Whether an answer begins the way a call written as text does (or has no words yet)."""
    start = text.lstrip()
    return not start or start[0] in "<{[`"


def common_prefix(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class Engine:
    """Thread-safe: one generation at a time (a second caller waits for the lock)."""

    def __init__(self, backend: Backend, options: LoadOptions, prefix_store: PrefixStore | None = None):
        self.backend = backend
        self.options = options
        self.prefix_store = prefix_store
        self._evaluated: list[int] = []  # tokens whose KV entries are in the context, in order
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self.last_stats = GenerationStats()  # of the latest generation, for benchmarks and the banner
        # The tokens the model wrote for recent answers (key: the answer text, or its tool call ids): put back
        # into the next prompt as they were, so they match the KV cache and only new tokens are read (text
        # re-tokenized would differ: "<tool_call>" written as characters becomes one special token).
        self.written: OrderedDict[str, list[int]] = OrderedDict()

    @classmethod
    def load(cls, options: LoadOptions, prefix_store: PrefixStore | None = None) -> Engine:
        from llmos.engine.cyllama_backend import CyllamaBackend

        return cls(CyllamaBackend(options), options, prefix_store)

    @property
    def n_ctx(self) -> int:
        return self.backend.n_ctx

    def tokenize(self, text: str) -> list[int]:
        return self.backend.tokenize(text)

    def remember(self, key: str, tokens: list[int], keep: int = 64) -> None:
        self.written[key] = list(tokens)
        while len(self.written) > keep:
            self.written.popitem(last=False)

    def cancel(self) -> None:
        """Stop the generation in progress (from any thread): at the next token, or mid-evaluation."""
        self._cancel.set()
        self.backend.abort(True)

    def generate(self, job: Generation, on_piece: Callable[[str], None] | None = None) -> str:
        """Run ``job``; text pieces go to ``on_piece`` as they are decoded. Returns the whole text."""
        parts: list[str] = []
        for piece in self.stream(job):
            parts.append(piece)
            if on_piece is not None:
                on_piece(piece)
        return "".join(parts)

    def stream(self, job: Generation) -> Iterator[str]:
        if len(job.prompt) >= self.n_ctx:
            raise EngineError("context", f"the prompt has {len(job.prompt)} tokens; the context holds "
                                         f"{self.n_ctx} (n_ctx)")
        with self._lock:
            self._cancel.clear()
            self.backend.abort(False)
            self.last_stats = job.stats
            start = time.perf_counter()
            try:
                self._prefill(job)
                yield from self._decode(job)
            except Cancelled:
                job.stats.finish_reason = "cancelled"
                raise
            finally:
                job.stats.seconds = time.perf_counter() - start

    # ---- prompt ------------------------------------------------------------------------------------------

    def _prefill(self, job: Generation) -> None:
        stats = job.stats
        stats.prompt_tokens = len(job.prompt)
        store = self.prefix_store if job.stable_prefix else None
        if store is not None and not self._evaluated:
            restored = store.restore(self, job.prompt)
            if restored:
                self._evaluated, stats.restored_from = restored
        # At least the last prompt token is evaluated: its logits choose the first answer token.
        keep = min(common_prefix(self._evaluated, job.prompt), len(job.prompt) - 1)
        self._truncate(keep)
        stats.reused_tokens = keep
        if store is not None and keep < job.stable_prefix < len(job.prompt):
            self._run(job.prompt[keep:job.stable_prefix], stats, job.on_progress)  # the stable part, to save it
            store.save(self, self._evaluated)
            keep = job.stable_prefix
        self._run(job.prompt[keep:], stats, job.on_progress)

    def _truncate(self, keep: int) -> None:
        if keep < len(self._evaluated):
            self.backend.forget_from(keep)
            del self._evaluated[keep:]

    def _run(self, tokens: list[int], stats: GenerationStats,
             on_progress: Callable[[int], None] | None = None) -> None:
        for i in range(0, len(tokens), PROGRESS_CHUNK):
            chunk = tokens[i:i + PROGRESS_CHUNK]
            start = len(self._evaluated)
            try:
                self.backend.evaluate(chunk, start)
            except EngineError:
                self.backend.forget_from(start)  # a batch cut short leaves an unknown part evaluated
                raise
            self._evaluated += chunk
            stats.evaluated_tokens += len(chunk)
            if on_progress is not None:
                on_progress(stats.evaluated_tokens)

    # ---- answer ------------------------------------------------------------------------------------------

    def _decode(self, job: Generation) -> Iterator[str]:
        lazy = bool(job.grammar) and job.lazy_grammar
        sampler = self.backend.sampler(None if lazy else job.grammar, job.temperature, job.seed)
        output = job.output
        shown = 0  # characters of the answer already yielded
        room = self.n_ctx - len(self._evaluated)
        job.stats.finish_reason = "length"
        for _ in range(min(job.max_tokens, room)):
            if self._cancel.is_set():
                raise Cancelled()
            token = sampler.sample()
            if lazy:
                lazy = False
                if starts_like_call(self.backend.detokenize([token])):
                    # The same logits, sampled again under the grammar: nothing was evaluated in between.
                    sampler = self.backend.sampler(job.grammar, job.temperature, job.seed)
                    token = sampler.sample()
            if self.backend.is_end(token):
                job.stats.finish_reason = "stop"
                break
            job.stats.output_tokens += 1
            output.append(token)
            # Decoding the whole answer (not token by token) keeps spaces right and waits for characters
            # whose bytes span several tokens.
            text = self._text(output)
            if text is not None and len(text) > shown:
                yield text[shown:]
                shown = len(text)
            self._run([token], GenerationStats())
        text = self._text(output, final=True) or ""
        if len(text) > shown:
            yield text[shown:]

    def _text(self, tokens: list[int], final: bool = False) -> str | None:
        try:
            text = self.backend.detokenize(tokens)
        except UnicodeDecodeError:
            return None
        return text if final or not text.endswith("\ufffd") else None

    def close(self) -> None:
        with self._lock:
            self.backend.close()


class PrefixStore:
    """Where prefix states are saved between processes; prefix_cache.py keeps them as files."""

    def save(self, engine: Engine, prefix: list[int]) -> None:
        raise NotImplementedError

    def restore(self, engine: Engine, prompt: list[int]) -> tuple[list[int], str] | None:
        """Load the saved state sharing the longest prefix with ``prompt``: (its tokens, where it came from)."""
        raise NotImplementedError


def model_identity(path: Path) -> str:
    """Changes when the file does: path, size and modification time."""
    st = path.stat()
    return f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}"
