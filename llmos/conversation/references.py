"""What "it", "that file", "them", "the folder" and "there" refer to.

A small typed memory of the entities the conversation touched — files, folders, apps, URLs, repos,
branches, processes — with where each came from and when. Structured tool results are the best source
(their fields say exactly what a thing is); user text is parsed for paths, URLs and app names.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from llmos.paths import display

KINDS = ("file", "directory", "app", "url", "repo", "branch", "process")


@dataclass(frozen=True)
class Entity:
    kind: str
    value: str  # a path (~ form), URL, app name, branch name, or "name (pid N)"
    source: str  # user | tool call | tool result
    seq: int  # when it was observed: larger is more recent
    group: int  # entities observed together (one tool result's list) share a group
    size: int | None = None  # bytes, when a tool reported it ("the biggest one")

    def __str__(self) -> str:
        return self.value


@dataclass
class Resolution:
    expression: str  # the words in the request, e.g. "it" or "those files"
    referents: list[Entity]
    ambiguous: bool = False  # several equally likely candidates for a singular reference

    def describe(self) -> str:
        if self.ambiguous:
            return f"{self.expression} → ? ({' or '.join(e.value for e in self.referents[:4])})"
        return f"{self.expression} → {', '.join(e.value for e in self.referents)}"


# "the first one", "the biggest one": one member of the last set, by position or by size.
_ORDINAL = re.compile(r"\b(?:the )?(first|second|third|fourth|fifth|last|biggest|largest|smallest) (one|file|folder)\b",
                      re.I)
_POSITIONS = {"first": 0, "second": 1, "third": 2, "fourth": 3, "fifth": 4, "last": -1}

# Referring expressions, most specific first. (pattern, plural, kinds it prefers)
_EXPRESSIONS: list[tuple[re.Pattern[str], bool, tuple[str, ...]]] = [
    (re.compile(r"\b(those|these|the|all (of )?the(se|ose)?) (files|documents|pictures|photos|images)\b", re.I),
     True, ("file",)),
    (re.compile(r"\b(those|these|the) (folders|directories)\b", re.I), True, ("directory",)),
    (re.compile(r"\b(those|these|the) (processes|programs)\b", re.I), True, ("process",)),
    (re.compile(r"\b(them|those|these|all of them|both)\b", re.I), True, ()),
    (re.compile(r"\b(that|this|the) (file|document|picture|photo|image|iso|archive)\b", re.I), False, ("file",)),
    (re.compile(r"\b(that|this|the) (folder|directory|dir)\b", re.I), False, ("directory",)),
    (re.compile(r"\b(that|this|the) (app|application|program|window)\b", re.I), False, ("app", "process")),
    (re.compile(r"\b(that|this|the) (process)\b", re.I), False, ("process",)),
    (re.compile(r"\b(that|this|the) (page|link|site|website|url)\b", re.I), False, ("url",)),
    (re.compile(r"\b(that|this|the) (repo|repository)\b", re.I), False, ("repo",)),
    (re.compile(r"\b(that|this|the) branch\b", re.I), False, ("branch",)),
    (re.compile(r"\bthere\b", re.I), False, ("directory", "file")),  # a file: its folder
    (re.compile(r"\b(it|that one|this one)\b", re.I), False, ()),
    (re.compile(r"\bthat\b(?!\s+\w+ing\b)", re.I), False, ()),
]
_DESTRUCTIVE_WORDS = re.compile(r"\b(delete|remove|erase|trash|rm|kill|stop|close|quit|overwrite|move|rename|"
                                r"reset|push|wipe|drop|uninstall|discard)\b", re.I)
_URL = re.compile(r"https?://[^\s<>\"')]+")
_PATH = re.compile(r"(?:(?<=\s)|^)(~?/[^\s'\"]+|\.{1,2}/[^\s'\"]+|[\w.-]+/[\w./-]+|[\w-]+\.(?:[a-z0-9]{1,5}))"
                   r"(?=$|[\s,;:!?)])", re.I)


def is_destructive_request(text: str) -> bool:
    return bool(_DESTRUCTIVE_WORDS.search(text))


@dataclass
class References:
    entities: list[Entity] = field(default_factory=list)
    limit: int = 200  # the memory is small on purpose: only recent things are referred to as "it"
    _seq: int = 0
    _group: int = 0

    # ---- observing -----------------------------------------------------------------------------------------

    def _add(self, kind: str, value: str, source: str, group: int, size: int | None = None) -> None:
        self._seq += 1
        self.entities.append(Entity(kind, value, source, self._seq, group, size))
        if len(self.entities) > self.limit:
            del self.entities[: len(self.entities) - self.limit]

    def _new_group(self) -> int:
        self._group += 1
        return self._group

    def observe_user_text(self, text: str, cwd: str | None = None) -> None:
        group = self._new_group()
        for url in _URL.findall(text):
            self._add("url", url.rstrip(".,"), "user", group)
        without_urls = _URL.sub(" ", text)
        for quoted in re.findall(r"[\"']([^\"']+)[\"']", without_urls):
            if "/" in quoted or "." in quoted:
                self._add(*_path_entity(quoted, cwd), "user", group)
        for token in _PATH.findall(re.sub(r"[\"'][^\"']*[\"']", " ", without_urls)):
            self._add(*_path_entity(token.rstrip(".,"), cwd), "user", group)

    def observe_tool_call(self, tool: str, arguments: dict[str, Any]) -> None:
        group = self._new_group()
        for key in ("path", "source", "destination", "file", "directory", "repo", "url"):
            value = arguments.get(key)
            if isinstance(value, str) and value:
                kind = "url" if key == "url" else "repo" if key == "repo" else None
                if kind:
                    self._add(kind, value, "tool call", group)
                else:
                    self._add(*_path_entity(value), "tool call", group)

    def observe_tool_result(self, tool: str, structured: dict[str, Any] | None) -> None:
        """Entities from a structured result; a list of them (e.g. the five biggest files) is one set."""
        if not structured:
            return
        server = tool.split(".", 1)[0]
        for value in structured.values():
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                group = self._new_group()
                for item in value:
                    entity = _entity_from_item(item, server)
                    if entity:
                        size = item.get("size") if isinstance(item.get("size"), int) else None
                        self._add(*entity, "tool result", group, size)
        top = _entity_from_item(structured, server)
        if top and not any(isinstance(v, list) and v for v in structured.values()):
            self._add(*top, "tool result", self._new_group())
        for key in ("repo",):
            if isinstance(structured.get(key), str):
                self._add("repo", structured[key], "tool result", self._new_group())
        if isinstance(structured.get("branch"), str):
            self._add("branch", structured["branch"], "tool result", self._new_group())

    # ---- resolving -----------------------------------------------------------------------------------------

    def resolve(self, text: str) -> list[Resolution]:
        found: list[Resolution] = []
        taken: list[tuple[int, int]] = []
        for match in _ORDINAL.finditer(text):
            taken.append(match.span())
            picked = self._pick(match.group(1).lower())
            if picked:
                found.append(Resolution(match.group(0), [picked]))
        for pattern, plural, kinds in _EXPRESSIONS:
            for match in pattern.finditer(text):
                span = match.span()
                if any(s < span[1] and span[0] < e for s, e in taken):
                    continue  # "those files" already matched; do not also resolve "those"
                taken.append(span)
                resolution = self._resolve_one(match.group(0), plural, kinds)
                if resolution:
                    found.append(resolution)
        return found

    def _resolve_one(self, expression: str, plural: bool, kinds: tuple[str, ...]) -> Resolution | None:
        candidates = [e for e in self.entities if not kinds or e.kind in kinds]
        if not candidates:
            return None
        latest = max(candidates, key=lambda e: e.seq)
        same_group = [e for e in candidates if e.group == latest.group]
        if plural:
            return Resolution(expression, _unique(same_group))
        if expression.lower() == "there" and latest.kind == "file":
            return Resolution(expression, [Entity("directory", os.path.dirname(latest.value), latest.source,
                                                  latest.seq, latest.group)])
        distinct = _unique(same_group)
        if len(distinct) > 1:  # "it" after a list of several: the person must say which
            return Resolution(expression, distinct, ambiguous=True)
        return Resolution(expression, [latest])

    def _pick(self, which: str) -> Entity | None:
        sets = [e for e in self.entities if e.source == "tool result"]
        if not sets:
            return None
        latest_group = max(sets, key=lambda e: e.seq).group
        members = _unique([e for e in sets if e.group == latest_group])
        if which in ("biggest", "largest", "smallest"):
            sized = [e for e in members if e.size is not None]
            if not sized:
                return None
            return (max if which != "smallest" else min)(sized, key=lambda e: e.size or 0)
        position = _POSITIONS[which]
        return members[position] if -len(members) <= position < len(members) else None

    def block(self, max_items: int = 8) -> str:
        """A compact "Recently referenced" note for the prompt, newest first."""
        seen, lines = set(), []
        for e in sorted(self.entities, key=lambda e: -e.seq):
            if (e.kind, e.value) in seen:
                continue
            seen.add((e.kind, e.value))
            lines.append(f"- {e.kind}: {e.value}")
            if len(lines) >= max_items:
                break
        return "Recently referenced (newest first):\n" + "\n".join(lines) if lines else ""

    def to_json(self) -> list[dict[str, Any]]:
        return [e.__dict__ for e in self.entities]


def _unique(entities: list[Entity]) -> list[Entity]:
    seen, out = set(), []
    for e in sorted(entities, key=lambda e: e.seq):
        if (e.kind, e.value) not in seen:
            seen.add((e.kind, e.value))
            out.append(e)
    return out


def _path_entity(raw: str, cwd: str | None = None) -> tuple[str, str]:
    expanded = os.path.expanduser(raw)
    if not os.path.isabs(expanded):
        expanded = os.path.join(cwd or os.getcwd(), expanded)
    expanded = os.path.normpath(expanded)
    kind = "directory" if raw.endswith("/") or os.path.isdir(expanded) else "file"
    return kind, display(expanded)


def _entity_from_item(item: dict[str, Any], server: str) -> tuple[str, str] | None:
    if isinstance(item.get("pid"), int):
        name = item.get("name") or item.get("app") or "process"
        if server == "apps" and item.get("name"):
            return "app", f"{item['name']} (pid {item['pid']})"
        return "process", f"{name} (pid {item['pid']})"
    if isinstance(item.get("path"), str):
        kind = item.get("type")
        if kind in ("directory", "file"):
            return kind, item["path"]
        return _path_entity(item["path"])
    if isinstance(item.get("url"), str) or isinstance(item.get("final_url"), str):
        return "url", item.get("final_url") or item["url"]
    if server == "apps" and isinstance(item.get("name"), str):
        return "app", item["name"]
    return None

