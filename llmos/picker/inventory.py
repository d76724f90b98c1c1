"""What Ollama has: installed models (/api/tags + /api/show, cached per digest) and loaded ones (/api/ps).

``survey`` gathers everything the picker needs in one round: the machine probe runs in a thread while the
Ollama calls are in flight. With the metadata cache warm it makes two small HTTP requests.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmos import json_cache
from llmos.errors import ErrorKind, ProviderError
from llmos.picker.catalog import CATALOG, lookup
from llmos.picker.choose import Choice, Fit, LoadedModel, Settings, assess, choose
from llmos.picker.detect import Machine, Probes, detect
from llmos.picker.estimate import MetadataError, ModelSpec, spec_from_model_info

if TYPE_CHECKING:
    import ollama

    from llmos.config import Config

CACHE_VERSION = 1
TIMEOUT_S = 5.0  # at start-up a dead Ollama must not hold the prompt back
CONNECT_TIMEOUT_S = 1.0
PULL_READ_TIMEOUT_S = 600.0
_KEPT_KEYS = ("block_count", "context_length", "embedding_length", "vocab_size", "attention.head_count",
              "attention.head_count_kv", "attention.key_length", "attention.value_length",
              "attention.sliding_window")


def cache_path() -> Path:
    """``$XDG_CACHE_HOME/llm-os/models.json``: safe to delete, rebuilt from /api/show."""
    from llmos import paths

    return paths.cache_dir() / "models.json"


class MetadataCache:
    """/api/show answers keyed by model digest: a digest never changes meaning, so entries never go stale."""

    def __init__(self, path: Path | None = None):
        self.path = path or cache_path()
        self.entries: dict[str, dict[str, Any]] = {}
        self.dirty = False
        self.entries = json_cache.load(self.path, CACHE_VERSION, "models")  # missing or damaged: empty

    def get(self, digest: str) -> dict[str, Any] | None:
        return self.entries.get(digest)

    def put(self, digest: str, entry: dict[str, Any]) -> None:
        self.entries[digest] = entry
        self.dirty = True

    def save(self, keep: set[str]) -> None:
        """Write atomically, dropping digests no longer installed."""
        stale = set(self.entries) - keep
        if not self.dirty and not stale:
            return
        for digest in stale:
            del self.entries[digest]
        json_cache.save(self.path, CACHE_VERSION, "models", self.entries)
        self.dirty = False


def entry_from_show(show: Any) -> dict[str, Any]:
    """Keep the /api/show fields the estimate reads (the full answer carries the license and template)."""
    info = dict(show.modelinfo or {})
    arch = info.get("general.architecture", "")
    kept = {k: info[k] for k in ("general.architecture", "general.parameter_count") if k in info}
    kept.update({f"{arch}.{k}": info[f"{arch}.{k}"] for k in _KEPT_KEYS if f"{arch}.{k}" in info})
    quant = show.details.quantization_level if show.details else ""
    return {"model_info": kept, "capabilities": list(show.capabilities or ["completion"]), "quant": quant or ""}


@dataclass
class Survey:
    machine: Machine
    installed: list[ModelSpec]
    loaded: list[LoadedModel]
    settings: Settings
    ollama_url: str | None
    ollama_error: str | None = None
    notes: list[str] = field(default_factory=list)
    pins: dict[str, tuple[str, str]] = field(default_factory=dict)  # tier -> (model, the key that chose it)

    def choose(self, tier: str = "default", *, tools: bool = False) -> Choice:
        """The choice for a turn. A model the person chose (picker.model, then router.model, then the tier's
        providers.<ollama>.models entry when set outside the built-in defaults) is kept, with its fit."""
        settings = self.settings
        if not settings.model and tier in self.pins:
            model, key = self.pins[tier]
            settings = replace(settings, model=model, model_key=key)
        choice = choose(self.installed, self.machine, tier=tier, tools=tools, settings=settings,
                        loaded=self.loaded, catalog=CATALOG)
        if self.ollama_error and not self.installed:
            return Choice(choice.model, choice.num_ctx, 0, 0, 0, choice.free_bytes, "none",
                          f"Ollama is not reachable at {self.ollama_url}: {self.ollama_error}",
                          choice.warnings, choice.pinned)
        return choice

    def spec_for(self, name: str) -> ModelSpec | None:
        """An installed model by name (``llama3.2`` also finds ``llama3.2:latest``), else the catalog's."""
        known = lookup(name)
        for candidate in (name, f"{name}:latest", known.name if known else ""):
            found = next((m for m in self.installed if m.name == candidate), None)
            if found:
                return found
        return known

    def fits(self, *, tools: bool = True) -> list[Fit]:
        """Installed models, then catalog models not installed, each at the context the picker would use."""
        names = {m.name for m in self.installed}
        out = [assess(m, self.machine, self.settings, loaded=self.loaded, tools=tools) for m in self.installed]
        out += [assess(m, self.machine, self.settings, installed=False, tools=tools)
                for m in CATALOG.values() if m.name not in names]
        return out

    def recommend(self) -> list[tuple[str, Choice, bool]]:
        """What the picker would choose per tier if every catalog model were installed: (tier, choice,
        already installed)."""
        pool = {**{m.name: m for m in CATALOG.values()}, **{m.name: m for m in self.installed}}
        names = {m.name for m in self.installed}
        settings = replace(self.settings, model=None, warnings=())
        out = []
        for tier, tools in (("default", True), ("fast", True), ("reasoning", False)):
            choice = choose(pool.values(), self.machine, tier=tier, tools=tools, settings=settings,
                            loaded=self.loaded)
            out.append((tier, choice, choice.model in names))
        return out

    def to_json(self) -> dict[str, Any]:
        return {"machine": self.machine.to_json(), "ollama_url": self.ollama_url, "ollama_error": self.ollama_error,
                "installed": [m.name for m in self.installed],
                "loaded": [{"model": m.name, "size_bytes": m.size_bytes, "vram_bytes": m.vram_bytes,
                            "context_length": m.context_length} for m in self.loaded],
                "notes": self.notes}


def explicit_models(config: Config) -> dict[str, tuple[str, str]]:
    """Per tier, a model the person chose and the key that says so: router.model (--model, LLMOS_MODEL), else
    providers.<ollama>.models.<tier> when it was set outside the built-in defaults."""
    from llmos.picker.choose import TIERS

    if config.router.model:
        return {tier: (config.router.model, "router.model") for tier in TIERS}
    provider = next((p for p in config.providers().values() if p.type == "ollama" and p.enabled), None)
    pins = {}
    for tier in TIERS if provider else ():
        key = f"providers.{provider.name}.models.{tier}"  # type: ignore[union-attr]
        origin, value = config.origins.get(key), config.get(key)
        if value and origin is not None and origin.layer != "default":
            pins[tier] = (str(value), key)
    return pins


def ollama_client(config: Config, read_timeout_s: float = TIMEOUT_S
                  ) -> tuple[ollama.AsyncClient | None, str | None, list[str]]:
    """A client for the first enabled Ollama provider (the SDK is imported here, not at start-up)."""
    provider = next((p for p in config.providers().values() if p.type == "ollama" and p.enabled), None)
    if provider is None:
        return None, None, ["no enabled Ollama provider is configured"]
    import httpx
    import ollama

    host = provider.base_url or os.environ.get("OLLAMA_HOST") or ""
    # httpx builds a TLS context with the CA bundle for every client (~18 ms, most of the picker's start-up
    # cost); a plain-http Ollama never uses it, so skip it there. https keeps full verification.
    tls = {} if host.lower().startswith("https://") else {"verify": False}
    client = ollama.AsyncClient(host=provider.base_url, headers=provider.headers or None,
                                timeout=httpx.Timeout(read_timeout_s, connect=CONNECT_TIMEOUT_S), **tls)
    url = str(client._client.base_url).rstrip("/")  # noqa: SLF001 - the SDK's resolution of host/OLLAMA_HOST
    notes = []
    if not any(h in url for h in ("://127.", "://localhost", "://[::1]")):
        notes.append(f"Ollama runs at {url}, not on this machine: GPU figures here describe this machine; "
                     "set picker.vram_limit_mib to plan for the server")
    return client, url, notes


async def _installed(client: ollama.AsyncClient, cache: MetadataCache, notes: list[str]) -> list[ModelSpec]:
    listing = await client.list()
    models = [m for m in listing.models if m.model and m.digest]
    missing = [m for m in models if cache.get(m.digest or "") is None]
    shows = await asyncio.gather(*(client.show(m.model or "") for m in missing), return_exceptions=True)
    for m, show in zip(missing, shows, strict=True):
        if isinstance(show, BaseException):
            notes.append(f"{m.model}: /api/show failed ({show})")
        else:
            cache.put(m.digest or "", entry_from_show(show))
    specs = []
    for m in models:
        entry = cache.get(m.digest or "")
        if entry is None:
            continue
        try:
            specs.append(spec_from_model_info(m.model or "", int(m.size or 0), entry["model_info"],
                                              entry.get("capabilities"), entry.get("quant", "")))
        except (MetadataError, KeyError, TypeError, ValueError) as exc:
            notes.append(f"{m.model}: cannot estimate memory ({exc})")
    cache.save({m.digest or "" for m in models})
    return specs


async def _loaded(client: ollama.AsyncClient) -> list[LoadedModel]:
    running = await client.ps()
    return [LoadedModel(m.model or m.name or "", m.digest or "", int(m.size or 0), int(m.size_vram or 0),
                        int(m.context_length or 0)) for m in running.models]


async def survey(config: Config, *, vram_mib: int | None = None, probes: Probes | None = None,
                 cache: MetadataCache | None = None) -> Survey:
    """Probe the machine and ask Ollama what is installed and loaded, concurrently."""
    settings = Settings.from_config(config)
    machine_job = asyncio.get_running_loop().run_in_executor(None, detect, probes)
    client, url, notes = ollama_client(config)
    installed: list[ModelSpec] = []
    loaded: list[LoadedModel] = []
    error = None
    if client is not None:
        import httpx
        import ollama

        try:
            installed, loaded = await asyncio.gather(_installed(client, cache or MetadataCache(), notes),
                                                     _loaded(client))
        # Unreachable, timed out, or not an Ollama server (ValueError: an answer of the wrong shape): there
        # is nothing to pick from; anything else is a bug and surfaces as one.
        except (ollama.ResponseError, httpx.HTTPError, ConnectionError, OSError, ValueError) as exc:
            error = _describe(exc)
        finally:
            await client.close()
    machine = await machine_job
    if vram_mib is not None:
        machine = machine.with_card(vram_mib)
        loaded = []  # a what-if card holds nothing yet
    return Survey(machine, installed, loaded, settings, url, error, notes, explicit_models(config))


def _describe(exc: Exception) -> str:
    import httpx

    if isinstance(exc, (ConnectionError, httpx.ConnectError)):  # the SDK words a refusal as a paragraph
        return "connection refused (is `ollama serve` running?)"
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within {TIMEOUT_S:g}s"
    text = str(getattr(exc, "error", "") or exc)
    return (text.splitlines()[0] if text else type(exc).__name__)[:200]


def survey_sync(config: Config, **kwargs: Any) -> Survey:
    return asyncio.run(survey(config, **kwargs))


async def pull(config: Config, model: str, progress: Callable[[Any], Awaitable[None] | None]) -> None:
    """Pull through Ollama, reporting each NDJSON progress record; errors become ProviderError."""
    import ollama

    # Verifying the digest of a multi-gigabyte download can keep the stream silent for a while.
    client, url, _ = ollama_client(config, read_timeout_s=PULL_READ_TIMEOUT_S)
    if client is None:
        raise ProviderError("ollama", ErrorKind.UNAVAILABLE, "no enabled Ollama provider is configured")
    try:
        async for record in await client.pull(model, stream=True):
            result = progress(record)
            if asyncio.iscoroutine(result):
                await result
    except ollama.ResponseError as exc:
        raise ProviderError("ollama", ErrorKind.BAD_REQUEST, f"pull {model}: {exc.error}") from exc
    except (ConnectionError, OSError) as exc:
        raise ProviderError("ollama", ErrorKind.UNAVAILABLE, f"{url}: {exc}") from exc
    except Exception as exc:
        import httpx

        if isinstance(exc, httpx.HTTPError):
            raise ProviderError("ollama", ErrorKind.UNAVAILABLE, f"{url}: {exc}") from exc
        raise
    finally:
        await client.close()
