"""What "it", "the pdf", "the second one", "the copy" and "there" refer to.

A small typed memory of the things the conversation showed — files, folders, apps, URLs, repos, branches,
processes, commits — with where each came from, when, and its role (a copy, a move's new place, a
download). extract.py takes them from tool calls, tool results and text; describe.py reads what the
request says about the thing it means; this module picks the thing. When two things fit equally, the
resolution is marked ambiguous: the agent asks rather than guesses.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from typing import Any

from llmos.conversation.references import extract
from llmos.conversation.references.describe import Expression, expressions

KINDS = ("file", "directory", "app", "url", "repo", "branch", "process", "commit")

_DESTRUCTIVE_WORDS = re.compile(r"\b(delete|remove|erase|trash|rm|kill|stop|close|quit|overwrite|move|rename|"
                                r"reset|push|wipe|drop|uninstall|discard|end|terminate|shred)\b", re.I)
# What a verb acts on: a pronoun prefers those kinds when the conversation has them — in this order when
# the verb is ordered (push a branch before a repo), else any of them (delete a file or a folder: ask).
_VERB_KINDS: list[tuple[re.Pattern[str], tuple[str, ...], bool]] = [
    (re.compile(r"\b(kill|terminate|end)\b", re.I), ("process", "app"), True),
    (re.compile(r"\b(close|quit)\b", re.I), ("app", "process"), True),
    (re.compile(r"\b(push|pull|merge|checkout|switch|rebase)\b", re.I), ("branch", "repo"), True),
    (re.compile(r"\b(commit|stage)\b", re.I), ("repo",), True),
    (re.compile(r"\b(fetch|visit|browse|bookmark)\b", re.I), ("url",), True),
    (re.compile(r"\b(delete|remove|trash|rename|move|copy|read|summari[sz]e|edit|print|cat|append)\b", re.I),
     ("file", "directory"), False),
]


@dataclass(frozen=True)
class Entity:
    kind: str
    value: str  # a path (~ form), URL, app name, branch name, "name (pid N)" or "sha subject"
    source: str  # user | assistant | tool call | tool result
    seq: int  # when it was observed: larger is more recent
    group: int  # things observed together (one tool result's list) share a group
    size: int | None = None  # bytes, when a tool reported it ("the biggest one")
    role: str = ""  # original | copy | new | download | gone
    cpu: float | None = None
    memory: int | None = None

    def __str__(self) -> str:
        return self.value


@dataclass
class Resolution:
    expression: str  # the words in the request, e.g. "it" or "the pdf"
    referents: list[Entity]
    ambiguous: bool = False  # several things fit a singular reference equally well

    def describe(self) -> str:
        if self.ambiguous:
            return f"{self.expression} → ? ({' or '.join(e.value for e in self.referents[:4])})"
        return f"{self.expression} → {', '.join(e.value for e in self.referents)}"


def is_destructive_request(text: str) -> bool:
    return bool(_DESTRUCTIVE_WORDS.search(text))


@dataclass
class References:
    entities: list[Entity] = field(default_factory=list)
    limit: int = 200  # the memory is small on purpose: only recent things are referred to as "it"
    gone: set[str] = field(default_factory=set)  # values deleted, moved away, ended
    _seq: int = 0
    _group: int = 0

    # ---- observing -----------------------------------------------------------------------------------------

    def _add_group(self, found: list[extract.Found], source: str) -> None:
        if not found:
            return
        self._group += 1
        for thing in found:
            self._seq += 1
            key = thing.value
            if thing.role == "gone":
                self.gone.add(key)
            else:
                self.gone.discard(key)
            self.entities.append(Entity(thing.kind, thing.value, source, self._seq, self._group, thing.size,
                                        thing.role, thing.cpu, thing.memory))
        if len(self.entities) > self.limit:
            del self.entities[: len(self.entities) - self.limit]

    def observe_user_text(self, text: str, cwd: str | None = None) -> None:
        """Paths and URLs the person typed, and the things their words just referred to."""
        resolutions = self.resolve(text)
        mentioned = [_found(e) for r in resolutions if not r.ambiguous for e in r.referents]
        mentioned += [f for f in self._named_in(text) if f not in mentioned]
        there = [r.referents[0].value for r in resolutions if r.expression.lower() == "there" and not r.ambiguous]
        if there:  # "create plan.md there": the new name lives there, not in the working directory
            cwd = os.path.expanduser(there[0])
        self._add_group(mentioned + extract.from_text(text, cwd, self._known_names()), "user")

    def observe_assistant_text(self, text: str) -> None:
        """Things the answer named ("Firefox is using the most CPU"): they become what "it" means next."""
        mentioned = self._named_in(text)
        known = self._known_names()
        named = [f for f in extract.from_text(text, known=known) if f not in mentioned]
        self._add_group(mentioned + named, "assistant")

    def _named_in(self, text: str) -> list[extract.Found]:
        """Known things whose name the text uses as a word: "Firefox is using the most CPU", "on payments"."""
        mentioned = []
        for e in _unique(self._live()):
            name = _display_name(e)
            if len(name) >= 3 and re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", text, re.I):
                mentioned.append(_found(e))
        return mentioned

    def _known_names(self) -> dict[str, extract.Found]:
        """Known files and folders by their base name, newest last: a bare "notes.txt" is that one."""
        return {os.path.basename(e.value.rstrip("/")): _found(e) for e in sorted(self._live(), key=lambda e: e.seq)
                if e.kind in ("file", "directory")}

    def observe_tool_call(self, tool: str, arguments: dict[str, Any]) -> None:
        self._add_group(extract.from_call(tool, arguments), "tool call")

    def observe_tool_result(self, tool: str, structured: dict[str, Any] | None) -> None:
        """Things from a structured result; each list in it (the five biggest files) is one set."""
        if structured:
            for group in extract.from_result(tool, structured):
                self._add_group(group, "tool result")

    # ---- resolving -----------------------------------------------------------------------------------------

    def resolve(self, text: str) -> list[Resolution]:
        verb = next(((kinds, ordered) for pattern, kinds, ordered in _VERB_KINDS if pattern.search(text)), ((), False))
        found: list[Resolution] = []
        for expression in expressions(text):
            earlier = [r for r in found if not r.ambiguous and len(r.referents) == 1 and r.expression != "there"]
            if expression.pronoun in ("it", "that", "this", "that one", "this one") and earlier:
                # "the writer one is frozen, kill it": the pronoun points back at what this request named
                found.append(Resolution(expression.text, earlier[-1].referents))
                continue
            resolution = self._resolve(expression, *verb)
            if resolution is not None:
                found.append(resolution)
        return found

    def _live(self) -> list[Entity]:
        return [e for e in self.entities if e.value not in self.gone]

    def _resolve(self, expression: Expression, verb_kinds: tuple[str, ...], ordered: bool) -> Resolution | None:
        if expression.pronoun == "there":
            return self._there(expression)
        candidates = self._candidates(expression)
        if expression.pronoun and verb_kinds:
            preferred = [e for e in candidates if e.kind in verb_kinds]
            if ordered and preferred:
                first = next(k for k in verb_kinds if any(e.kind == k for e in preferred))
                preferred = [e for e in preferred if e.kind == first]
            candidates = preferred or candidates
        if not candidates:
            return None
        if expression.ordinal is not None or expression.superlative:
            if expression.plural:
                return None  # "the biggest files in ~/Videos" asks for a new listing; it points at none
            picked = _pick(candidates, expression)
            return Resolution(expression.text, [picked]) if picked else None
        latest = max(candidates, key=lambda e: e.seq)
        members = _unique([e for e in candidates if e.group == latest.group])
        if expression.plural:
            return Resolution(expression.text, members)
        if len(members) > 1:  # "it" after a list of several: the person must say which
            return Resolution(expression.text, members, ambiguous=True)
        return Resolution(expression.text, [latest])

    def _candidates(self, expression: Expression) -> list[Entity]:
        live = self._live()
        candidates = [e for e in live if _fits(e, expression)]
        if not candidates and expression.role and expression.role_word:  # "the backup folder" names a folder
            expression = replace(expression, role="", words=(*expression.words, expression.role_word))
            candidates = [e for e in live if _fits(e, expression)]
        if not candidates and expression.places:  # "open the pdf in firefox": where to open it, not where it is
            expression = replace(expression, places=())
            candidates = [e for e in live if _fits(e, expression)]
        if not candidates and expression.words:  # "the ssh one": ~/.ssh/config has ssh in its path, not its name
            candidates = [e for e in live if _fits(e, expression, whole_path=True)]
        if expression.head in ("page", "site", "website") and not expression.words:
            candidates = [e for e in candidates if e.role == "page"] or candidates  # the page, not its links
        if not candidates and expression.extensions:  # "the python one" among links: a word of a name
            words = replace(expression, extensions=frozenset(), kinds=expression.head_kinds,
                            words=(*expression.words, *expression.kind_words))
            candidates = [e for e in live if _fits(e, words)] or [e for e in live if _fits(e, words, True)]
        return candidates

    def _there(self, expression: Expression) -> Resolution | None:
        places = [e for e in self._live() if e.kind in ("directory", "file")]
        if not places:
            return None
        latest = max(places, key=lambda e: e.seq)
        if latest.kind == "file":
            latest = Entity("directory", os.path.dirname(latest.value), latest.source, latest.seq, latest.group)
        return Resolution(expression.text, [latest])

    def block(self, max_items: int = 8) -> str:
        """A compact "Recently referenced" note for the prompt, newest first."""
        seen, lines = set(), []
        for e in sorted(self._live(), key=lambda e: -e.seq):
            if (e.kind, e.value) in seen:
                continue
            seen.add((e.kind, e.value))
            lines.append(f"- {e.kind}: {e.value}" + (f" ({e.role})" if e.role in ("copy", "original") else ""))
            if len(lines) >= max_items:
                break
        return "Recently referenced (newest first):\n" + "\n".join(lines) if lines else ""

    def to_json(self) -> list[dict[str, Any]]:
        return [e.__dict__ for e in self.entities]


_ROLE_FITS = {"original": {"original"}, "copy": {"copy"}, "new": {"new", "copy", "download"},
              "download": {"download"}}


def _found(e: Entity) -> extract.Found:
    return extract.Found(e.kind, e.value, e.role, e.size, e.cpu, e.memory)


def _fits(entity: Entity, expression: Expression, whole_path: bool = False) -> bool:
    if expression.kinds and entity.kind not in expression.kinds:
        return False
    if expression.extensions and _extension(entity.value) not in expression.extensions:
        return False
    if expression.role and entity.role not in _ROLE_FITS[expression.role]:
        return False
    if expression.places and (entity.kind not in ("file", "directory")
                              or not set(expression.places) <= _name_tokens(entity, True) - _name_tokens(entity)):
        return False
    if expression.words:
        tokens = _name_tokens(entity, whole_path)
        return all(any(t == w or (len(w) >= 3 and t.startswith(w)) for t in tokens) for w in expression.words)
    return True


def _pick(candidates: list[Entity], expression: Expression) -> Entity | None:
    """One member of the last listing (a tool result's set), by position, size or load."""
    listed = [e for e in candidates if e.source == "tool result"]
    groups: dict[int, list[Entity]] = {}
    for e in listed:
        groups.setdefault(e.group, []).append(e)
    sets = [g for g in groups.values() if len(_unique(g)) > 1] or list(groups.values())
    if not sets:
        return None
    members = _unique(max(sets, key=lambda g: max(e.seq for e in g)))
    if expression.superlative == "size" and not any(e.size for e in members) and any(e.memory for e in members):
        expression = replace(expression, superlative="memory")  # "the biggest one" in a process table
    if expression.superlative:
        metric = {"size": lambda e: e.size, "small": lambda e: e.size, "cpu": lambda e: e.cpu,
                  "memory": lambda e: e.memory}[expression.superlative]
        measured = [e for e in members if metric(e) is not None]
        if not measured:
            return None
        choose = min if expression.superlative == "small" else max
        return choose(measured, key=lambda e: metric(e) or 0)
    position = expression.ordinal or 0
    return members[position] if -len(members) <= position < len(members) else None


def _extension(value: str) -> str:
    base = os.path.basename(value.rstrip("/"))
    return base.rsplit(".", 1)[1].lower() if "." in base.lstrip(".") else ""


def _display_name(entity: Entity) -> str:
    if entity.kind in ("process", "app"):
        return entity.value.split(" (pid ", 1)[0]
    if entity.kind in ("file", "directory"):
        return os.path.basename(entity.value.rstrip("/"))
    return entity.value


def _name_tokens(entity: Entity, whole_path: bool = False) -> set[str]:
    name = (entity.value.removeprefix("~/") if whole_path else _display_name(entity)).lower()
    if entity.kind == "url":
        name = re.sub(r"^https?://(www\.)?", "", name)
    return {t for t in re.split(r"[\s/_.\-:()]+", name) if t} | {name}


def _unique(entities: list[Entity]) -> list[Entity]:
    seen, out = set(), []
    for e in sorted(entities, key=lambda e: e.seq):
        if (e.kind, e.value) not in seen:
            seen.add((e.kind, e.value))
            out.append(e)
    return out
