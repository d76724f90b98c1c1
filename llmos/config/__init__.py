"""Layered configuration: defaults → /etc/llm-os → ~/.config/llm-os → environment → flags."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from llmos import paths
from llmos.config.defaults import default_config_text, default_layer
from llmos.config.layers import Layer, env_layer, read_yaml_layer, set_dotted
from llmos.config.model import Config, Origin, ProviderConfig, RouterConfig
from llmos.config.schema import PROVIDER_TYPES, check
from llmos.errors import ConfigError

__all__ = ["Config", "Origin", "ProviderConfig", "RouterConfig", "load_config", "default_config_text"]

# A provider named after its kind needs no `type:` (the integration guide writes `claude:` and `openai:`).
_TYPE_BY_NAME = {"claude": "anthropic", "anthropic": "anthropic", "openai": "openai", "ollama": "ollama"}


def load_config(flags: dict[str, Any] | None = None, environ: dict[str, str] | None = None) -> Config:
    """Merge every layer; raise ConfigError naming file, line and key for anything malformed."""
    layers = [default_layer()]
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
    overridden: dict[str, list[Origin]] = {}
    warnings: list[str] = []
    for layer in layers:
        errors: list[str] = []
        for problem in check(layer.data):
            written = layer.renamed.get(problem.path)
            if written == layer.variables.get(problem.path):
                written = None  # a variable: _where names it
            key = f"{written} (= {problem.path})" if written else problem.path
            text = f"{_where(layer, problem.path)}{key}: {problem.message}"
            (errors if problem.fatal else warnings).append(text)
        if errors:
            raise ConfigError("invalid configuration:\n  " + "\n  ".join(errors))
        warnings += layer.warnings
        _merge(data, layer.data, _Merging(layer, origins, overridden), "")

    config = Config(data, origins, files, warnings, overridden)
    _check_providers(config)
    _check_files(config)
    return config


def _where(layer: Layer, dotted: str) -> str:
    line = layer.lines.get(dotted)
    if layer.name == "env":
        var = layer.variables.get(dotted)
        return f"environment ({var}): " if var else "environment: "
    if layer.name == "flag":
        return "command line: "
    return f"{layer.source}:{line}: " if line else f"{layer.source}: "


class _Merging:
    """One layer being merged: where its values came from, and the origins they replace."""

    def __init__(self, layer: Layer, origins: dict[str, Origin], overridden: dict[str, list[Origin]]):
        self.layer, self.origins, self.overridden = layer, origins, overridden

    def record(self, value: Any, dotted: str) -> None:
        if isinstance(value, dict) and value:
            for key, sub in value.items():
                self.record(sub, f"{dotted}.{key}")
            return
        layer = self.layer
        previous = self.origins.get(dotted)
        if previous is not None:
            self.overridden.setdefault(dotted, []).append(previous)
        self.origins[dotted] = Origin(layer.name, layer.source, layer.lines.get(dotted), layer.renamed.get(dotted))

    def forget_below(self, dotted: str) -> None:
        """Replacing a whole subtree: its old leaves are overridden too."""
        for old in [k for k in self.origins if k.startswith(dotted + ".")]:
            self.overridden.setdefault(old, []).append(self.origins.pop(old))


def _merge(into: dict[str, Any], new: dict[str, Any], merging: _Merging, prefix: str) -> None:
    for key, value in new.items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value, merging, dotted)
            continue
        into[key] = copy.deepcopy(value)
        merging.forget_below(dotted)
        merging.record(value, dotted)


def _check_providers(config: Config) -> None:
    """Checks that need the merged view: every provider has a type, the chain names real providers."""
    providers = config.data.get("providers") or {}
    for name, p in providers.items():
        if "type" not in p and name in _TYPE_BY_NAME:
            p["type"] = _TYPE_BY_NAME[name]
        if "type" not in p:
            origin = config.origins.get(next((k for k in config.origins if k.startswith(f"providers.{name}.")), ""))
            where = f"{origin.source}:{origin.line}: " if origin and origin.line else ""
            raise ConfigError(f"{where}providers.{name}: missing 'type' (one of {', '.join(PROVIDER_TYPES)})")
        if p["type"] in ("openai-compatible",) and not p.get("base_url"):
            raise ConfigError(f"providers.{name}: an openai-compatible provider needs a base_url")
    for name in config.router.fallback_chain:
        if name not in providers:
            config.warnings.append(f"router.fallback_chain: no provider named {name!r} is configured")
    for key in ("router.default_provider", "router.fallback_provider"):
        name = config.get(key)
        if name and name not in providers:
            known = ", ".join(providers) or "none"
            origin = config.origins.get(key)
            where = f"{origin.source}:{origin.line}: {origin.written_as or key}: " if origin and origin.line else ""
            raise ConfigError(f"{where}unknown provider {name!r} (configured: {known})")


def _check_files(config: Config) -> None:
    """Paths the config names must be what they claim: a file, not a folder."""
    file = config.get("mcp_config_file")
    if file and Path(str(file)).expanduser().is_dir():
        origin = config.origins.get("mcp_config_file")
        where = f"{origin.source}:{origin.line}: " if origin and origin.line else ""
        raise ConfigError(f"{where}mcp_config_file: {file} is a directory; name a JSON file holding "
                          '{"mcpServers": {…}}')
