"""llmos's own local provider: a GGUF model run in-process by the embedded engine (llmos/engine/).

The model is loaded once per process and kept warm (the shell reuses it, and its evaluated prefix, across
turns). Generation runs in a worker thread so the event loop stays responsive; cancelling the request sets
the engine's flag, which stops generation at the next token or in the middle of a prompt evaluation.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmos.errors import ErrorKind, ProviderError
from llmos.llm.messages import ChatRequest, Done, StreamEvent, TextDelta, ToolCallEvent, Usage
from llmos.llm.providers.base import Provider

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from llmos.config.model import ProviderConfig
    from llmos.engine.engine import Engine

# Loaded engines, shared by every provider object of the process: (path, n_ctx, gpu_layers, threads) -> Engine.
_ENGINES: dict[tuple[str, int | None, int, int | None], Engine] = {}
_LOAD_LOCK = threading.Lock()


def resolve_model(name: str) -> Path:
    """The GGUF to load for a configured model: a file path as written, or a file name (``.gguf`` optional)
    under the models folder; else what llmos.models finds on disk for that name (Ollama's store, LM Studio,
    the Hugging Face cache) or, when nothing matches, the best GGUF already on disk — used where it is, never
    copied. The path as written when there is none (missing_setup then says how to get one)."""
    written = _as_written(name)
    if written.is_file():
        return written
    return _on_disk(name, *(os.environ.get(v, "") for v in _WHERE_MODELS_LIVE)) or written


_WHERE_MODELS_LIVE = ("HOME", "XDG_DATA_HOME", "HF_HOME", "HF_HUB_CACHE", "OLLAMA_MODELS")


def _as_written(name: str) -> Path:
    from llmos import paths

    given = Path(name).expanduser()
    if given.is_absolute() or name.startswith((".", "~")) or "/" in name:
        return given
    folder = paths.models_dir()
    plain = folder / name
    return plain if plain.exists() or name.endswith(".gguf") else folder / f"{name}.gguf"


@functools.lru_cache(maxsize=16)
def _on_disk(name: str, *where: str) -> Path | None:
    """Looked up once per process and place (``where``: the variables that say where models live)."""
    from llmos import models

    found = models.locate(name)
    if found is None:
        try:
            found = models.engine_choice(model=None).path
        except Exception:  # discovery is a convenience: a broken store must not break the provider
            log.debug("looking for GGUFs on disk failed", exc_info=True)
            found = None
    return found


def configured_model(config: ProviderConfig, tier: str = "default") -> str | None:
    return config.model_for(tier) or config.model


def context_window(config: ProviderConfig, tier: str = "default") -> int | None:
    """The context the engine will give the model: n_ctx from config, else the GGUF's, at most 4096."""
    if config.n_ctx:
        return config.n_ctx
    from llmos.engine.backend import DEFAULT_MAX_CTX
    from llmos.engine.gguf_header import trained_context

    name = configured_model(config, tier)
    try:
        trained = trained_context(resolve_model(name)) if name else None
    except (OSError, ValueError):
        trained = None
    return min(trained, DEFAULT_MAX_CTX) if trained else config.context_window


def _missing(provider: str, path: Path) -> str:
    from llmos.paths import display

    return (f"no model file at {display(path)}: run `llmos models pull` (or set providers.{provider}.model "
            "to a .gguf file)")


def load_engine(config: ProviderConfig, path: Path) -> Engine:
    """The process's engine for this file and settings, loading it the first time."""
    from llmos import paths
    from llmos.engine.backend import LoadOptions
    from llmos.engine.engine import Engine
    from llmos.engine.prefix_cache import FilePrefixStore

    key = (str(path.resolve()), config.n_ctx, config.gpu_layers or 0, config.threads)
    with _LOAD_LOCK:
        if key not in _ENGINES:
            options = LoadOptions(path, config.n_ctx, config.gpu_layers or 0, config.threads)
            _ENGINES[key] = Engine.load(options, FilePrefixStore(paths.engine_cache_dir()))
        return _ENGINES[key]


class EmbeddedProvider(Provider):
    def missing_setup(self) -> str | None:
        name = configured_model(self.config)
        if not name:
            return f"no model is set (providers.{self.name}.model): run `llmos models pull`"
        path = resolve_model(name)
        return None if path.is_file() else _missing(self.name, path)

    async def list_models(self) -> list[str]:
        names = [*self.config.models.values(), *([self.config.model] if self.config.model else [])]
        return list(dict.fromkeys(n for n in names if resolve_model(n).is_file()))

    async def chat(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        from llmos.llm.messages import new_call_id
        from llmos.engine import chat as engine_chat
        from llmos.engine.engine import Generation

        engine = await self._engine(request.model or configured_model(self.config) or "")
        try:
            plan = await asyncio.to_thread(engine_chat.plan, engine, request.messages, request.tools,
                                           request.json_schema, tool_choice=request.tool_choice)
        except ValueError as exc:
            raise ProviderError(self.name, ErrorKind.BAD_REQUEST, str(exc)) from exc
        room = engine.n_ctx - len(plan.prompt)
        if room < 1:
            raise ProviderError(self.name, ErrorKind.CONTEXT_TOO_LONG,
                                f"the prompt has {len(plan.prompt)} tokens; the context holds {engine.n_ctx}")
        job = Generation(plan.prompt, min(request.max_tokens or room, room), plan.grammar,
                         request.temperature or 0.0, stable_prefix=plan.stable_prefix)
        reader = engine_chat.Reader(plan, new_call_id)
        shown = ""
        async for piece in self._pieces(engine, job):
            visible = reader.feed(piece)
            if visible:
                shown += visible
                if request.stream:
                    yield TextDelta(visible)
        text, calls = reader.finish()
        if reader.raw is not None:
            engine.remember(engine_chat.written_key(text, calls), job.output)
        if not request.stream and text:
            yield TextDelta(text)
        elif request.stream and text.startswith(shown) and len(text) > len(shown):
            yield TextDelta(text[len(shown):])  # a native answer is known only at the end
        for call in calls:
            yield ToolCallEvent(call)
        finish = "tool_calls" if calls else job.stats.finish_reason
        yield Done(Usage(job.stats.prompt_tokens, job.stats.output_tokens), finish)

    async def _engine(self, name: str) -> Engine:
        from llmos.engine.backend import EngineError

        path = resolve_model(name)
        if not path.is_file():
            raise ProviderError(self.name, ErrorKind.UNAVAILABLE, _missing(self.name, path), transient=False)
        try:
            return await asyncio.to_thread(load_engine, self.config, path)
        except EngineError as exc:
            raise ProviderError(self.name, ErrorKind.UNAVAILABLE, str(exc), transient=False) from exc

    async def _pieces(self, engine: Engine, job: Any) -> AsyncIterator[str]:
        """The engine's pieces, generated in a worker thread; leaving early cancels the generation."""
        from llmos.engine.backend import EngineError

        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

        def put(kind: str, value: Any) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is listening any more
                loop.call_soon_threadsafe(queue.put_nowait, (kind, value))

        def work() -> None:
            try:
                for piece in engine.stream(job):
                    put("piece", piece)
                put("end", None)
            except BaseException as exc:  # handed to the loop, raised there
                put("error", exc)

        worker = threading.Thread(target=work, name="llmos-engine", daemon=True)
        worker.start()
        finished = False
        try:
            while True:
                kind, value = await queue.get()
                if kind == "piece":
                    yield value
                elif kind == "end":
                    finished = True
                    return
                else:
                    finished = True
                    raise self._error(value) if isinstance(value, EngineError) else value
        finally:
            if not finished:
                engine.cancel()  # Ctrl-C, a closed stream, or a consumer that stopped reading

    def _error(self, exc: Exception) -> ProviderError:
        reason = getattr(exc, "reason", "")
        kind = {"context": ErrorKind.CONTEXT_TOO_LONG, "grammar": ErrorKind.BAD_REQUEST}.get(reason,
                                                                                            ErrorKind.UNAVAILABLE)
        return ProviderError(self.name, kind, str(exc), transient=False)
