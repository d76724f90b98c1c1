"""Assembling an agent from configuration: servers, gate rules, settings."""

from __future__ import annotations

from llmos.agent.audit import AuditLog
from llmos.agent.authorize import Authorizer
from llmos.agent.confirm import Confirmer
from llmos.agent.floor import Floor
from llmos.agent.gate import Gate, parse_rules
from llmos.agent.host import DEFAULT_START_TIMEOUT_S, DEFAULT_TOOL_TIMEOUT_S, McpHost
from llmos.agent.loop import Agent, AgentEvents, AgentSettings
from llmos.agent.servers_config import server_specs
from llmos.agent.tool_cache import ToolCache
from llmos.config import Config
from llmos.errors import ConfigError
from llmos.llm.router import Router


def agent_settings(config: Config, stream: bool = True, router: Router | None = None) -> AgentSettings:
    """Settings from the merged config (the documented YAML holds every default)."""
    from llmos.config.auto import constrained

    a = config.section("agent")
    provider, model = router.first_route("") if router is not None else (None, "")
    if provider is not None:  # auto is decided once per run, for the model of the default tier
        model = config.router.model or provider.model_for("default") or model
    window = router.context_window(provider) if router is not None and provider is not None else None
    return AgentSettings(
        max_steps=a["max_steps"],
        tool_prompt_budget=a["tool_prompt_budget"],
        tool_result_budget=a["tool_result_budget"],
        all_tools_context=a["all_tools_context"],
        constrained=constrained(a["constrained"], provider, model, window),
        # what auto would pick is also whether the model needs its answer steps decided for it (answer_step.py)
        guide_answers=constrained("auto", provider, model, window),
        concurrent_tools=config.performance.concurrent_tools,
        stream=stream and config.performance.streaming,
        system_prompt=a.get("system_prompt"),
    )


def seconds(config: Config, key: str, default: float) -> float:
    """A timeout in seconds from config (``key`` such as `agent.tool_timeout_s`), checked."""
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 86_400:
        raise ConfigError(f"{key}: expected a number of seconds above 0, got {value!r}")
    return float(value)


def tool_timeout(config: Config) -> float:
    """`agent.tool_timeout_s`: how long llmos waits for one tool call (built-in or third-party)."""
    return seconds(config, "agent.tool_timeout_s", DEFAULT_TOOL_TIMEOUT_S)


def open_host(config: Config, cache: ToolCache | None = None) -> McpHost:
    """The MCP host for every configured server, with the configured start-up and call timeouts."""
    return McpHost(server_specs(config), connect_timeout_s=seconds(config, "agent.server_start_timeout_s",
                                                                    DEFAULT_START_TIMEOUT_S),
                   cache=cache, tool_timeout_s=tool_timeout(config))


def build_agent(config: Config, router: Router, confirmer: Confirmer, events: AgentEvents | None = None,
                dry_run: bool = False, stream: bool = True) -> Agent:
    host = open_host(config, ToolCache())
    gate = Gate(parse_rules(config.get("gate.rules")))
    floor = Floor.from_config(config.get("gate") or {}, (config.get("servers") or {}).get("filesystem") or {})
    authorizer = Authorizer(gate, confirmer, AuditLog(), dry_run=dry_run, floor=floor)
    return Agent(router, host, authorizer, agent_settings(config, stream, router), events)
