"""Reading one configuration layer: a YAML file (with the line of every key) or the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmos.config import yaml_file
from llmos.config.aliases import translate
from llmos.errors import ConfigError


@dataclass
class Layer:
    name: str  # "default", "system", "user", "env", "flag"
    data: dict[str, Any]
    source: str = ""  # file path or variable names, for messages
    lines: dict[str, int] = field(default_factory=dict)  # dotted key -> line in source
    renamed: dict[str, str] = field(default_factory=dict)  # internal key -> the guide's key as written
    warnings: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)  # env layer: dotted key -> the variable that set it


def read_yaml_layer(name: str, path: Path) -> Layer | None:
    """The layer in ``path``, or None when the file does not exist. Bad YAML raises ConfigError."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a config file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from None
    return parse_yaml_layer(name, yaml_file.decode(raw, str(path)), str(path))


def parse_yaml_layer(name: str, text: str, source: str) -> Layer:
    data, lines = yaml_file.load(text, source)
    if data is None:
        return Layer(name, {}, source)
    if not isinstance(data, dict):
        raise ConfigError(f"{source}:1: the top level must be a mapping of sections (providers:, router:, …)")
    renamed, warnings = translate(data, lines)
    return Layer(name, data, source, lines, renamed, [f"{source}: {w}" for w in warnings])


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
    variables: dict[str, str] = {}
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
        variables[dotted] = var
    renamed, warnings = translate(data, {})
    # Variables with a meaning of their own are shown as the key that set the value (LLMOS_PROVIDER pins).
    renamed.update({dotted: var for dotted, var in variables.items() if var in _ENV_SHORTCUTS})
    for internal, written in renamed.items():
        if written in variables:
            variables[internal] = variables[written]
    return Layer("env", data, ", ".join(names), {}, renamed, warnings, variables)


def _scalar(var: str, value: str) -> Any:
    try:
        return yaml_file.load(value, f"environment variable {var}")[0]
    except ConfigError:
        raise ConfigError(f"environment variable {var}: cannot read {value!r} as a value") from None


def _ollama_host_url(value: str) -> str:
    """OLLAMA_HOST may be ``host:port`` or ``0.0.0.0``; Ollama's own client accepts both, so do we."""
    if "://" in value:
        return value  # checked like any base_url (schema.url_problem)
    host = value or "127.0.0.1"
    if host.startswith("0.0.0.0"):
        host = "127.0.0.1" + host[len("0.0.0.0"):]
    return f"http://{host}" if ":" in host else f"http://{host}:11434"


def set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    for part in parents:
        data = data.setdefault(part, {})
    data[leaf] = value
