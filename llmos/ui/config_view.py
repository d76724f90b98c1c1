"""Printing the merged configuration: every key, where its value came from, what it overrode; secrets masked."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llmos.config import Config, Origin

if TYPE_CHECKING:
    from llmos.terminal import Terminal

MASK = "****"
# Secrets are recognised by the key that holds them, never by a word inside a longer key: max_tokens and
# reserve_tokens are numbers, not tokens.
_SECRET_KEYS = {"api_key", "apikey", "token", "access_token", "password", "passwd", "secret", "authorization",
                "proxy_authorization", "cookie", "bearer", "credentials"}
_SECRET_SUFFIXES = ("_key", "_token", "_password", "_secret")
_URL_PASSWORD = re.compile(r"(://[^/:@\s]+:)[^@/\s]+@")


def is_secret(dotted: str) -> bool:
    """True for keys that hold a credential: api_key, *_key, token, password, Authorization-style headers."""
    leaf = dotted.rsplit(".", 1)[-1].lower().replace("-", "_")
    if leaf.endswith("_env"):  # the name of a variable holding the key, not the key
        return False
    return leaf in _SECRET_KEYS or leaf.endswith(_SECRET_SUFFIXES)


def shown_value(dotted: str, value: Any) -> Any:
    if value in (None, "") or not isinstance(value, str | int | float | list | dict):
        return value
    if is_secret(dotted):
        return MASK
    if dotted.rsplit(".", 1)[-1] == "api_key_env":
        return f"{value} ({'set' if os.environ.get(str(value)) else 'not set'})"
    if isinstance(value, str):
        return _URL_PASSWORD.sub(rf"\g<1>{MASK}@", value)
    return value


@dataclass(frozen=True)
class Row:
    key: str
    value: Any
    origin: Origin
    overridden: tuple[Origin, ...]


def rows(config: Config) -> list[Row]:
    """One row per leaf, in the order of the merged tree (the order of the files)."""
    out: list[Row] = []
    for key in _leaves(config.data, ""):
        origin = config.origins.get(key)
        if origin is None:  # a value llmos filled in (a provider's type from its name)
            origin = Origin("default", "inferred")
        out.append(Row(key, shown_value(key, config.get(key)), origin,
                       tuple(reversed(config.overridden.get(key, ())))))
    return out


def flatten(config: Config) -> list[tuple[str, Any, str]]:
    """(key, printable value, origin) for every leaf, secrets masked: the shell's /config."""
    return [(r.key, r.value, _describe(r.origin)) for r in rows(config)]


def _leaves(node: Any, prefix: str) -> list[str]:
    if isinstance(node, dict) and node:
        keys: list[str] = []
        for key, value in node.items():
            keys += _leaves(value, f"{prefix}.{key}" if prefix else str(key))
        return keys
    return [prefix]


def _origin_json(origin: Origin) -> dict[str, Any]:
    return {"origin": str(origin), "layer": origin.layer, "file": origin.source or None, "line": origin.line,
            "key": origin.written_as}


def as_json(config: Config) -> dict[str, Any]:
    return {r.key: {"value": r.value, **_origin_json(r.origin), "overridden": [_origin_json(o) for o in r.overridden]}
            for r in rows(config)}


def print_config(terminal: Terminal, config: Config, json_output: bool) -> None:
    if json_output:
        terminal.write(json.dumps(as_json(config), indent=2, ensure_ascii=False) + "\n")
        return
    from rich.text import Text

    console = terminal.console
    table = rows(config)
    width = max((len(r.key) for r in table), default=0)
    for r in table:
        value = "null" if r.value is None else r.value if isinstance(r.value, str) else json.dumps(r.value)
        line = Text(f"{r.key:<{width}}  ", style="cyan")
        line.append(f"{value}  ")
        line.append(_describe(r.origin))
        for old in r.overridden:  # what this value replaced, dimmed
            line.append(f"  over {_describe(old)}", style="dim")
        console.print(line, soft_wrap=True)  # a long value stays one line, as a file's would
    for warning in config.warnings:
        console.print(Text.assemble(("warning: ", "yellow"), warning), soft_wrap=True)


def _describe(origin: Origin) -> str:
    where = origin.layer
    if origin.layer not in ("default", "flag") and origin.source:
        where += f" {origin.source}" + (f":{origin.line}" if origin.line else "")
    return f"{where} ({origin.written_as})" if origin.written_as else where
