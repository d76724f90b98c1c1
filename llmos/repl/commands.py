"""Slash commands of the shell. Each takes the REPL and its argument text; unknown ones suggest the nearest."""

from __future__ import annotations

import difflib
import json
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from llmos.config import Config
from llmos.errors import LlmosError, UsageError


class Shell(Protocol):
    """What slash commands may use of the shell (llmos.repl.app.Repl) — nothing private."""

    config: Config
    console: Any
    router: Any
    provider: str | None
    chat: Any
    events: Any
    auto_yes: bool
    running: bool
    last_error: str | None

    @property
    def agent(self) -> Any: ...  # None while tools are loading

    async def ready(self) -> Any: ...  # the agent, waiting for it if needed
    def new_conversation(self) -> None: ...
    def resume(self, which: str) -> Any: ...


Repl = Shell  # the handlers' annotations read naturally
Handler = Callable[[Shell, str], Awaitable[None]]
COMMANDS: dict[str, tuple[str, Handler]] = {}


def command(name: str, help_text: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        COMMANDS[name] = (help_text, fn)
        return fn
    return register


async def dispatch(repl: Shell, line: str) -> None:
    name, _, argument = line[1:].strip().partition(" ")
    if name not in COMMANDS:
        near = difflib.get_close_matches(name, COMMANDS, n=1, cutoff=0.5)
        hint = f" — did you mean /{near[0]}?" if near else " — /help lists the commands"
        raise UsageError(f"unknown command /{name}{hint}")
    await COMMANDS[name][1](repl, argument.strip())


@command("help", "list the commands")
async def _help(repl: Repl, _arg: str) -> None:
    from rich.table import Table

    table = Table(box=None, show_header=False, pad_edge=False)
    for name, (text, _fn) in COMMANDS.items():
        table.add_row(f"/{name}", text)
    table.add_row("!command", "run a shell command; its output becomes context for your next request")
    repl.console.print(table)
    repl.console.print("Alt-Enter or a trailing \\ for a new line · Ctrl-R searches history · "
                       "Ctrl-C cancels · Ctrl-D exits", style="dim")


@command("exit", "leave the shell")
async def _exit(repl: Repl, _arg: str) -> None:
    repl.running = False


@command("model", "show or set the model: /model NAME")
async def _model(repl: Repl, arg: str) -> None:
    if arg:
        repl.config.data.setdefault("router", {})["model"] = arg
    provider, model = repl.router.first_route("", repl.provider)
    repl.console.print(f"model: {model or '?'} ({provider.name if provider else 'no provider'})")


@command("models", "list the models each provider serves")
async def _models(repl: Repl, _arg: str) -> None:
    for name in repl.router.order(_task()):
        provider = repl.router.provider(name)
        if provider.missing_setup():
            repl.console.print(f"{name}: {provider.missing_setup()}", style="dim")
            continue
        try:
            models = await provider.list_models()
        except LlmosError as exc:
            repl.console.print(f"{name}: {exc}", style="red", markup=False)
            continue
        repl.console.print(f"{name}: {', '.join(models[:20]) or 'none'}", markup=False)


@command("provider", "show or set the provider: /provider NAME")
async def _provider(repl: Repl, arg: str) -> None:
    if arg:
        repl.router.provider(arg)  # validates
        repl.provider = arg
    repl.console.print(f"provider: {repl.provider or 'automatic (' + ', '.join(repl.router.order(_task())) + ')'}")


def _task():
    from llmos.llm.classify import Task

    return Task.MODERATE


@command("tools", "list the tools and their servers, or show one: /tools NAME")
async def _tools(repl: Repl, arg: str) -> None:
    agent = await repl.ready()
    if arg:
        tool = agent.host.tools.get(arg) or next((t for t in agent.host.tools.values() if t.qualified == arg), None)
        if tool is None:
            near = difflib.get_close_matches(arg, list(agent.host.tools), n=1)
            raise UsageError(f"no tool named {arg}" + (f" — did you mean {near[0]}?" if near else ""))
        repl.console.print(f"{tool.qualified} — {tool.description}", markup=False)
        repl.console.print(f"annotations: {json.dumps(tool.annotations)}", style="dim", markup=False)
        repl.console.print(json.dumps(tool.input_schema, indent=2), markup=False, highlight=False)
        return
    from llmos.ui.tools_view import print_tools

    print_tools(repl.console, list(agent.host.tools.values()), agent.host.down())


@command("undo", "undo the last file change")
async def _undo(repl: Repl, _arg: str) -> None:
    from llmos.servers.undo import UndoJournal

    entry = UndoJournal().undo_last()
    repl.console.print(f"undone: {entry.summary}", markup=False)


@command("history", "list saved conversations")
async def _history(repl: Repl, _arg: str) -> None:
    from llmos.conversation.store import list_sessions

    for s in list_sessions()[-15:]:
        repl.console.print(f"{s.id}  {s.messages:3d} messages  {s.title}", markup=False)


@command("resume", "continue a saved conversation: /resume [ID]")
async def _resume(repl: Repl, arg: str) -> None:
    info = repl.resume(arg)
    repl.console.print(f"resumed {info.id}: {info.title} ({info.messages} messages)", markup=False)


@command("clear", "start a new conversation")
async def _clear(repl: Repl, _arg: str) -> None:
    repl.new_conversation()
    repl.console.print("new conversation", style="dim")


@command("compact", "summarise the conversation so far to free context")
async def _compact(repl: Repl, _arg: str) -> None:
    from llmos.conversation.compact import compact

    budget, counter = repl.chat.budget(repl.router, "", repl.provider, "", 0)
    before = repl.chat.conversation.tokens(counter)
    if await compact(repl.chat.conversation, repl.router, counter, budget, force=True):
        after = repl.chat.conversation.tokens(counter)
        repl.console.print(f"compacted: {before:,} → {after:,} tokens", style="dim")
    else:
        repl.console.print("nothing compacted (too short, or the model could not summarise; "
                           "older messages are trimmed when needed)", style="dim")


@command("usage", "requests, tokens, latency and cost (last 7 days)")
async def _usage(repl: Repl, _arg: str) -> None:
    import time

    from llmos.ui.usage_view import print_usage
    from llmos.usage.report import summarize

    if repl.router.usage is None:
        raise LlmosError("usage records are not available")
    rows = summarize(repl.router.usage.records(since=time.time() - 7 * 86400), repl.config.pricing)
    print_usage(repl.console, rows, "7d")


@command("audit", "recent tool calls and the gate's decisions")
async def _audit(repl: Repl, _arg: str) -> None:
    from llmos.agent.audit import AuditLog

    for r in AuditLog().recent(15):
        repl.console.print(f"{r['server']}.{r['tool']} {json.dumps(r['arguments'])[:60]} — {r['decision']} by "
                           f"{r['by']}, {r['status']}", markup=False)


@command("config", "show the merged configuration")
async def _config(repl: Repl, _arg: str) -> None:
    from llmos.ui.config_view import flatten

    for key, value, origin in flatten(repl.config):
        repl.console.print(f"{key} = {value!r}  [dim]{origin}[/]", highlight=False)


@command("yes", "approve every action this session (toggle)")
async def _yes(repl: Repl, _arg: str) -> None:
    repl.auto_yes = not repl.auto_yes
    repl.console.print("auto-approve is ON for this session" if repl.auto_yes else "auto-approve is off",
                       style="bold red" if repl.auto_yes else "dim")


@command("dry-run", "show what would run; run only read-only tools (toggle)")
async def _dry_run(repl: Repl, _arg: str) -> None:
    agent = await repl.ready()
    agent.authorizer.dry_run = not agent.authorizer.dry_run
    repl.console.print(f"dry run {'on' if agent.authorizer.dry_run else 'off'}", style="dim")


@command("last", "show the last request's tool calls in full")
async def _last(repl: Repl, _arg: str) -> None:
    if not repl.events.runs:
        repl.console.print("no tool calls in the last request", style="dim")
    for run in repl.events.runs:
        name = run.tool.qualified if run.tool else run.call.name
        repl.console.print(f"▸ {name} {json.dumps(run.call.arguments)} — {run.decision} by {run.by}",
                           markup=False)
        body = json.dumps(run.structured, indent=2)[:3000] if run.structured else run.text[:3000]
        repl.console.print(body, markup=False, highlight=False)


@command("debug", "show the last error in full")
async def _debug(repl: Repl, _arg: str) -> None:
    repl.console.print(repl.last_error or "no error so far", markup=False, highlight=False)


def argument_values(repl: Shell, name: str) -> list[str]:
    """Completions for a command's argument."""
    if name == "provider":
        return list(repl.router.order(_task()))
    if name == "model":
        return sorted({m for p in repl.config.providers().values() for m in p.models.values()})
    if name == "tools" and repl.agent is not None:
        return sorted(repl.agent.host.tools)
    if name == "resume":
        from llmos.conversation.store import list_sessions

        return [s.id for s in list_sessions()]
    return []


def describe_commands() -> dict[str, str]:
    return {name: text for name, (text, _fn) in COMMANDS.items()}


