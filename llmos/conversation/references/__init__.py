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
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from llmos.conversation.references import choose, extract
from llmos.conversation.references.describe import Expression, expressions
from llmos.conversation.references.things import Entity, Resolution, display_name, fits, found_of, unique

# Where an answer's first clause ends: "Firefox is using the most CPU (45%), then Slack" is about Firefox.
_CLAUSE_END = re.compile(r"[.;:!?](?=\s|$)|[(\n—,]")
KINDS = ("file", "directory", "app", "url", "repo", "branch", "process", "commit")

# What a verb acts on: a pronoun prefers those kinds when the conversation has them — in this order when
# the verb is ordered (push a branch before a repo), else any of them (delete a file or a folder: ask).
_VERB_KINDS: list[tuple[re.Pattern[str], tuple[str, ...], bool]] = [
    (re.compile(r"\b(kill|terminate|end)\b", re.I), ("process", "app"), True),
    (re.compile(r"\b(close|quit)\b", re.I), ("app", "process"), True),
    (re.compile(r"\b(push|pull|merge|checkout|switch|rebase)\b", re.I), ("branch", "repo"), True),
    (re.compile(r"\b(commit|stage)\b", re.I), ("repo",), True),
    (re.compile(r"\b(fetch|visit|browse|bookmark)\b", re.I), ("url",), True),
    (re.compile(r"\b(delete|remove|trash|rename|move|copy|read|summari[sz]e|edit|print|cat|append)\b", re.I),
     ("file", "directory", "branch"), False),
]
# "bring it back", "restore what I deleted": the things that are gone are the ones meant.
_RESTORE = re.compile(r"\b(?:bring\s+(?:\w+\s+){0,3}back|put\s+(?:\w+\s+){0,3}back|get\s+(?:\w+\s+){0,3}back|"
                      r"restore|undelete|recover|undo)\b", re.I)
# "all of them except the last one": what follows takes things out of what came before.
_EXCEPT = re.compile(r"\b(?:except(?:\s+for)?|but\s+not|apart\s+from|other\s+than|besides|minus|all\s+but)\b", re.I)


@dataclass
class References:
    entities: list[Entity] = field(default_factory=list)
    limit: int = 200  # the memory is small on purpose: only recent things are referred to as "it"
    gone: set[str] = field(default_factory=set)  # values deleted, moved away, ended
    _seq: int = 0
    _group: int = 0
    _last_result: tuple[str, int] | None = None  # a one-set result's tool and set, while nothing came after it
    _restoring: bool = False  # the request being resolved brings something back

    # ---- observing -----------------------------------------------------------------------------------------

    def _add_group(self, found: list[extract.Found], source: str, join: bool = False) -> None:
        if not found:
            return
        self._group += 0 if join else 1
        for thing in found:
            self._seq += 1
            key = thing.value
            if thing.role == "gone":
                self.gone.add(key)
            else:
                self.gone.discard(key)
            self.entities.append(Entity(thing.kind, thing.value, source, self._seq, self._group, thing.size,
                                        thing.role, thing.cpu, thing.memory, thing.modified, thing.aliases,
                                        thing.topic))
        if len(self.entities) > self.limit:
            del self.entities[: len(self.entities) - self.limit]

    def observe_user_text(self, text: str, cwd: str | None = None) -> None:
        """Paths and URLs the person typed, and the things their words just referred to."""
        resolutions = self.resolve(text)
        mentioned = [found_of(e) for r in resolutions if not r.ambiguous for e in r.referents]
        mentioned += [f for f in self._named_in(text) if f not in mentioned]
        there = [r.referents[0].value for r in resolutions if r.expression.lower() == "there" and not r.ambiguous]
        if there:  # "create plan.md there": the new name lives there, not in the working directory
            cwd = os.path.expanduser(there[0])
        self._add_group(mentioned + extract.from_text(text, cwd, self._known_names()), "user")

    def observe_assistant_text(self, text: str) -> None:
        """Things the answer named ("Firefox is using the most CPU"), in the order it named them: they become
        what "it" means next. The first thing its first clause names, alone, is what the answer is about."""
        mentioned = self._named_in(text)
        known = self._known_names()
        named = [f for f in extract.from_text(text, known=known) if f not in mentioned]
        lowered = text.lower()

        def position(f: extract.Found) -> int:
            at = lowered.find(display_name(f).lower())
            return at if at >= 0 else len(text)

        ordered = sorted(mentioned + named, key=position)
        first_clause = len(_CLAUSE_END.split(text, maxsplit=1)[0])
        opening = [f for f in ordered if position(f) < first_clause]
        if len(opening) == 1 and len(ordered) > 1:
            ordered[ordered.index(opening[0])] = replace(opening[0], topic=True)
        self._add_group(ordered, "assistant")

    def _named_in(self, text: str) -> list[extract.Found]:
        """Known things whose name the text uses as a word: "Firefox is using the most CPU", "on payments"."""
        return [found_of(e) for _, e in self._names_at(text)]

    def _names_at(self, text: str) -> list[tuple[tuple[int, int], Entity]]:
        found = []
        for e in unique(self._live()):
            name = display_name(e)
            if len(name) < 3:
                continue
            word = re.escape(name)
            if e.kind in ("file", "directory") and name.isalpha():
                # A folder called "files" or "music" is named only as one: "the Music folder", `files`, /files
                word = rf"(?:(?<=[`'\"/]){word}|{word}(?=[`'\"/]|\s+(?:folder|directory|dir)\b)" \
                       rf"|(?<=folder |ectory ){word})"
            match = re.search(rf"(?<![\w.]){word}(?!\w|\.\w)", text, re.I)
            if match:
                found.append((match.span(), e))
        return found

    def _known_names(self) -> dict[str, extract.Found]:
        """Known files and folders by their base name, newest last: a bare "notes.txt" is that one."""
        return {os.path.basename(e.value.rstrip("/")): found_of(e) for e in sorted(self._live(), key=lambda e: e.seq)
                if e.kind in ("file", "directory")}

    def observe_tool_call(self, tool: str, arguments: dict[str, Any], paths: Iterable[str] = (),
                          urls: Iterable[str] = ()) -> None:
        """``paths`` and ``urls``: the arguments the tool declares as paths and URLs (its server's facts)."""
        self._add_group(extract.from_call(tool, arguments, paths, urls), "tool call")

    def observe_tool_result(self, tool: str, structured: dict[str, Any] | None) -> None:
        """Things from a structured result; each list in it (the five biggest files) is one set. Results of
        the same tool one after another (two downloads, three moves) form one set: "it" after them asks."""
        if not structured:
            return
        groups = extract.from_result(tool, structured)
        join = len(groups) == 1 and self._last_result == (tool, self._group)
        for i, group in enumerate(groups):
            self._add_group(group, "tool result", join=join and i == 0)
        self._last_result = (tool, self._group) if len(groups) == 1 else None

    # ---- resolving -----------------------------------------------------------------------------------------

    def resolve(self, text: str) -> list[Resolution]:
        verb = next(((kinds, ordered) for pattern, kinds, ordered in _VERB_KINDS if pattern.search(text)), ((), False))
        self._restoring = bool(_RESTORE.search(text))
        found: list[Resolution] = []
        spans: list[tuple[int, int]] = []
        cut = _EXCEPT.search(text)
        listed = expressions(text)
        if cut and cut.group(0).lower().startswith("all") and not any(e.start < cut.start() for e in listed):
            listed.insert(0, Expression("all", cut.start(), cut.start() + 3, plural=True, pronoun="all of them"))
        removed: list[Entity] = []
        for expression in listed:
            spans.append((expression.start, expression.end))
            earlier = [r for r in found if not r.ambiguous and len(r.referents) == 1 and r.expression != "there"]
            if expression.pronoun in ("it", "that", "this", "that one", "this one") and earlier:
                # "the writer one is frozen, kill it": the pronoun points back at what this request named
                found.append(Resolution(expression.text, earlier[-1].referents))
                continue
            resolution = self._resolve(expression, *verb)
            if resolution is not None and cut and expression.start >= cut.end() and found:
                removed += resolution.referents  # "… except the last one"
            elif resolution is not None:
                found.append(resolution)
        if removed:
            found = [replace(r, referents=[e for e in r.referents if e.value not in {x.value for x in removed}])
                     for r in found]
        return found + self._named_resolutions(text, spans)

    def _named_resolutions(self, text: str, spans: list[tuple[int, int]]) -> list[Resolution]:
        """Things the request calls by their own name ("is spotify using that much", "my changes to main.py"),
        when exactly one known thing has that name."""
        by_name: dict[str, list[tuple[tuple[int, int], Entity]]] = {}
        for span, e in self._names_at(text):
            if not any(s < span[1] and span[0] < t for s, t in spans):
                by_name.setdefault(display_name(e).lower(), []).append((span, e))
        return [Resolution(text[hits[0][0][0]:hits[0][0][1]], [hits[0][1]]) for hits in by_name.values()
                if len({e.value for _, e in hits}) == 1]

    def _live(self) -> list[Entity]:
        if self._restoring:  # "bring it back": what is gone counts too
            return list(self.entities)
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
        if expression.source:
            candidates = [e for e in candidates if e.source == expression.source]
        if not candidates:
            return None
        if expression.other:
            return choose.other(expression.text, candidates, self._live())
        if expression.source and expression.ordinal is not None:  # "the one you mentioned first"
            latest = max(candidates, key=lambda e: e.seq)
            said = [e for e in candidates if e.group == latest.group]
            return Resolution(expression.text, [said[expression.ordinal if expression.ordinal < len(said) else -1]])
        if expression.ordinal is not None or expression.superlative:
            if expression.plural and expression.count is None:
                return None  # "the biggest files in ~/Videos" asks for a new listing; it points at none
            picked = choose.pick(candidates, expression)
            return Resolution(expression.text, picked) if picked else None
        latest = max(candidates, key=lambda e: e.seq)
        members = unique([e for e in candidates if e.group == latest.group])
        if expression.plural:
            return Resolution(expression.text, members)
        members = choose.narrow(members, expression)
        if len(members) > 1:  # "it" after a list of several: the person must say which
            return Resolution(expression.text, members, ambiguous=True)
        return Resolution(expression.text, members)

    def _candidates(self, expression: Expression) -> list[Entity]:
        live = self._live()
        candidates = [e for e in live if fits(e, expression)]
        if not candidates and expression.role and expression.role_word:  # "the backup folder" names a folder
            expression = replace(expression, role="", words=(*expression.words, expression.role_word))
            candidates = [e for e in live if fits(e, expression)]
        if not candidates and expression.places:  # "the one on 5432": a word it goes by, not a folder
            candidates = [e for e in live if fits(e, replace(expression, places=(), words=expression.places))]
        if not candidates and expression.places:  # "open the pdf in firefox": where to open it, not where it is
            expression = replace(expression, places=())
            candidates = [e for e in live if fits(e, expression)]
        if not candidates and expression.words:  # "the ssh one": ~/.ssh/config has ssh in its path, not its name
            candidates = [e for e in live if fits(e, expression, whole_path=True)]
        if expression.head in ("page", "site", "website") and not expression.words:
            candidates = [e for e in candidates if e.role == "page"] or candidates  # the page, not its links
        if not candidates and expression.extensions:  # "the python one" among links: a word of a name
            words = replace(expression, extensions=frozenset(), kinds=expression.head_kinds,
                            words=(*expression.words, *expression.kind_words))
            candidates = [e for e in live if fits(e, words)] or [e for e in live if fits(e, words, True)]
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


