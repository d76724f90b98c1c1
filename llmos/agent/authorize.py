"""One path for every action: gate → (dry run) → confirm → run → audit, returning a typed outcome.

The agent loop (tool calls from the model) and the shell's `!` escape both go through ``Authorizer.run``,
so a rule, a dry run, a refusal and its audit record mean the same thing wherever an action came from.
The exit status of `llmos run` is derived from these outcomes in one place, ``exit_status``.
"""

from __future__ import annotations

import enum
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from llmos.agent import facts
from llmos.agent.audit import AuditLog
from llmos.agent.confirm import Answer, Confirmer, describe
from llmos.agent.floor import Floor
from llmos.agent.gate import Decision, Gate, Verdict
from llmos.agent.host import ToolInfo, ToolOutcome
from llmos.errors import ExitStatus
from llmos.redact import looks_secret

log = logging.getLogger(__name__)


class By(enum.StrEnum):
    """Who decided: recorded in the audit log's ``by``."""

    ANNOTATION = "annotation"  # the tool's (trusted) annotations
    RULE = "rule"  # a gate.rules entry
    SESSION = "session"  # an "always" given earlier this session
    USER = "user"  # the person's own answer
    FLAG = "flag"  # --yes, --allow, /yes, --dry-run
    NO_TERMINAL = "no-terminal"  # it needed a yes and there was nobody to ask
    FLOOR = "floor"  # the floor no flag lifts (llmos.agent.floor)
    VALIDATION = "validation"  # the call itself was malformed


@dataclass(frozen=True)
class Ran:
    """The call ran (it may still have failed: ``result.ok``)."""

    arguments: dict[str, Any]
    by: By
    result: ToolOutcome
    decision: str = "allow"

    @property
    def status(self) -> str:
        return "ok" if self.result.ok else "error"


@dataclass(frozen=True)
class Cancelled:
    """The call was started and cancelled (Ctrl-C)."""

    arguments: dict[str, Any]
    by: By
    decision: str = "allow"
    status: str = "cancelled"


@dataclass(frozen=True)
class Refused:
    """It needed a yes and did not get one: the person said no, nobody could be asked, or the floor."""

    by: By
    reason: str
    decision: str = "refused"
    status: str = "refused"


@dataclass(frozen=True)
class Denied:
    """A deny rule forbids it."""

    rule: str
    by: By = By.RULE
    decision: str = "deny"
    status: str = "refused"


@dataclass(frozen=True)
class DryRun:
    """Not run because of a dry run."""

    by: By = By.FLAG
    decision: str = "dry-run"
    status: str = "refused"


@dataclass(frozen=True)
class Invalid:
    """Not run: no such tool, or arguments that do not fit its schema."""

    problem: str
    by: By = By.VALIDATION
    decision: str = "refused"
    status: str = "refused"


Outcome = Ran | Cancelled | Refused | Denied | DryRun | Invalid
SKIPPED = (Refused, Denied, DryRun)  # an action the person asked for did not happen: exit status 4


def exit_status(outcomes: list[Outcome]) -> ExitStatus:
    """The exit status of a run from what became of its calls: 4 when any action was skipped (refused,
    denied, or not run because of --dry-run), else 0."""
    return ExitStatus.REFUSED if any(isinstance(o, SKIPPED) for o in outcomes) else ExitStatus.OK


Execute = Callable[[dict[str, Any]], Awaitable[ToolOutcome | None]]  # None: cancelled


class Authorizer:
    def __init__(self, gate: Gate, confirmer: Confirmer, audit: AuditLog, *, dry_run: bool = False,
                 floor: Floor | None = None):
        self.gate, self.confirmer, self.audit = gate, confirmer, audit
        self.dry_run = dry_run
        self.floor = floor or Floor()
        self.read_content = ""  # what this turn has read (a file's content, something secret-looking), if any
        self._carried = ""  # read by a `!` command: its output is context for the next turn

    def start_turn(self, history_read: bool = False) -> None:
        """A new turn. What earlier turns read stays in the conversation the model sees, so it still counts:
        the flag is never lowered within a session, and ``history_read`` raises it for a resumed session whose
        history holds tool results (`--continue`)."""
        if history_read and not self.read_content:
            self.read_content = "tool results earlier in this conversation"
        self.read_content = self.read_content or self._carried
        self._carried = ""

    async def run(self, tool: ToolInfo, arguments: dict[str, Any], execute: Execute, *,
                  referent: str | None = None) -> Outcome:
        """Decide, ask if needed, run through ``execute`` and audit; what happened comes back typed."""
        decided = await self.decide(tool, arguments, referent=referent)
        if not isinstance(decided, _Go):
            self.record(tool, arguments, decided)
            return decided
        result = await execute(decided.arguments)
        outcome: Outcome = (Cancelled(decided.arguments, decided.by) if result is None
                            else Ran(decided.arguments, decided.by, result))
        self.record(tool, decided.arguments, outcome)
        if result is not None and result.ok:
            self._observe(tool, result)
        return outcome

    def _observe(self, tool: ToolInfo, result: ToolOutcome) -> None:
        """Remember that this turn has read data that must not leave the machine unasked."""
        if any(looks_secret(text) for text in (result.text, *_strings(result.structured))):
            what = f"something secret-looking (from {tool.qualified})"
        elif facts.reads_content(tool):  # declared by the server: a listing or disk usage is not content
            what = f"file content (from {tool.qualified})"
        else:
            return
        self.read_content = self.read_content or what
        if tool.server == "shell":
            self._carried = self._carried or what

    async def decide(self, tool: ToolInfo, arguments: dict[str, Any], *, referent: str | None = None
                     ) -> _Go | Refused | Denied | DryRun:
        verdict = self.gate.judge(tool, arguments)
        if verdict.decision is Decision.DENY:
            return Denied(verdict.reason)
        if self.dry_run and not tool.read_only:
            return DryRun()
        floor = self.floor.check(tool, arguments) + self._leaving(tool, arguments)
        if floor:  # before rules, "always" and flags: none of them may approve it
            verdict = Verdict(Decision.ASK, "on the floor: always asked, whatever the flags", "floor")
        if verdict.decision is Decision.ALLOW:
            return _Go(arguments, By(verdict.by))
        request = describe(tool, arguments, verdict)
        request.referent = referent
        request.floor = floor
        answer = await self.confirmer.confirm(request)
        by = By(answer.by) if answer.by else By.USER
        if answer.answer is Answer.NO:
            return Refused(by, answer.note or "refused")
        if answer.answer is Answer.ALWAYS and not floor:
            self.gate.always.add(tool.qualified)
        if not tool.trusted:
            self.gate.approved_once.add(tool.identity)
        return _Go(answer.arguments, by)

    def _leaving(self, tool: ToolInfo, arguments: dict[str, Any]) -> list[str]:
        """Why this call is on the floor as a possible exfiltration: once the turn has read file content or
        something secret-looking, a call that may carry data off the machine is asked with its destination,
        like the floor — `--yes`, `--allow`, a rule or "always" were given before anyone knew what the data
        would be, so they cannot approve sending it."""
        # An untrusted third-party tool's read-only claim is a hint: it may send what it is given anywhere.
        if not self.read_content or not (facts.sends_off_machine(tool) or not tool.trusted):
            return []
        where = [str(arguments[k]) for k in facts.url_args(tool) if isinstance(arguments.get(k), str)]
        to = f"to {', '.join(where)}" if where else f"through {tool.qualified} (where to is the tool's choice)"
        return [f"sends data off the machine {to}, after this turn read {self.read_content}"]

    def record(self, tool: ToolInfo | None, arguments: dict[str, Any], outcome: Outcome, *,
               name: str = "") -> None:
        """One audit line for ``outcome``; a full disk must not stop the session (it is logged)."""
        duration = outcome.result.duration_s if isinstance(outcome, Ran) else None
        note = _note(outcome)
        try:
            self.audit.record(server=tool.server if tool else "?", tool=tool.name if tool else name,
                              arguments=arguments, decision=outcome.decision, by=str(outcome.by),
                              status=outcome.status, duration_s=duration, note=note[:300])
        except OSError:
            log.warning("could not write the audit log", exc_info=True)


@dataclass(frozen=True)
class _Go:
    """Approved: run with these (possibly edited) arguments."""

    arguments: dict[str, Any]
    by: By


def _strings(value: Any) -> list[str]:
    """Every string inside a structured result (JSON escapes would hide what a text holds)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _note(outcome: Outcome) -> str:
    if isinstance(outcome, Ran):
        return "" if outcome.result.ok else outcome.result.text
    if isinstance(outcome, Refused):
        return outcome.reason
    if isinstance(outcome, Denied):
        return outcome.rule
    if isinstance(outcome, Invalid):
        return outcome.problem
    return ""


def describe_outcome(tool: ToolInfo | None, arguments: dict[str, Any], outcome: Outcome) -> str:
    """What the model reads when a call did not run."""
    if isinstance(outcome, Denied):
        return f"Not allowed by the user's rules ({outcome.rule})."
    if isinstance(outcome, DryRun):
        return f"Dry run: {tool.qualified if tool else '?'} {json.dumps(arguments)} was not run."
    if isinstance(outcome, Refused):
        return f"The user did not allow this ({outcome.reason}). Do not retry it."
    if isinstance(outcome, Invalid):
        return outcome.problem
    return ""
