"""The router: which provider and model answer a request, with retries, fallback and usage records."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, cast

from llmos.config import Config, ProviderConfig
from llmos.errors import ErrorKind, LlmosError, NoProviderAvailable, ProviderError, UsageError
from llmos.llm.classify import Task, classify
from llmos.llm.messages import (ChatRequest, ChatResult, Done, StreamEvent, TextDelta, ToolCall, ToolCallEvent,
                                Usage)
from llmos.llm.providers import create_provider
from llmos.redact import remember_config
from llmos.llm.providers.base import Provider, drain
from llmos.usage.store import UsageRecord, UsageStore

log = logging.getLogger(__name__)


class _MidStreamFailure(Exception):
    """A provider failed after text reached the user: falling back would repeat or contradict it."""

    def __init__(self, error: ProviderError):
        self.error = error


class IncompleteAnswer(ProviderError):
    """A provider failed after part of its answer was shown. The part is kept (``text``) and the turn is
    marked incomplete; it is never silently completed by another provider."""

    def __init__(self, error: ProviderError, text: str):
        detail = f"{error.detail}; the answer shown is incomplete" if error.detail else "the answer shown is incomplete"
        super().__init__(error.provider, error.kind, detail, transient=False)
        self.text = text


class Router:
    def __init__(self, config: Config, usage: UsageStore | None = None, *,
                 sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
                 clock: Callable[[], float] = time.monotonic):
        self.config = config
        self.usage = usage
        self._provider_configs = {n: p for n, p in config.providers().items() if p.enabled}
        self._providers: dict[str, Provider] = {}
        self._down_until: dict[str, float] = {}  # health cache: providers that just failed to connect
        self._survey: Any = None  # the model picker's view of this machine and Ollama, taken once
        self.choices: dict[tuple[str, bool], Any] = {}  # (tier, tools) -> the picker's Choice
        self._sleep = sleep
        self._clock = clock
        remember_config(config)  # every configured key is masked wherever llmos writes text

    def provider(self, name: str) -> Provider:
        if name not in self._provider_configs:
            known = ", ".join(self._provider_configs) or "none"
            raise UsageError(f"unknown or disabled provider {name!r} (enabled: {known})")
        if name not in self._providers:
            created = self._providers[name] = create_provider(name, self._provider_configs[name])
            if created.config.type == "embedded":
                cast(Any, created).picker_config = self.config  # its picker section sizes the engine
        return self._providers[name]

    def order(self, task: Task, provider: str | None = None) -> list[str]:
        """Providers to try, best first. A provider named on the command line (or by /provider) is the only
        one tried; a configured default provider is a preference: it goes first, then the fallback
        provider, then the fallback chain."""
        rc = self.config.router
        pin = provider or (rc.default_provider if rc.pinned else None)
        if pin:
            self.provider(pin)  # validates the name
            return [pin]
        chain = [n for n in rc.fallback_chain if n in self._provider_configs]
        chain += [n for n in self._provider_configs if n not in chain]
        if rc.local_first:
            cloud_first = task is Task.COMPLEX and not rc.cost_optimization
            chain.sort(key=lambda n: self._provider_configs[n].is_local == cloud_first)
        head = [n for n in (rc.default_provider, rc.fallback_provider) if n in self._provider_configs]
        head = list(dict.fromkeys(head))
        chain = head + [n for n in chain if n not in head]
        # Providers that failed to connect moments ago go last rather than delaying every request.
        now = self._clock()
        chain.sort(key=lambda n: self._down_until.get(n, 0) > now)
        return chain

    def _explain(self, text: str) -> None:
        """What the router decided: in the debug log, and shown dimmed with preferences.verbose_output."""
        log.debug(text)
        if self.config.router.verbose:
            from llmos.terminal import current

            current().notice(text)

    def first_route(self, text: str, provider: str | None = None) -> tuple[ProviderConfig | None, str]:
        """The provider and model the next request will most likely use (no network): for budgeting."""
        task = classify(text)
        for name in self.order(task, provider):
            config = self._provider_configs[name]
            if config.api_key_env and not config.api_key and config.type != "openai-compatible":
                continue
            if config.type == "embedded" and self.engine_plan(config, task.tier) is None:
                continue  # no model file: the engine cannot answer
            picked = self.picked(config, task.tier)
            return config, self.config.router.model or (picked.model if picked else None) or \
                config.model_for(task.tier) or ""
        return None, ""

    def warm(self, text: str, provider: str | None = None) -> None:
        """Create the adapter the next request will most likely use (its SDK import is the slow part)."""
        config, _model = self.first_route(text, provider)
        if config is not None:
            self.provider(config.name)

    def picked(self, config: ProviderConfig, tier: str) -> Any:
        """The picker's choice for a local Ollama provider and tier, once ``prepare`` has made it; for the
        embedded engine, its plan (llmos.picker.embedded.EngineChoice) once made."""
        if config.type == "embedded":
            return self.engine_plan(config, tier, look=False)
        if config.type != "ollama":
            return None
        choice = self.choices.get((tier, True)) or self.choices.get((tier, False))
        return choice if choice is not None and choice.model else None

    def context_window(self, config: ProviderConfig, tier: str = "default") -> int | None:
        """What the model will be given: for Ollama the num_ctx llmos sends (the picker's, else config)."""
        if config.type == "ollama":
            picked = self.picked(config, tier)
            return self._num_ctx(config, picked, picked.model if picked else None)
        if config.type == "embedded":  # the n_ctx the engine loads with: the picker's, or the config's
            plan = self.engine_plan(config, tier)
            return plan.n_ctx if plan is not None else config.n_ctx or config.context_window
        return config.context_window

    def engine_plan(self, config: ProviderConfig, tier: str = "default", look: bool = True) -> Any:
        """The embedded engine's model, n_ctx, GPU layers and threads (an EngineChoice) for ``tier``; None
        when no model is installed. ``look=False``: only a plan already made (no disk access)."""
        provider = cast(Any, self.provider(config.name))
        pin = self._engine_pin(config, tier)
        plan = provider.plan(pin) if look else provider.planned(pin)
        return plan if plan is not None and plan.path is not None else None

    def _engine_pin(self, config: ProviderConfig, tier: str) -> str | None:
        """The GGUF a person named (--model, providers.NAME.models/model); None: the picker chooses."""
        return self.config.router.model or config.model_for(tier) or config.model

    def _num_ctx(self, config: ProviderConfig, picked: Any, model: str | None) -> int:
        """A num_ctx the person set in their config wins; else the picker's for that model; else the default."""
        origin = self.config.origins.get(f"providers.{config.name}.num_ctx")
        if origin is not None and origin.layer != "default":
            return config.num_ctx
        return picked.num_ctx if picked is not None and picked.model == model else config.num_ctx

    async def prepare(self, text: str, provider: str | None = None, tools: bool = False,
                      tier: str | None = None) -> None:
        """Let the VRAM-aware picker choose model, num_ctx and GPU layers when Ollama or the embedded engine
        is to answer."""
        tier = tier or classify(text).tier
        config, _model = self.first_route(text, provider)
        if config is not None and config.type == "embedded":
            await asyncio.to_thread(self.engine_plan, config, tier)  # read the disk now, not mid-request
            return
        if config is None or config.type != "ollama" or (tier, tools) in self.choices:
            return
        try:
            if self._survey is None:
                from llmos.picker import survey

                self._survey = await survey(self.config)
            self.choices[(tier, tools)] = self._survey.choose(tier, tools=tools)
        except LlmosError:
            raise  # a bad picker setting: the person has to hear about it
        except Exception:  # the picker is advice: without it the configured model and num_ctx are used
            log.debug("model picker failed", exc_info=True)
            self.choices[(tier, tools)] = None

    async def chat(self, request: ChatRequest, *, text_for_routing: str = "", provider: str | None = None,
                   on_text: Callable[[str], None] | None = None,
                   on_fallback: Callable[[str, ProviderError], None] | None = None) -> ChatResult:
        """Answer ``request`` from the first provider that can; stream text to ``on_text`` as it arrives."""
        task = classify(text_for_routing or _last_user_text(request))
        failures: list[ProviderError] = []
        not_set_up: set[str] = set()
        names = self.order(task, provider)
        self._explain(f"router: {task.name.lower()} request ({task.tier} tier); trying {', '.join(names)}"
                      f"{_why(self.config.router, names, provider)}")
        for name in names:
            p = self.provider(name)
            problem = (cast(Any, p).missing_setup(self._engine_pin(p.config, task.tier))
                       if p.config.type == "embedded" else p.missing_setup())
            if problem:  # never tried: reported if nothing answers, not as a fallback
                failures.append(ProviderError(name, ErrorKind.NOT_SET_UP, problem, transient=False))
                not_set_up.add(name)
                self._explain(f"router: skipping {name}: {problem}")
                continue
            picked = self.picked(p.config, task.tier)
            try:
                model = self.config.router.model or request.model or (picked.model if picked else None) or \
                    await self._model_for(p, task)
            except ProviderError as exc:
                failures.append(exc)
                self._note_failure(exc)
                continue
            num_ctx = None
            if p.config.type == "embedded" and picked is not None:
                self._explain(f"router: {name} runs {picked.banner()}")
            if p.config.type == "ollama":  # always explicit: Ollama's own default silently truncates prompts
                num_ctx = request.num_ctx or self._num_ctx(p.config, picked, model)
            routed = replace(request, model=model, num_ctx=num_ctx)
            try:
                result = await self._with_retries(p, routed, on_text)
            except _MidStreamFailure as stop:
                raise stop.error from None
            except ProviderError as exc:
                failures.append(exc)
                self._note_failure(exc)
                if not exc.kind.try_next_provider:
                    raise
                self._explain(f"router: {name} failed ({exc.kind.value}); falling back")
                if on_fallback:
                    on_fallback(name, exc)
                continue
            result.fallback_from = [f.provider for f in failures if f.provider not in not_set_up]
            self._explain(f"router: answered by {name} ({model})")
            return result
        raise NoProviderAvailable(failures)

    async def _model_for(self, p: Provider, task: Task) -> str:
        model = p.config.model_for(task.tier)
        if model:
            return model
        models = await p.list_models()  # an openai-compatible server configured without model names
        if not models:
            raise ProviderError(p.name, ErrorKind.BAD_REQUEST, "serves no models")
        return models[0]

    async def _with_retries(self, p: Provider, request: ChatRequest,
                            on_text: Callable[[str], None] | None) -> ChatResult:
        rc = self.config.router
        attempt = 0
        while True:
            try:
                return await self._once(p, request, on_text)
            except ProviderError as exc:
                if not exc.transient or attempt >= rc.max_retries:
                    raise
                delay = exc.retry_after if exc.retry_after is not None else rc.backoff_base_s * 2 ** attempt
                delay = min(delay, 30.0) * random.uniform(0.8, 1.2)  # jitter spreads retries of parallel clients
                log.debug("retrying %s in %.2fs after %s", p.name, delay, exc)
                attempt += 1
                await self._sleep(delay)

    async def _once(self, p: Provider, request: ChatRequest, on_text: Callable[[str], None] | None) -> ChatResult:
        start = time.perf_counter()
        ttft: float | None = None
        parts: list[str] = []
        calls: list[ToolCall] = []
        done: Done | None = None

        def take(event: StreamEvent) -> None:
            nonlocal ttft, done
            if isinstance(event, TextDelta):
                if not event.text:  # a sign of life (e.g. a reasoning model thinking), nothing to show
                    return
                parts.append(event.text)
                if on_text:
                    on_text(event.text)
            elif isinstance(event, ToolCallEvent):
                calls.append(event.call)
            elif isinstance(event, Done):
                done = event
            ttft = time.perf_counter() - start if ttft is None else ttft

        try:
            await drain(p, request, take)
        except ProviderError as exc:
            log.debug("provider %s failed", p.name, exc_info=True)
            self._record(p.name, request.model, Usage(), time.perf_counter() - start, ttft, exc.kind.name)
            if parts:
                raise _MidStreamFailure(IncompleteAnswer(exc, "".join(parts))) from exc
            raise
        except asyncio.CancelledError:
            self._record(p.name, request.model, Usage(), time.perf_counter() - start, ttft, "CANCELLED")
            raise
        latency = time.perf_counter() - start
        usage = done.usage if done else Usage(estimated=True)
        self._record(p.name, request.model, usage, latency, ttft, None)
        self._down_until.pop(p.name, None)
        return ChatResult("".join(parts), calls, usage, p.name, request.model, latency, ttft,
                          done.finish_reason if done else "stop")

    def _record(self, provider: str, model: str, usage: Usage, latency: float, ttft: float | None,
                error: str | None) -> None:
        if self.usage is None:
            return
        try:
            self.usage.add(UsageRecord(provider, model, usage.input_tokens, usage.output_tokens, usage.estimated,
                                       latency, ttft, error is None, error))
        except Exception as exc:  # usage accounting must never break a request
            log.debug("could not record usage", exc_info=True)
            log.warning("could not record usage: %s", exc)

    def _note_failure(self, exc: ProviderError) -> None:
        if exc.kind is ErrorKind.UNAVAILABLE:
            self._down_until[exc.provider] = self._clock() + self.config.router.health_ttl_s

    async def aclose(self) -> None:
        for p in self._providers.values():
            await p.aclose()


def _why(rc: Any, names: list[str], provider: str | None) -> str:
    if provider or rc.pinned:
        return " (pinned by --provider or /provider: no fallback)"
    if names and names[0] in (rc.default_provider, rc.fallback_provider):
        role = "default provider" if names[0] == rc.default_provider else "fallback provider"
        return f" ({names[0]} is the {role}; the others follow if it fails)"
    return " (local providers first)" if rc.local_first else " (router.fallback_chain order)"


def _last_user_text(request: ChatRequest) -> str:
    return next((m.content for m in reversed(request.messages) if m.role == "user"), "")
