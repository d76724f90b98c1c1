"""What a valid configuration looks like, and the checks that say precisely what is wrong.

The schema is data: a dict of key -> Field (a leaf) or dict (a section). ``MapOf`` is a section whose
keys are free (provider names, model names) and whose values share one shape.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Field:
    types: tuple[type, ...]
    expected: str  # how to say the type to a person
    choices: tuple[str, ...] = ()
    nullable: bool = False
    item: Field | None = None  # for lists: the shape of each item
    minimum: float | None = None  # numbers: the smallest value that makes sense
    positive: bool = False  # numbers: must be above the minimum, not equal to it
    validate: Callable[[Any], str | None] | None = None  # a further check: the problem, or None


@dataclass(frozen=True)
class MapOf:
    value: Any  # a Field or a section dict


BOOL = Field((bool,), "true or false")
INT = Field((int,), "a whole number")
NUMBER = Field((int, float), "a number")
STR = Field((str,), "a string")
OPT_STR = Field((str,), "a string or null", nullable=True)
STR_LIST = Field((list,), "a list of strings", item=STR)
DURATION = Field((str, int), "a duration like 5m, or seconds")
COUNT = Field((int,), "a whole number", minimum=1)
SIZE = Field((int,), "a whole number", minimum=0)
OPT_SIZE = Field((int,), "a whole number or null", nullable=True, minimum=0)
SECONDS = Field((int, float), "a number of seconds", minimum=0, positive=True)
AMOUNT = Field((int, float), "a number", minimum=0)

def url_problem(value: Any) -> str | None:
    """Why ``value`` is not an http(s) URL a client can connect to, or None."""
    try:
        parts = urlsplit(str(value))
        port = parts.port  # raises for a port that is not a number
    except ValueError as exc:
        return f"not a valid URL ({exc})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "expected an http:// or https:// URL with a host"
    return None if port is None or 0 < port < 65536 else "the port must be 1-65535"


URL = Field((str,), "a URL or null", nullable=True, validate=url_problem)

PROVIDER_TYPES = ("ollama", "anthropic", "openai", "openai-compatible", "embedded")
OPT_INT = Field((int,), "a whole number or null", nullable=True)

PROVIDER = {
    "type": Field((str,), "one of " + ", ".join(PROVIDER_TYPES), choices=PROVIDER_TYPES),
    "enabled": BOOL,
    "base_url": URL,
    "api_key_env": OPT_STR,
    "keep_alive": DURATION,
    "num_ctx": COUNT,
    "context_window": COUNT,
    "timeout": SECONDS,
    "idle_timeout": SECONDS,
    "total_timeout": SECONDS,
    "headers": MapOf(STR),
    "models": MapOf(STR),
    # type: embedded — llmos's own engine: a GGUF file path, or a file name under the models folder
    "model": OPT_STR,
    "threads": OPT_INT,  # null: the machine's physical cores
    "n_ctx": OPT_INT,  # null: the model's trained context, at most 4096
    "gpu_layers": OPT_INT,  # layers offloaded to a GPU (0: CPU only)
}

SCHEMA: dict[str, Any] = {
    "providers": MapOf(PROVIDER),
    "router": {
        "local_first": BOOL,
        "cost_optimization": BOOL,
        "fallback_chain": STR_LIST,
        "max_retries": SIZE,
        "backoff_base_s": AMOUNT,
        "health_ttl_s": AMOUNT,
        "connect_timeout_s": SECONDS,
        "default_provider": OPT_STR,
        "fallback_provider": OPT_STR,
        "model": OPT_STR,
    },
    "context": {"reserve_tokens": SIZE, "max_tokens": Field((int,), "a whole number of tokens or null",
                                                             nullable=True, minimum=1),
                "keep_messages": Field((int,), "a whole number or null", nullable=True, minimum=1)},
    # concurrent_tools: how many; true/false (an older spelling) mean the default and 1.
    "performance": {"streaming": BOOL, "timeout": SECONDS,
                    "concurrent_tools": Field((int, bool), "a whole number, at least 1", minimum=1)},
    "pricing": MapOf({"input": AMOUNT, "output": AMOUNT}),
    # Settings of the built-in MCP servers, one section each (servers.filesystem.roots, …).
    "servers": MapOf(MapOf(Field((str, int, float, bool, list, dict), "any value", nullable=True))),
    # Third-party MCP servers, in the shape other MCP clients use (checked when connecting).
    "mcpServers": MapOf(Field((dict,), "a server entry (command/args/env or type/url/headers)")),
    "mcp_config_file": OPT_STR,
    "agent": {"max_steps": COUNT, "tool_prompt_budget": SIZE, "tool_result_budget": COUNT,
              "all_tools_context": SIZE, "constrained": Field((bool, str), "true, false or auto", choices=("auto",)),
              "system_prompt": OPT_STR, "tool_timeout_s": SECONDS,
              "server_start_timeout_s": SECONDS},
    "gate": {"rules": Field((list,), "a list of rules ({decision, tool, when})"), "floor_files": COUNT,
             "floor_bytes": COUNT},
    # The VRAM-aware model picker; its own checks say more precisely what is wrong with a value.
    "picker": {"model": OPT_STR, "num_ctx": Field((int,), "a whole number or null", nullable=True),
               "vram_limit_mib": OPT_SIZE,
               "kv_cache_type": Field((str,), "one of f16, q8_0, q4_0", choices=("f16", "q8_0", "q4_0")),
               "reserve_mib": SIZE},
    # preferences.default_provider and preferences.always_stream are translated (aliases.py) before this.
    "preferences": {"editing_mode": Field((str,), "emacs or vi", choices=("emacs", "vi")), "verbose_output": BOOL},
    # Top-level models.<provider>.<tier> is translated to providers.<provider>.models.<tier>; what is left
    # here was not a mapping of tiers.
    "models": MapOf(MapOf(STR)),
}


@dataclass(frozen=True)
class Problem:
    path: str  # dotted key path
    message: str
    fatal: bool  # unknown keys are warnings; wrong types are errors


def check(data: Any, schema: Any = SCHEMA, path: str = "") -> list[Problem]:
    """Every problem in ``data`` against ``schema``, in document order."""
    if isinstance(schema, Field):
        return _check_field(data, schema, path)
    if not isinstance(data, dict):
        return [Problem(path, f"expected a mapping (section), got {_describe(data)}", True)]
    problems: list[Problem] = []
    for key, value in data.items():
        sub = f"{path}.{key}" if path else str(key)
        if isinstance(schema, MapOf):
            problems += check(value, schema.value, sub)
        elif key in schema:
            problems += check(value, schema[key], sub)
        else:
            known = ", ".join(sorted(schema))
            problems.append(Problem(sub, f"unknown key (known here: {known})", False))
    return problems


def _check_field(value: Any, field: Field, path: str) -> list[Problem]:
    if value is None:
        return [] if field.nullable else [Problem(path, f"expected {field.expected}, got nothing", True)]
    # bool is an int in Python; a number field must not accept true/false.
    if isinstance(value, bool) and bool not in field.types:
        return [Problem(path, f"expected {field.expected}, got {_describe(value)}", True)]
    if not isinstance(value, field.types):
        return [Problem(path, f"expected {field.expected}, got {_describe(value)}", True)]
    if field.choices and isinstance(value, str) and value not in field.choices:
        return [Problem(path, f"expected {field.expected}, got {value!r}", True)]
    if isinstance(value, float) and not math.isfinite(value):
        return [Problem(path, f"expected {field.expected}, got {value!r}", True)]
    if field.minimum is not None and isinstance(value, int | float) and not isinstance(value, bool):
        too_small = value <= field.minimum if field.positive else value < field.minimum
        if too_small:
            bound = f"above {field.minimum:g}" if field.positive else f"at least {field.minimum:g}"
            return [Problem(path, f"must be {bound}, got {value!r}", True)]
    if field.validate is not None:
        problem = field.validate(value)
        if problem:
            return [Problem(path, f"{problem}, got {value!r}", True)]
    if field.item is not None:
        problems: list[Problem] = []
        for i, item in enumerate(value):
            problems += _check_field(item, field.item, f"{path}[{i}]")
        return problems
    return []


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{value!r} ({article(type(value).__name__)})"


def article(noun: str) -> str:
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"
