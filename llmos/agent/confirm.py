"""Asking the person before a tool call that needs a yes. Only the person's own input can approve:
nothing the model or a tool printed ever reaches these functions as an answer."""

from __future__ import annotations

import enum
import json
import os
from dataclasses import dataclass, field
from typing import Any, Protocol

from llmos.agent import facts
from llmos.agent.gate import Verdict
from llmos.agent.host import ToolInfo
from llmos.paths import display


class Answer(enum.StrEnum):
    YES = "yes"
    NO = "no"
    ALWAYS = "always"  # yes, and do not ask again for this tool in this session


@dataclass
class ConfirmRequest:
    tool: ToolInfo
    arguments: dict[str, Any]
    verdict: Verdict
    details: list[str] = field(default_factory=list)  # resolved paths, sizes, counts
    reversible: bool | None = None  # None: unknown (third-party)
    referent: str | None = None  # what "it"/"them" was resolved to, when the request used a reference
    floor: list[str] = field(default_factory=list)  # on the floor (llmos.agent.floor): asked, never pre-approved


@dataclass
class Confirmation:
    answer: Answer
    arguments: dict[str, Any]
    note: str = ""  # why, when refused without asking
    by: str = "user"  # who answered: user | flag (--yes, --allow, /yes) | no-terminal


class Confirmer(Protocol):
    async def confirm(self, request: ConfirmRequest) -> Confirmation: ...


def describe(tool: ToolInfo, arguments: dict[str, Any], verdict: Verdict) -> ConfirmRequest:
    """What will happen, concretely: resolved paths with sizes or item counts, and whether undo can reverse it."""
    details = []
    paths = facts.path_args(tool)
    for key, value in arguments.items():
        if isinstance(value, str) and key in paths:
            real = os.path.realpath(os.path.expanduser(value))
            if os.path.isdir(real):
                try:
                    count = len(os.listdir(real))
                except OSError:
                    count = 0
                details.append(f"{key}: {display(real)} (folder, {count} item{'s' if count != 1 else ''})")
            elif os.path.exists(real):
                details.append(f"{key}: {display(real)} ({os.path.getsize(real):,} bytes)")
            else:
                details.append(f"{key}: {display(real)} (does not exist yet)")
    details += [f"{key}: {arguments[key]} (sends data off the machine)" for key in facts.url_args(tool)
                if isinstance(arguments.get(key), str)]
    return ConfirmRequest(tool, arguments, verdict, details, facts.reversible(tool))


class NonInteractive:
    """No terminal to ask (a script or a pipe): refuse, saying how to approve it next time."""

    async def confirm(self, request: ConfirmRequest) -> Confirmation:
        if request.floor:
            return Confirmation(Answer.NO, request.arguments, "not run: it must be confirmed by a person at a "
                                f"terminal, whatever the flags ({'; '.join(request.floor)})", by="floor")
        return Confirmation(Answer.NO, request.arguments,
                            "not run: it needs confirmation and there is no terminal to ask "
                            f"(use --yes, or --allow {request.tool.qualified})", by="no-terminal")


class PreApproved:
    """--yes approves everything; --allow SERVER.TOOL approves that tool; anything else goes to ``ask``."""

    def __init__(self, ask: Confirmer, yes: bool = False, allowed: set[str] | None = None):
        self.ask = ask
        self.yes = yes
        self.allowed = allowed or set()

    async def confirm(self, request: ConfirmRequest) -> Confirmation:
        if not request.floor and (self.yes or request.tool.qualified in self.allowed):
            return Confirmation(Answer.YES, request.arguments, "approved by --yes/--allow", by="flag")
        return await self.ask.confirm(request)


class TerminalConfirmer:
    """Asks on the terminal: y / n / a(lways this session) / e(dit arguments). The default is no."""

    def __init__(self, console: Any, input: Any = None, output: Any = None):
        self.console = console  # the terminal's stderr Console (the shell's own, in the shell)
        self._input = input
        self._output = output

    async def confirm(self, request: ConfirmRequest) -> Confirmation:
        from prompt_toolkit import PromptSession

        self.console.print(render_request(request))
        session: PromptSession = PromptSession(input=self._input, output=self._output)
        arguments = request.arguments
        if request.floor:  # this one call, as shown: no "always", no editing into something else
            reply = (await session.prompt_async("Run it anyway? [y/N] ")).strip().lower()
            return Confirmation(Answer.YES if reply in ("y", "yes") else Answer.NO, arguments,
                                "" if reply in ("y", "yes") else "refused by you")
        while True:
            reply = (await session.prompt_async("Run it? [y/N/a/e] ")).strip().lower()
            if reply in ("y", "yes"):
                return Confirmation(Answer.YES, arguments)
            if reply in ("a", "always"):
                return Confirmation(Answer.ALWAYS, arguments)
            if reply in ("e", "edit"):
                text = await session.prompt_async("arguments (JSON): ", default=json.dumps(arguments))
                try:
                    edited = json.loads(text)
                except json.JSONDecodeError as exc:
                    self.console.print(f"[red]not valid JSON:[/] {exc.msg}")
                    continue
                if isinstance(edited, dict):
                    arguments = edited
                    self.console.print(render_request(describe_with(request, arguments)))
                continue
            return Confirmation(Answer.NO, arguments, "refused by you")


def describe_with(request: ConfirmRequest, arguments: dict[str, Any]) -> ConfirmRequest:
    fresh = describe(request.tool, arguments, request.verdict)
    fresh.referent = request.referent
    return fresh


def render_request(request: ConfirmRequest) -> Any:
    from rich.panel import Panel
    from rich.text import Text

    t = request.tool
    body = Text()
    body.append(f"{t.qualified}", style="bold")
    body.append(f"  — {request.verdict.reason}\n", style="dim")
    if request.referent:
        body.append(f"refers to: {request.referent}\n", style="cyan")
    for line in request.floor:
        body.append(f"⚠ {line}\n", style="bold red")
    for line in request.details or [f"{k}: {json.dumps(v)}" for k, v in request.arguments.items()]:
        body.append(f"  {line}\n")
    extra = {k: v for k, v in request.arguments.items() if not any(d.startswith(f"{k}:") for d in request.details)}
    if request.details and extra:
        body.append(f"  {json.dumps(extra, ensure_ascii=False)}\n", style="dim")
    if request.reversible is True:
        body.append("Can be undone with `llmos undo`.", style="green")
    elif request.reversible is False:
        body.append("Cannot be undone.", style="bold red")
    elif request.tool.builtin:
        body.append("Undo may not reverse it.", style="yellow")
    else:
        body.append("A third-party tool: llmos cannot undo it.", style="yellow")
    return Panel(body, title="Confirm", title_align="left", border_style="yellow")
