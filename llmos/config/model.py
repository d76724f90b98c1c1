"""The merged configuration: the values, the origin of each, and typed views the code uses.

Defaults live once, in the documented YAML (llmos/data/llm-config.yaml), which is always the first layer:
the typed views below read the merged data and restate no default of their own. The few dataclass
defaults of ``ProviderConfig`` serve code that builds one by hand (adapters in tests); a test keeps them
equal to the YAML's.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

REASONING_TIER = "reasoning"
_STRONGEST_TIERS = ("best", "complex", "smart")  # what people call the tier for hard requests


@dataclass(frozen=True)
class Origin:
    layer: str  # default, system, user, env, flag
    source: str = ""  # file or variable
    line: int | None = None
    written_as: str | None = None  # the key as the file wrote it, when llmos knows it by another name

    def __str__(self) -> str:
        if self.layer in ("default", "flag"):
            text = self.layer
        else:
            where = f"{self.source}:{self.line}" if self.line else self.source
            text = f"{self.layer} ({where})" if where else self.layer
        return f"{text} as {self.written_as}" if self.written_as else text


@dataclass(frozen=True)
class ProviderConfig:
    name: str
    type: str
    enabled: bool = True
    base_url: str | None = None
    api_key_env: str | None = None
    keep_alive: str | int = "5m"
    num_ctx: int = 4096
    context_window: int | None = None
    timeout: float = 120.0  # seconds to the first byte of an answer
    idle_timeout: float = 60.0  # longest silence between two parts of a streamed answer
    total_timeout: float = 600.0  # the whole answer
    connect_timeout: float = 3.0
    headers: dict[str, str] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)
    model: str | None = None  # embedded: one GGUF for every tier (``models`` entries win)
    threads: int | None = None  # embedded
    n_ctx: int | None = None  # embedded
    gpu_layers: int | None = None  # embedded

    @property
    def api_key(self) -> str | None:
        """Read at use time and never stored in the config tree, so it cannot be printed or logged."""
        return os.environ.get(self.api_key_env) if self.api_key_env else None

    @property
    def is_local(self) -> bool:
        if self.type in ("ollama", "embedded"):
            return True
        url = self.base_url or ""
        return any(h in url for h in ("://127.", "://localhost", "://[::1]"))

    def model_for(self, tier: str) -> str | None:
        """The model of ``tier``; any tier name the config uses works, and the reasoning tier falls back to
        a tier called best (or complex, smart) before the default."""
        if tier in self.models:
            return self.models[tier]
        if tier == REASONING_TIER:
            strongest = next((self.models[t] for t in _STRONGEST_TIERS if t in self.models), None)
            if strongest:
                return strongest
        return self.models.get("default") or next(iter(self.models.values()), None)


@dataclass(frozen=True)
class RouterConfig:
    local_first: bool
    cost_optimization: bool
    fallback_chain: tuple[str, ...]
    max_retries: int
    backoff_base_s: float
    health_ttl_s: float
    connect_timeout_s: float
    default_provider: str | None
    fallback_provider: str | None
    model: str | None
    pinned: bool  # the provider was chosen on the command line: no fallback
    verbose: bool  # preferences.verbose_output: say what the router decided, and why


@dataclass(frozen=True)
class ContextConfig:
    reserve_tokens: int
    max_tokens: int | None  # upper bound of the window budgeted for (the model's own may be smaller)
    keep_messages: int | None  # the most history messages kept


@dataclass(frozen=True)
class PerformanceConfig:
    streaming: bool
    timeout: float  # for providers that do not set their own
    concurrent_tools: int  # read-only calls of one turn run at most this many at once


@dataclass
class Config:
    data: dict[str, Any]
    origins: dict[str, Origin]  # dotted key of every leaf -> where its value came from
    files: list[tuple[str, str, bool]]  # (layer, path, exists) in precedence order
    warnings: list[str] = field(default_factory=list)
    overridden: dict[str, list[Origin]] = field(default_factory=dict)  # key -> earlier origins, oldest first

    def get(self, dotted: str, default: Any = None) -> Any:
        node: Any = self.data
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    def section(self, name: str) -> dict[str, Any]:
        value = self.data.get(name)
        return value if isinstance(value, dict) else {}

    @property
    def router(self) -> RouterConfig:
        r = self.section("router")
        origin = self.origins.get("router.default_provider")
        return RouterConfig(
            local_first=r["local_first"],
            cost_optimization=r["cost_optimization"],
            fallback_chain=tuple(r.get("fallback_chain") or ()),
            max_retries=r["max_retries"],
            backoff_base_s=float(r["backoff_base_s"]),
            health_ttl_s=float(r["health_ttl_s"]),
            connect_timeout_s=float(r["connect_timeout_s"]),
            default_provider=r.get("default_provider"),
            fallback_provider=r.get("fallback_provider"),
            model=r.get("model"),
            pinned=_pinned(origin),
            verbose=bool(self.get("preferences.verbose_output")),
        )

    @property
    def context(self) -> ContextConfig:
        c = self.section("context")
        return ContextConfig(c["reserve_tokens"], c.get("max_tokens"), c.get("keep_messages"))

    @property
    def performance(self) -> PerformanceConfig:
        p = self.section("performance")
        concurrent = p["concurrent_tools"]
        if isinstance(concurrent, bool):  # the older spelling: true = the documented default, false = one
            concurrent = _default_concurrency() if concurrent else 1
        return PerformanceConfig(bool(p["streaming"]), float(p["timeout"]), concurrent)

    def providers(self) -> dict[str, ProviderConfig]:
        """Every configured provider in file order, enabled or not. Keys a provider does not set come
        from performance.timeout, router.connect_timeout_s and the built-in provider of the same type."""
        common = {"timeout": self.performance.timeout, "connect_timeout": self.router.connect_timeout_s}
        configured = self.data.get("providers") or {}
        out = {}
        for name, p in configured.items():
            fields = {**common, **_type_defaults(p.get("type"))}
            fields.update({k: v for k, v in p.items() if k in ProviderConfig.__dataclass_fields__})
            for key in ("timeout", "idle_timeout", "total_timeout"):
                if key in fields:
                    fields[key] = float(fields[key])
            out[name] = ProviderConfig(name=name, **fields)
        return out

    def pricing(self, model: str) -> tuple[float, float] | None:
        price = (self.data.get("pricing") or {}).get(model)
        return (float(price.get("input", 0)), float(price.get("output", 0))) if price else None


def _pinned(origin: Origin | None) -> bool:
    """--provider (a flag) and LLMOS_PROVIDER pin one provider; a provider named in a file is a preference."""
    if origin is None:
        return False
    return origin.layer == "flag" or (origin.layer == "env" and origin.written_as == "LLMOS_PROVIDER")


_TYPE_KEYS = ("keep_alive", "num_ctx")  # settings of a provider type (how to drive an Ollama), not of a server


def _type_defaults(provider_type: str | None) -> dict[str, Any]:
    """keep_alive and num_ctx of the documented provider of this type, for providers the person added."""
    from llmos.config.defaults import documented

    for entry in (documented().get("providers") or {}).values():
        if entry.get("type") == provider_type:
            return {k: entry[k] for k in _TYPE_KEYS if k in entry}
    return {}


def _default_concurrency() -> int:
    from llmos.config.defaults import documented

    value = documented()["performance"]["concurrent_tools"]
    return value if isinstance(value, int) and not isinstance(value, bool) else 1
