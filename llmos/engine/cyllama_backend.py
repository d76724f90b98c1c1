"""The backend on cyllama: Cython bindings to llama.cpp with prebuilt wheels (no compiler at install).

cyllama is imported here only, when a model is loaded (≈ 0.1 s); llmos starts without it.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from llmos.engine.backend import DEFAULT_MAX_CTX, Backend, Cancelled, EngineError, LoadOptions, Sampler, \
    default_threads

_init_lock = threading.Lock()
_initialised = False
N_BATCH = 512


def _llama() -> Any:
    """The binding module, with llama.cpp's own logging silenced and its CPU/GPU backends registered once."""
    global _initialised
    try:
        from cyllama.llama import llama_cpp
    except ImportError as exc:  # an optional part of the install is missing: say how to get it
        raise EngineError("load", "the embedded engine needs cyllama: pip install 'cyllama'") from exc
    with _init_lock:
        if not _initialised:
            llama_cpp.disable_logging()
            llama_cpp.ggml_backend_load_all()
            _initialised = True
    return llama_cpp


def gpu_offload() -> bool:
    """Whether this build of the binding can put layers on a GPU (the Linux and Windows wheels cannot)."""
    return bool(_llama().llama_supports_gpu_offload())


class _CySampler(Sampler):
    def __init__(self, chain: Any, ctx: Any):
        self._chain, self._ctx = chain, ctx

    def sample(self) -> int:
        return int(self._chain.sample(self._ctx, -1))


class CyllamaBackend(Backend):
    def __init__(self, options: LoadOptions):
        lib = _llama()
        self._lib = lib
        if not options.path.is_file():
            raise EngineError("missing", f"model file not found: {options.path}")
        params = lib.LlamaModelParams()
        params.n_gpu_layers = options.n_gpu_layers
        try:
            self._model = lib.LlamaModel(str(options.path), params)
        except Exception as exc:  # a truncated or foreign file
            raise EngineError("load", f"cannot load {options.path}: {exc}") from exc
        self._vocab = self._model.get_vocab()
        threads = options.n_threads or default_threads()
        cparams = lib.LlamaContextParams()
        cparams.n_ctx = options.n_ctx or min(self.trained_context, DEFAULT_MAX_CTX)
        cparams.n_batch = N_BATCH
        cparams.n_threads = threads
        cparams.n_threads_batch = threads
        cparams.no_perf = True
        self._ctx = lib.LlamaContext(self._model, cparams)
        self._ctx.install_cancel_callback()  # lets abort() stop a long prompt evaluation mid-way

    @property
    def n_ctx(self) -> int:
        return int(self._ctx.n_ctx)

    @property
    def trained_context(self) -> int:
        return int(self._model.n_ctx_train)

    @property
    def n_threads(self) -> int:
        value = self._ctx.n_threads  # a method in cyllama 0.2, maybe a property later
        return int(value() if callable(value) else value)

    def metadata(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in self._model.metadata().items()}

    def chat_template(self) -> str:
        return str(self._model.get_default_chat_template() or "")

    def special_text(self) -> tuple[str, str]:
        bos, eos = self._vocab.token_bos(), self._vocab.token_eos()
        return (self._vocab.token_to_piece(bos, special=True) if bos >= 0 else "",
                self._vocab.token_to_piece(eos, special=True) if eos >= 0 else "")

    def tokenize(self, text: str, add_bos: bool = False) -> list[int]:
        return list(self._vocab.tokenize(text, add_special=add_bos, parse_special=True))

    def detokenize(self, tokens: list[int]) -> str:
        return str(self._vocab.detokenize(tokens)) if tokens else ""

    def is_end(self, token: int) -> bool:
        return bool(self._vocab.is_eog(token))

    def evaluate(self, tokens: list[int], start: int) -> None:
        for i in range(0, len(tokens), N_BATCH):
            batch = self._lib.llama_batch_get_one(tokens[i:i + N_BATCH], start + i)
            try:
                self._ctx.decode(batch)
            except InterruptedError:
                raise Cancelled() from None
            except (ValueError, RuntimeError) as exc:
                raise EngineError("decode", f"llama.cpp could not evaluate the prompt: {exc}") from exc

    def forget_from(self, position: int) -> None:
        self._ctx.memory_seq_rm(0, position, -1)

    def grammar_from_schema(self, schema: dict[str, Any]) -> str:
        try:
            return str(self._lib.json_schema_to_grammar(schema))
        except Exception as exc:  # llama.cpp's converter raises AssertionError on refs it cannot resolve
            raise ValueError(f"cannot turn the schema into a grammar: {exc}") from exc

    def sampler(self, grammar: str | None, temperature: float, seed: int) -> Sampler:
        params = self._lib.LlamaSamplerChainParams()
        params.no_perf = True
        chain = self._lib.LlamaSampler(params)
        if grammar:
            try:
                chain.add_grammar(self._vocab, grammar, "root")
            except Exception as exc:
                raise EngineError("grammar", f"llama.cpp rejected the grammar: {exc}") from exc
        if temperature <= 0:
            chain.add_greedy()
        else:
            chain.add_top_k(40)
            chain.add_top_p(0.95, 1)
            chain.add_temp(temperature)
            chain.add_dist(seed)
        return _CySampler(chain, self._ctx)

    def abort(self, value: bool) -> None:
        self._ctx.cancel = value

    def save_state(self, path: Path, tokens: list[int]) -> None:
        self._ctx.save_state_file(str(path), tokens)

    def load_state(self, path: Path, max_tokens: int) -> list[int]:
        return list(self._ctx.load_state_file(str(path), max_tokens))

    def close(self) -> None:
        self._ctx.close()
        self._model.close()
