"""llmos's own local provider: a GGUF model run in-process by the embedded engine (llmos/engine/).

The model is loaded once per process and kept warm (the shell reuses it, and its evaluated prefix, across
turns). Generation runs in a worker thread so the event loop stays responsive; cancelling the request sets
the engine's flag, which stops generation at the next token or in the middle of a prompt evaluation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
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
    from llmos.picker.embedded import EngineChoice

# Loaded engines, shared by every provider object of the process: (path, n_ctx, gpu_layers, threads) -> Engine.
_ENGINES: dict[tuple[str, int, int, int], Engine] = {}
_LOAD_LOCK = threading.Lock()
# A plan that found no model is looked at again after this long (a download may have finished meanwhile);
# one that found a file holds for the process, which keeps that model loaded.
RECHECK_MISSING_S = 10.0


def configured_model(config: ProviderConfig, tier: str = "default") -> str | None:
    return config.model_for(tier) or config.model


def size_engine(config: ProviderConfig, picker_config: Any = None, model: str | None = None) -> EngineChoice:
    """The picker's model, n_ctx, GPU layers and threads for the engine (llmos/picker/embedded.py), with
    what the provider's config pins kept: ``model`` (or providers.NAME.model) names the file, ``n_ctx``,
    ``threads`` and ``gpu_layers`` win over the picker's. ``picker_config``: the whole configuration, whose
    picker section (vram_limit_mib, kv_cache_type, reserve_mib) applies."""
    from llmos.models import engine_choice

    choice = engine_choice(picker_config, model=model or configured_model(config), n_ctx=config.n_ctx,
                           threads=config.threads)
    if config.gpu_layers is not None:
        choice = choice.with_gpu_layers(config.gpu_layers)
    if choice.gpu_layers and not binding_offloads():
        choice = choice.with_gpu_layers(0)  # a CPU-only build: the banner must not promise the GPU
    return choice


def binding_offloads() -> bool:
    from llmos.engine.backend import EngineError
    from llmos.engine.cyllama_backend import gpu_offload

    try:
        return gpu_offload()
    except EngineError:  # no binding at all: loading will say so
        return True


def not_installed(provider: str, choice: EngineChoice, pin: str | None) -> str:
    """Why the engine has no model, with the command that gets one."""
    from llmos.paths import display

    if pin is None:
        fetch = f"`llmos models pull {choice.entry.name}`" if choice.entry else "`llmos models pull NAME`"
        return f"no local model is installed: run {fetch} (or set providers.{provider}.model to a .gguf file)"
    if choice.entry is not None:
        return f"{choice.entry.name} is not downloaded: run `llmos models pull {choice.entry.name}`"
    return (f"no model file at {display(_as_written(pin))}: run `llmos models pull NAME` (or set "
            f"providers.{provider}.model to a .gguf file)")


def _as_written(name: str) -> Path:
    """Where a configured name points: a path as written, else a file of that name in the models folder."""
    from llmos import paths

    given = Path(name).expanduser()
    if given.is_absolute() or name.startswith((".", "~")) or "/" in name:
        return given
    return paths.models_dir() / (name if name.endswith(".gguf") else f"{name}.gguf")


def load_engine(choice: EngineChoice) -> Engine:
    """The process's engine for this file and sizing, loading it the first time."""
    from llmos import paths
    from llmos.engine.backend import LoadOptions
    from llmos.engine.engine import Engine
    from llmos.engine.prefix_cache import FilePrefixStore

    assert choice.path is not None
    key = (str(choice.path.resolve()), choice.n_ctx, choice.gpu_layers, choice.threads)
    with _LOAD_LOCK:
        if key not in _ENGINES:
            options = LoadOptions(choice.path, choice.n_ctx, choice.gpu_layers, choice.threads)
            _ENGINES[key] = Engine.load(options, FilePrefixStore(paths.engine_cache_dir()))
        return _ENGINES[key]


class EmbeddedProvider(Provider):
    def __init__(self, name: str, config: ProviderConfig):
        super().__init__(name, config)
        self.picker_config: Any = None  # the whole configuration, set by the router: its picker section
        self._plans: dict[str | None, tuple[EngineChoice, float]] = {}  # pinned model (None: none) -> plan

    def plan(self, model: str | None = None) -> EngineChoice:
        """What the engine runs for ``model`` (None: the configured one, else the picker's): one plan per
        process, so budgeting, the banner and the loaded engine agree on n_ctx."""
        pin = model or configured_model(self.config)
        known = self._plans.get(pin)
        now = time.monotonic()
        if known is None or (known[0].path is None and now - known[1] > RECHECK_MISSING_S):
            known = (size_engine(self.config, self.picker_config, pin), now)
            self._plans[pin] = known
        return known[0]

    def planned(self, model: str | None = None) -> EngineChoice | None:
        """The plan already made for ``model``, without looking at the disk."""
        known = self._plans.get(model or configured_model(self.config))
        return known[0] if known else None

    def _pin_for(self, model: str | None) -> str | None:
        """The plan a requested model belongs to: the router asks for a plan's model by its name."""
        for pin, (choice, _) in self._plans.items():
            if model is not None and (model == choice.model or model == str(choice.path)):
                return pin
        return model or configured_model(self.config)

    def missing_setup(self, model: str | None = None) -> str | None:
        choice = self.plan(model)
        return None if choice.path is not None else not_installed(self.name, choice,
                                                                  model or configured_model(self.config))

    async def list_models(self) -> list[str]:
        choice = await asyncio.to_thread(self.plan)
        return [choice.model] if choice.model and choice.path is not None else []

    async def chat(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        from llmos.llm.messages import new_call_id
        from llmos.engine import chat as engine_chat
        from llmos.engine.engine import Generation

        engine = await self._engine(request.model)
        yield TextDelta("")  # a sign of life: loading is over, the prompt is read next
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
                         request.temperature or 0.0, stable_prefix=plan.stable_prefix, lazy_grammar=plan.lazy_grammar)
        reader = engine_chat.Reader(plan, new_call_id)
        shown = ""
        async for piece in self._pieces(engine, job):
            if piece is None:  # a chunk of the prompt was read: deadlines count silence, not the whole read
                yield TextDelta("")
                continue
            visible = reader.feed(piece)
            shown += visible
            # A tool call's tokens show nothing: an empty delta still says the engine is writing.
            yield TextDelta(visible if request.stream else "")
        text, calls = reader.finish()
        if reader.raw is not None:
            engine.remember(engine_chat.written_key(text, calls), job.output)
        if not request.stream and text:
            yield TextDelta(text)
        elif request.stream and text.startswith(shown) and len(text) > len(shown):
            yield TextDelta(text[len(shown):])  # a native answer is known only at the end
        for call in calls:
            yield ToolCallEvent(call)
        stats = job.stats
        log.debug("engine: %d prompt tokens, %d reused%s, %d evaluated, %d written in %.2f s", stats.prompt_tokens,
                  stats.reused_tokens, f" (restored from {stats.restored_from})" if stats.restored_from else "",
                  stats.evaluated_tokens, stats.output_tokens, stats.seconds)
        finish = "tool_calls" if calls else job.stats.finish_reason
        yield Done(Usage(job.stats.prompt_tokens, job.stats.output_tokens), finish)

    async def _engine(self, model: str | None) -> Engine:
        from llmos.engine.backend import EngineError

        pin = self._pin_for(model)
        choice = await asyncio.to_thread(self.plan, pin)
        if choice.path is None:
            problem = not_installed(self.name, choice, pin)
            raise ProviderError(self.name, ErrorKind.NOT_SET_UP, problem, transient=False)
        try:
            return await asyncio.to_thread(load_engine, choice)
        except EngineError as exc:
            raise ProviderError(self.name, ErrorKind.UNAVAILABLE, str(exc), transient=False) from exc

    async def _pieces(self, engine: Engine, job: Any) -> AsyncIterator[str | None]:
        """The engine's pieces, generated in a worker thread (None: a chunk of the prompt was read); leaving
        early cancels the generation."""
        from llmos.engine.backend import EngineError

        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

        def put(kind: str, value: Any) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is listening any more
                loop.call_soon_threadsafe(queue.put_nowait, (kind, value))

        job.on_progress = lambda _done: put("read", None)

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
                if kind in ("piece", "read"):
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
