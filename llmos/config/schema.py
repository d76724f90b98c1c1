"""What a valid configuration looks like, and the checks that say precisely what is wrong.

The schema is data: a dict of key -> Field (a leaf) or dict (a section). ``MapOf`` is a section whose
keys are free (provider names, model names) and whose values share one shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Field:
    types: tuple[type, ...]
    expected: str  # how to say the type to a person
    choices: tuple[str, ...] = ()
    nullable: bool = False
    item: Field | None = None  # for lists: the shape of each item


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

PROVIDER_TYPES = ("ollama", "anthropic", "openai", "openai-compatible")

PROVIDER = {
    "type": Field((str,), "one of " + ", ".join(PROVIDER_TYPES), choices=PROVIDER_TYPES),
    "enabled": BOOL,
    "base_url": OPT_STR,
    "api_key_env": OPT_STR,
    "keep_alive": DURATION,
    "num_ctx": INT,
    "context_window": INT,
    "timeout": NUMBER,
    "headers": MapOf(STR),
    "models": MapOf(STR),
}

SCHEMA: dict[str, Any] = {
    "providers": MapOf(PROVIDER),
    "router": {
        "local_first": BOOL,
        "cost_optimization": BOOL,
        "fallback_chain": STR_LIST,
        "max_retries": INT,
        "backoff_base_s": NUMBER,
        "health_ttl_s": NUMBER,
        "connect_timeout_s": NUMBER,
        "default_provider": OPT_STR,
        "model": OPT_STR,
    },
    "context": {"reserve_tokens": INT},
    "performance": {"concurrent_tools": BOOL},
    "pricing": MapOf({"input": NUMBER, "output": NUMBER}),
    # Settings of the built-in MCP servers, one section each (servers.filesystem.roots, …).
    "servers": MapOf(MapOf(Field((str, int, float, bool, list, dict), "any value", nullable=True))),
    # Third-party MCP servers, in the shape other MCP clients use (checked when connecting).
    "mcpServers": MapOf(Field((dict,), "a server entry (command/args/env or type/url/headers)")),
    "mcp_config_file": OPT_STR,
    "agent": {"max_steps": INT, "tool_prompt_budget": INT, "tool_result_budget": INT, "all_tools_context": INT,
              "constrained": Field((bool, str), "true, false or auto"), "system_prompt": OPT_STR,
              "tool_timeout_s": NUMBER},
    "gate": {"rules": Field((list,), "a list of rules ({decision, tool, when})"), "floor_files": INT,
             "floor_bytes": INT},
    # The VRAM-aware model picker; its own checks say more precisely what is wrong with a value.
    "picker": {"model": OPT_STR, "num_ctx": Field((int,), "a whole number or null", nullable=True),
               "vram_limit_mib": Field((int,), "a whole number or null", nullable=True),
               "kv_cache_type": Field((str,), "one of f16, q8_0, q4_0", choices=("f16", "q8_0", "q4_0")),
               "reserve_mib": INT},
    "preferences": MapOf(Field((str, int, float, bool, list, dict), "any value", nullable=True)),
    "models": MapOf(Field((str, int, float, bool, list, dict), "any value", nullable=True)),
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
    if field.choices and value not in field.choices:
        return [Problem(path, f"expected {field.expected}, got {value!r}", True)]
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
