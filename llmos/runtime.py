"""Opening llmos for one process, the same way for `llmos run`, the shell and `llmos tools`: one options
object in; configuration (warnings shown once), usage store, router, the agent with its confirmer, and
the conversation out. Logging is configured here too, for every entry point.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from llmos import paths
from llmos.config import Config, load_config
from llmos.llm.router import Router
from llmos.terminal import Terminal, current
from llmos.usage.store import UsageStore

if TYPE_CHECKING:
    from llmos.agent.confirm import Confirmer
    from llmos.agent.host import McpHost
    from llmos.agent.loop import Agent, AgentEvents
    from llmos.conversation.session import ChatSession

log = logging.getLogger(__name__)
_NOISY = ("httpx", "httpx2", "httpcore", "httpcore2", "anthropic", "openai")


@dataclass
class Options:
    """What the person asked for on the command line (or in the shell)."""

    provider: str | None = None
    model: str | None = None
    yes: bool = False  # approve everything that asks (never the floor)
    allow: list[str] = field(default_factory=list)  # SERVER.TOOL approved without asking
    dry_run: bool = False
    continue_session: str | None = None  # None: a new conversation; "": the newest; else an id prefix
    stream: bool = True
    json: bool = False
    verbose: bool = False  # say what the router decided (preferences.verbose_output)

    def flags(self) -> dict[str, Any]:
        return {"router.default_provider": self.provider, "router.model": self.model,
                "preferences.verbose_output": True if self.verbose else None}


def configure_logging(debug: bool) -> None:
    """--debug / LLMOS_DEBUG=1: llmos's log on stderr; the SDKs' HTTP chatter stays quiet."""
    if not debug:
        return
    logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")
    for noisy in _NOISY:
        logging.getLogger(noisy).setLevel(logging.INFO)
    from llmos.redact import install_log_filter

    install_log_filter()  # the new handler scrubs API keys too


def open_usage_store() -> UsageStore | None:
    """The usage database, or None (said in one line) when it cannot be opened: a request still works."""
    import sqlite3

    from llmos.damaged import unsaved

    try:
        return UsageStore(paths.usage_db())
    except (OSError, sqlite3.Error) as exc:
        unsaved("usage records", paths.usage_db(), exc, "`llmos usage` will not count this run")
        return None


def load_with_warnings(flags: dict[str, Any] | None = None, terminal: Terminal | None = None) -> Config:
    config = load_config(flags)
    for warning in config.warnings:
        (terminal or current()).notice(f"llmos: config warning: {warning}")
    return config


def open_router(options: Options, terminal: Terminal | None = None) -> tuple[Config, Router]:
    config = load_with_warnings(options.flags(), terminal)
    return config, Router(config, open_usage_store())


def confirmer_for(options: Options, terminal: Terminal) -> Confirmer:
    """Ask on the terminal when a person is there, else refuse; --yes / --allow pre-approve (not the floor)."""
    from llmos.agent.confirm import NonInteractive, PreApproved, TerminalConfirmer

    ask: Confirmer = (TerminalConfirmer(console=terminal.err_console, input=terminal.prompt_input,
                                        output=terminal.prompt_output) if terminal.interactive else NonInteractive())
    return PreApproved(ask, yes=options.yes, allowed=set(options.allow))


def open_agent(config: Config, router: Router, options: Options, confirmer: Confirmer,
               events: AgentEvents | None = None) -> Agent:
    from llmos.agent.setup import build_agent

    return build_agent(config, router, confirmer, events, dry_run=options.dry_run, stream=options.stream)


def open_host(config: Config) -> McpHost:
    """The MCP host alone (`llmos tools`): every configured server, no tool cache."""
    from llmos.agent.setup import open_host as host_for

    return host_for(config)


def open_session(config: Config, continue_session: str | None = None) -> ChatSession:
    """A new saved conversation, or (``continue_session`` not None) the newest one / the one whose id
    starts with the value — either way with `context.reserve_tokens` kept free for the answer."""
    from llmos.conversation.session import ChatSession
    from llmos.conversation.store import SessionStore, find_session

    reserve = config.get("context.reserve_tokens", 1024)
    if continue_session is None:
        return ChatSession(store=SessionStore(), reserve_tokens=reserve)
    info = find_session(continue_session or None)
    session = ChatSession.resume(SessionStore(info.id))
    session.reserve_tokens = reserve
    return session
