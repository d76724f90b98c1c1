"""Which MCP servers to connect: the built-ins, and third-party ones in the `mcpServers` shape.

Third-party servers may be written in the YAML config (`mcpServers:` exactly as Claude Desktop, Goose or
Cursor write it) or in a JSON file the config points to (`mcp_config_file:`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmos.config import Config
from llmos.errors import ConfigError
from llmos.servers import BUILTIN

# A spawned server must not be able to change what programs or libraries other processes load.
_SERVER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
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
    trust_annotations: bool = False  # third-party: believe its readOnlyHint/destructiveHint (config opt-in)


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
        data = _read_json_file(Path(file).expanduser())
        path = Path(file).expanduser()
        if not isinstance(data, dict) or not isinstance(data.get("mcpServers", {}), dict):
            raise ConfigError(f"{path}: expected {{\"mcpServers\": {{name: {{command, args, env}}}}}}")
        entries.update(data.get("mcpServers", {}))
    return entries


_MAX_CONFIG_BYTES = 4 * 1024 * 1024  # an mcpServers file is a few kilobytes; anything huge is not one


def _read_json_file(path: Path) -> Any:
    """The JSON in ``mcp_config_file``, or a ConfigError naming the file and what to do about it."""
    fix = "point mcp_config_file at a JSON file holding {\"mcpServers\": {…}}"
    try:
        if path.is_dir():
            raise ConfigError(f"mcp_config_file: {path} is a folder, not a file; {fix}")
        if not path.is_file():
            raise ConfigError(f"mcp_config_file: {path} " + ("does not exist" if not path.exists()
                                                            else f"is not a regular file; {fix}"))
        if path.stat().st_size > _MAX_CONFIG_BYTES:
            raise ConfigError(f"mcp_config_file: {path} is larger than 4 MiB; {fix}")
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"mcp_config_file: {path} is not UTF-8 text (byte {exc.start}); {fix}") from None
    except OSError as exc:
        raise ConfigError(f"mcp_config_file: {path} cannot be read ({exc.strerror or exc}); {fix}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to be an mcpServers file; {fix}") from None


def _third_party(name: str, entry: Any) -> ServerSpec:
    where = f"mcpServers.{name}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a mapping with command/args/env or type/url/headers")
    if name in BUILTIN:
        raise ConfigError(f"{where}: {name!r} is the name of a built-in server; choose another name")
    if not isinstance(name, str) or not _SERVER_NAME.match(name):
        # Rules say SERVER.TOOL: a dot (or an odd character) in the server's name would make them ambiguous.
        raise ConfigError(f"{where}: a server name may hold only letters, digits, _ and - (at most 64)")
    trust = entry.get("trust_annotations", False)
    if not isinstance(trust, bool):
        raise ConfigError(f"{where}.trust_annotations: expected true or false, got {trust!r}")
    kind = entry.get("type") or ("http" if "url" in entry else "stdio")
    if kind in ("http", "streamable-http", "streamableHttp"):
        url = entry.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ConfigError(f"{where}.url: expected an http(s) URL")
        return ServerSpec(name, False, "http", url=url, headers=_strings(entry.get("headers"), f"{where}.headers"),
                          trust_annotations=trust)
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
    return ServerSpec(name, False, "stdio", command=command, args=tuple(args), env=env, trust_annotations=trust)


def _strings(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigError(f"{where}: expected a mapping of names to strings")
    return {str(k): v for k, v in value.items()}
