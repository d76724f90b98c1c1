"""Layered configuration: defaults → /etc/llm-os → ~/.config/llm-os → environment → flags."""

from __future__ import annotations

import copy
from importlib import resources
from typing import Any

from llmos import paths
from llmos.config.layers import Layer, env_layer, parse_yaml_layer, read_yaml_layer, set_dotted
from llmos.config.model import Config, Origin, ProviderConfig, RouterConfig
from llmos.config.schema import PROVIDER_TYPES, check
from llmos.errors import ConfigError

__all__ = ["Config", "Origin", "ProviderConfig", "RouterConfig", "load_config", "default_config_text"]


def default_config_text() -> str:
    return resources.files("llmos.data").joinpath("llm-config.yaml").read_text(encoding="utf-8")


def load_config(flags: dict[str, Any] | None = None, environ: dict[str, str] | None = None) -> Config:
    """Merge every layer; raise ConfigError naming file, line and key for anything malformed."""
    layers = [parse_yaml_layer("default", default_config_text(), "built-in defaults")]
    files = []
    for name, path in (("system", paths.system_config_file()), ("user", paths.user_config_file())):
        layer = read_yaml_layer(name, path)
        files.append((name, str(path), layer is not None))
        if layer is not None:
            layers.append(layer)
    layers.append(env_layer(environ))
    if flags:
        flag_data: dict[str, Any] = {}
        for dotted, value in flags.items():
            if value is not None:
                set_dotted(flag_data, dotted, value)
        layers.append(Layer("flag", flag_data, "command line"))

    data: dict[str, Any] = {}
    origins: dict[str, Origin] = {}
    warnings: list[str] = []
    for layer in layers:
        errors = []
        for problem in check(layer.data):
            text = f"{_where(layer, problem.path)}{problem.path}: {problem.message}"
            (errors if problem.fatal else warnings).append(text)
        if errors:
            raise ConfigError("invalid configuration:\n  " + "\n  ".join(errors))
        _merge(data, layer.data, layer, origins, "")

    config = Config(data, origins, files, warnings)
    _check_providers(config)
    return config


def _where(layer: Layer, dotted: str) -> str:
    line = layer.lines.get(dotted)
    if layer.name == "env":
        return "environment: "
    if layer.name == "flag":
        return "command line: "
    return f"{layer.source}:{line}: " if line else f"{layer.source}: "


def _merge(into: dict[str, Any], new: dict[str, Any], layer: Layer, origins: dict[str, Origin], prefix: str) -> None:
    for key, value in new.items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value, layer, origins, dotted)
            continue
        into[key] = copy.deepcopy(value)
        # Replacing a whole subtree: forget the origins below it, then record the new leaves.
        for old in [k for k in origins if k.startswith(dotted + ".")]:
            del origins[old]
        _record(value, dotted, layer, origins)


def _record(value: Any, dotted: str, layer: Layer, origins: dict[str, Origin]) -> None:
    if isinstance(value, dict) and value:
        for key, sub in value.items():
            _record(sub, f"{dotted}.{key}", layer, origins)
    else:
        origins[dotted] = Origin(layer.name, layer.source, layer.lines.get(dotted))


def _check_providers(config: Config) -> None:
    """Checks that need the merged view: every provider has a type, the chain names real providers."""
    providers = config.data.get("providers") or {}
    for name, p in providers.items():
        if "type" not in p:
            origin = config.origins.get(next((k for k in config.origins if k.startswith(f"providers.{name}.")), ""))
            where = f"{origin.source}:{origin.line}: " if origin and origin.line else ""
            raise ConfigError(f"{where}providers.{name}: missing 'type' (one of {', '.join(PROVIDER_TYPES)})")
        if p["type"] in ("openai-compatible",) and not p.get("base_url"):
            raise ConfigError(f"providers.{name}: an openai-compatible provider needs a base_url")
    for name in config.router.fallback_chain:
        if name not in providers:
            config.warnings.append(f"router.fallback_chain: no provider named {name!r} is configured")
    default = config.router.default_provider
    if default and default not in providers:
        known = ", ".join(providers) or "none"
        raise ConfigError(f"unknown provider {default!r} (configured: {known})")
