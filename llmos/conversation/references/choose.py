"""Which of the things that fit a description is meant: a position, a size, load or time in the last listing,
"the other one", or the one a kind word also names."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from llmos.conversation.references.describe import Expression
from llmos.conversation.references.things import Entity, Resolution, name_tokens, unique

_METRICS: dict[str, Callable[[Entity], float | str | None]] = {
    "size": lambda e: e.size, "small": lambda e: e.size, "cpu": lambda e: e.cpu, "memory": lambda e: e.memory,
    "new": lambda e: e.modified, "old": lambda e: e.modified}
_LOWEST = {"small", "old"}


def pick(candidates: list[Entity], expression: Expression) -> list[Entity]:
    """Members of the last listing (a tool result's set) by position ("the second one", "the first two"),
    size, load or time; empty when the listing cannot say."""
    listed = [e for e in candidates if e.source == "tool result"]
    groups: dict[int, list[Entity]] = {}
    for e in listed:
        groups.setdefault(e.group, []).append(e)
    sets = [g for g in groups.values() if len(unique(g)) > 1] or list(groups.values())
    if not sets:
        return []
    members = unique(max(sets, key=lambda g: max(e.seq for e in g)))
    if expression.superlative == "size" and not any(e.size for e in members) and any(e.memory for e in members):
        expression = replace(expression, superlative="memory")  # "the biggest one" in a process table
    if expression.superlative in ("new", "old") and all(e.kind == "commit" for e in members) \
            and not any(e.modified for e in members):
        expression = replace(expression, superlative="", ordinal=0 if expression.superlative == "new" else -1)
    if expression.superlative:  # git log lists the newest first, so "the latest commit" is its first
        metric = _METRICS[expression.superlative]
        measured = [e for e in members if metric(e) is not None]
        if not measured:
            return []
        best = min if expression.superlative in _LOWEST else max
        return [best(measured, key=lambda e: metric(e) or 0)]
    position = expression.ordinal or 0
    if expression.count:  # "the first two", "the last three"
        return members[:expression.count] if position >= 0 else members[-expression.count:]
    return [members[position]] if -len(members) <= position < len(members) else []


def other(text: str, candidates: list[Entity], live: list[Entity]) -> Resolution:
    """ "The other branch", "delete the other one": a set the conversation showed, minus the one of it that
    was singled out since (named alone, current, acted on). Several left: ambiguous."""
    sets: list[list[Entity]] = []
    for group in sorted({e.group for e in candidates}):
        members = unique([e for e in candidates if e.group == group])
        if len({e.kind for e in members}) == 1 and len(members) > 1:
            sets.append(members)
    best: tuple[int, list[Entity]] | None = None
    for members in sets:
        singled = _singled(members[0].kind, live)
        if singled is None or singled.value not in {e.value for e in members}:
            continue
        rest = [e for e in members if e.value != singled.value]
        if best is None or singled.seq >= best[0]:
            best = (singled.seq, rest)
    if best is None:
        everything = sets[-1] if sets else unique(candidates)
        return Resolution(text, everything, ambiguous=len(everything) != 1)
    return Resolution(text, best[1], ambiguous=len(best[1]) != 1)


def _singled(kind: str, live: list[Entity]) -> Entity | None:
    """The latest thing of ``kind`` seen on its own: alone of its kind in what showed it, or the current one."""
    alone = [e for e in live if e.kind == kind and (e.role == "current" or
                                                    sum(x.group == e.group and x.kind == kind for x in live) == 1)]
    return max(alone, key=lambda e: e.seq) if alone else None


def narrow(members: list[Entity], expression: Expression) -> list[Entity]:
    """Several fit: the one the answer was about, or the one whose own name says the kind ("the photo" among
    diagram.png and photo.png). Otherwise all of them, and the person is asked."""
    if len(members) < 2:
        return members
    topical = [e for e in members if e.topic]
    if len(topical) == 1:
        return topical
    named = [e for e in members if set(expression.kind_words) & name_tokens(e)]
    return named if len(named) == 1 else members
