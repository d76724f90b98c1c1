"""The confirmation gate: whether a tool call runs, asks, or is refused — decided in code, never by the model.

Order: the user's rules (deny → ask → allow) first; then "always" approvals given this session; then the
tool's annotations (read-only runs; anything that may destroy asks — MCP's defaults say an unannotated
tool is destructive). Annotations are believed from built-in servers and from third-party servers the
person trusts (`trust_annotations: true`); any other third-party tool asks the first time it is used in
a session, and only a read-only claim it was once allowed with runs unasked after that.

The floor (llmos.agent.floor) is decided before any of this, in llmos.agent.authorize: no rule lifts it.
"""

from __future__ import annotations

import enum
import fnmatch
import os
from dataclasses import dataclass, field
from typing import Any

from llmos.agent.host import ToolInfo
from llmos.errors import ConfigError


class Decision(enum.StrEnum):
    ALLOW = "allow"
    ASK = "ask"
    DENY = "deny"


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    reason: str
    by: str  # rule | session | annotation


@dataclass(frozen=True)
class Rule:
    decision: Decision
    tool: str  # glob over "server.tool", e.g. "filesystem.delete" or "git.*"
    when: dict[str, str] = field(default_factory=dict)  # argument -> glob, e.g. {"path": "~/tmp/**"}

    def matches(self, tool: ToolInfo, arguments: dict[str, Any]) -> bool:
        if not fnmatch.fnmatchcase(tool.qualified, self.tool):
            return False
        for name, pattern in self.when.items():
            if name not in arguments or not _matches_value(arguments[name], pattern):
                return False
        return True


def _matches_value(value: Any, pattern: str) -> bool:
    text = str(value)
    if pattern.startswith("~") or text.startswith("~") or pattern.startswith("/"):
        text = os.path.realpath(os.path.expanduser(text))
        pattern = os.path.expanduser(pattern)
        if pattern.endswith("/**"):  # a folder and everything under it
            base = os.path.realpath(pattern[:-3])
            return text == base or text.startswith(base + os.sep)
    return fnmatch.fnmatchcase(text, pattern)


def parse_rules(raw: Any) -> list[Rule]:
    """Rules from config `gate.rules`: [{decision: allow|ask|deny, tool: GLOB, when: {arg: GLOB}}]."""
    rules = []
    for i, item in enumerate(raw or []):
        where = f"gate.rules[{i}]"
        if not isinstance(item, dict) or "tool" not in item or "decision" not in item:
            raise ConfigError(f"{where}: expected {{decision: allow|ask|deny, tool: server.tool, when: {{…}}}}")
        try:
            decision = Decision(item["decision"])
        except ValueError:
            raise ConfigError(f"{where}.decision: expected allow, ask or deny, got {item['decision']!r}") from None
        when = item.get("when") or {}
        if not isinstance(when, dict):
            raise ConfigError(f"{where}.when: expected a mapping of argument names to patterns")
        rules.append(Rule(decision, str(item["tool"]), {str(k): str(v) for k, v in when.items()}))
    return rules


class Gate:
    def __init__(self, rules: list[Rule] | None = None):
        self.rules = rules or []
        self.always: set[str] = set()  # qualified tool names the user approved for this session
        self.approved_once: set[tuple[str, str]] = set()  # untrusted third-party tools allowed once this session

    def judge(self, tool: ToolInfo, arguments: dict[str, Any]) -> Verdict:
        for decision in (Decision.DENY, Decision.ASK, Decision.ALLOW):
            for rule in self.rules:
                if rule.decision is decision and rule.matches(tool, arguments):
                    return Verdict(decision, f"rule: {decision} {rule.tool}", "rule")
        if tool.qualified in self.always:
            return Verdict(Decision.ALLOW, "approved for this session", "session")
        if not tool.trusted:
            return self._untrusted(tool)
        if tool.read_only:
            return Verdict(Decision.ALLOW, "read-only", "annotation")
        if tool.builtin and not tool.destructive:
            return Verdict(Decision.ALLOW, "creates, destroys nothing", "annotation")
        if tool.builtin:
            return Verdict(Decision.ASK, "may delete, overwrite or change things", "annotation")
        return Verdict(Decision.ASK, "third-party tool not marked read-only", "annotation")

    def _untrusted(self, tool: ToolInfo) -> Verdict:
        """A third-party server's annotations are hints: ask first; a read-only claim holds once allowed."""
        if not tool.read_only:
            return Verdict(Decision.ASK, "third-party tool not marked read-only", "annotation")
        if tool.identity in self.approved_once:
            return Verdict(Decision.ALLOW, "read-only (a third-party hint), allowed once this session", "session")
        return Verdict(Decision.ASK, "third-party tool, first use this session (it says it is read-only; "
                       "that is only a hint)", "annotation")
