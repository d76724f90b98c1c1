"""Which MCP servers to connect: the built-ins, and third-party ones in the `mcpServers` shape.

Third-party servers may be written in the YAML config (`mcpServers:` exactly as Claude Desktop, Goose or
Cursor write it) or in a JSON file the config points to (`mcp_config_file:`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmos.config import Config
from llmos.errors import ConfigError
from llmos.servers import BUILTIN

# A spawned server must not be able to change what programs or libraries other processes load.
_FORBIDDEN_ENV = {"LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "DYLD_INSERT_LIBRARIES", "DYLD_LIBRARY_PATH"}


@dataclass(frozen=True)
class ServerSpec:
    name: str
    builtin: bool
    transport: str  # memory | stdio | http
    command: str = ""
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)  # built-ins: their servers.NAME section


def server_specs(config: Config) -> list[ServerSpec]:
    specs = []
    servers = config.get("servers") or {}
    for name in BUILTIN:
        settings = dict(servers.get(name) or {})
        if settings.pop("enabled", True) is False:
            continue
        transport = settings.pop("transport", "memory")
        if transport not in ("memory", "stdio"):
            raise ConfigError(f"servers.{name}.transport: expected memory or stdio, got {transport!r}")
        specs.append(ServerSpec(name, True, transport, settings=settings))
    for name, entry in third_party_entries(config).items():
        specs.append(_third_party(name, entry))
    return specs


def third_party_entries(config: Config) -> dict[str, Any]:
    entries: dict[str, Any] = dict(config.get("mcpServers") or {})
    file = config.get("mcp_config_file")
    if file:
        path = Path(file).expanduser()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"mcp_config_file: {path} does not exist") from None
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
        if not isinstance(data, dict) or not isinstance(data.get("mcpServers", {}), dict):
            raise ConfigError(f"{path}: expected {{\"mcpServers\": {{name: {{command, args, env}}}}}}")
        entries.update(data.get("mcpServers", {}))
    return entries


def _third_party(name: str, entry: Any) -> ServerSpec:
    where = f"mcpServers.{name}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a mapping with command/args/env or type/url/headers")
    if name in BUILTIN:
        raise ConfigError(f"{where}: {name!r} is the name of a built-in server; choose another name")
    kind = entry.get("type") or ("http" if "url" in entry else "stdio")
    if kind in ("http", "streamable-http", "streamableHttp"):
        url = entry.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ConfigError(f"{where}.url: expected an http(s) URL")
        return ServerSpec(name, False, "http", url=url, headers=_strings(entry.get("headers"), f"{where}.headers"))
    if kind != "stdio":
        raise ConfigError(f"{where}.type: expected stdio or http, got {kind!r}")
    command = entry.get("command")
    if not isinstance(command, str) or not command:
        raise ConfigError(f"{where}.command: expected the program to run")
    args = entry.get("args") or []
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise ConfigError(f"{where}.args: expected a list of strings")
    env = _strings(entry.get("env"), f"{where}.env")
    bad = sorted(_FORBIDDEN_ENV & set(env))
    if bad:
        raise ConfigError(f"{where}.env: {', '.join(bad)} may not be set for a server")
    return ServerSpec(name, False, "stdio", command=command, args=tuple(args), env=env)


def _strings(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigError(f"{where}: expected a mapping of names to strings")
    return {str(k): v for k, v in value.items()}
