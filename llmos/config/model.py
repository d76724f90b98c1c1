"""The merged configuration: the values, the origin of each, and typed views the code uses."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Origin:
    layer: str  # default, system, user, env, flag
    source: str = ""  # file or variable
    line: int | None = None

    def __str__(self) -> str:
        if self.layer in ("default", "flag"):
            return self.layer
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{self.layer} ({where})" if where else self.layer


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
        return self.models.get(tier) or self.models.get("default") or next(iter(self.models.values()), None)


@dataclass(frozen=True)
class RouterConfig:
    local_first: bool = True
    cost_optimization: bool = True
    fallback_chain: tuple[str, ...] = ()
    max_retries: int = 2
    backoff_base_s: float = 0.5
    health_ttl_s: float = 30.0
    connect_timeout_s: float = 3.0
    default_provider: str | None = None
    model: str | None = None


@dataclass
class Config:
    data: dict[str, Any]
    origins: dict[str, Origin]  # dotted key of every leaf -> where its value came from
    files: list[tuple[str, str, bool]]  # (layer, path, exists) in precedence order
    warnings: list[str] = field(default_factory=list)

    def get(self, dotted: str, default: Any = None) -> Any:
        node: Any = self.data
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    @property
    def router(self) -> RouterConfig:
        r = self.data.get("router", {})
        return RouterConfig(
            local_first=r.get("local_first", True),
            cost_optimization=r.get("cost_optimization", True),
            fallback_chain=tuple(r.get("fallback_chain") or ()),
            max_retries=r.get("max_retries", 2),
            backoff_base_s=float(r.get("backoff_base_s", 0.5)),
            health_ttl_s=float(r.get("health_ttl_s", 30)),
            connect_timeout_s=float(r.get("connect_timeout_s", 3)),
            default_provider=r.get("default_provider"),
            model=r.get("model"),
        )

    def providers(self) -> dict[str, ProviderConfig]:
        """Every configured provider in file order, enabled or not."""
        connect = self.router.connect_timeout_s
        out = {}
        for name, p in (self.data.get("providers") or {}).items():
            fields = {k: v for k, v in p.items() if k in ProviderConfig.__dataclass_fields__}
            for key, default in (("timeout", 120), ("idle_timeout", 60), ("total_timeout", 600)):
                fields[key] = float(fields.get(key, default))
            out[name] = ProviderConfig(name=name, connect_timeout=connect, **fields)
        return out

    def pricing(self, model: str) -> tuple[float, float] | None:
        price = (self.data.get("pricing") or {}).get(model)
        return (float(price.get("input", 0)), float(price.get("output", 0))) if price else None
