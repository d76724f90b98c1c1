"""Reading one configuration layer: a YAML file (with the line of every key) or the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from llmos.errors import ConfigError

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class Layer:
    name: str  # "default", "system", "user", "env", "flag"
    data: dict[str, Any]
    source: str = ""  # file path or variable names, for messages
    lines: dict[str, int] = field(default_factory=dict)  # dotted key -> line in source


def read_yaml_layer(name: str, path: Path) -> Layer | None:
    """The layer in ``path``, or None when the file does not exist. Bad YAML raises ConfigError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from exc
    return parse_yaml_layer(name, text, str(path))


def parse_yaml_layer(name: str, text: str, source: str) -> Layer:
    try:
        data = yaml.load(text, Loader=_Loader)
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: invalid YAML: {problem}") from exc
    if data is None:
        return Layer(name, {}, source)
    if not isinstance(data, dict):
        raise ConfigError(f"{source}:1: the top level must be a mapping of sections (providers:, router:, …)")
    lines: dict[str, int] = {}
    _collect_lines(node, "", lines)
    return Layer(name, data, source, lines)


def _collect_lines(node: yaml.Node, prefix: str, out: dict[str, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            path = f"{prefix}.{key_node.value}" if prefix else str(key_node.value)
            out[path] = key_node.start_mark.line + 1
            _collect_lines(value_node, path, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out[f"{prefix}[{i}]"] = item.start_mark.line + 1
            _collect_lines(item, f"{prefix}[{i}]", out)


ENV_PREFIX = "LLMOS_"
# Variables with a meaning of their own rather than the LLMOS_SECTION__KEY pattern.
_ENV_SHORTCUTS = {
    "OLLAMA_HOST": "providers.ollama.base_url",
    "LLMOS_PROVIDER": "router.default_provider",
    "LLMOS_MODEL": "router.model",
}
_ENV_IGNORED = {"LLMOS_DEBUG"}  # read directly by the CLI, not configuration


def env_layer(environ: dict[str, str] | None = None) -> Layer:
    """``LLMOS_ROUTER__LOCAL_FIRST=false`` sets router.local_first; values are read as YAML scalars."""
    environ = dict(os.environ if environ is None else environ)
    data: dict[str, Any] = {}
    names: list[str] = []
    for var, value in sorted(environ.items()):
        if var in _ENV_SHORTCUTS:
            dotted = _ENV_SHORTCUTS[var]
            parsed: Any = _ollama_host_url(value) if var == "OLLAMA_HOST" else value
        elif var.startswith(ENV_PREFIX) and "__" in var and var not in _ENV_IGNORED:
            dotted = ".".join(part.lower() for part in var[len(ENV_PREFIX):].split("__"))
            parsed = _scalar(var, value)
        else:
            continue
        set_dotted(data, dotted, parsed)
        names.append(var)
    return Layer("env", data, ", ".join(names))


def _scalar(var: str, value: str) -> Any:
    try:
        return yaml.load(value, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"environment variable {var}: cannot read {value!r} as a value") from exc


def _ollama_host_url(value: str) -> str:
    """OLLAMA_HOST may be ``host:port`` or ``0.0.0.0``; Ollama's own client accepts both, so do we."""
    if "://" in value:
        return value
    host = value or "127.0.0.1"
    if host.startswith("0.0.0.0"):
        host = "127.0.0.1" + host[len("0.0.0.0"):]
    return f"http://{host}" if ":" in host else f"http://{host}:11434"


def set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    for part in parents:
        data = data.setdefault(part, {})
    data[leaf] = value
