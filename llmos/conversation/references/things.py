"""The things a conversation showed, as the resolver keeps them, and how a description fits one."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from llmos.conversation.references import extract
from llmos.conversation.references.describe import Expression


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
    modified: str | None = None
    aliases: tuple[str, ...] = ()
    topic: bool = False  # what an answer was about

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


ROLE_FITS = {"original": {"original"}, "copy": {"copy"}, "new": {"new", "copy", "download"},
             "download": {"download"}, "gone": {"gone"}}


def found_of(e: Entity) -> extract.Found:
    return extract.Found(e.kind, e.value, e.role, e.size, e.cpu, e.memory, e.modified, e.aliases)


def fits(entity: Entity, expression: Expression, whole_path: bool = False) -> bool:
    if expression.kinds and entity.kind not in expression.kinds:
        return False
    if expression.extensions and extension(entity.value) not in expression.extensions:
        return False
    if expression.role and entity.role not in ROLE_FITS[expression.role]:
        return False
    if expression.places and (entity.kind not in ("file", "directory")
                              or not set(expression.places) <= name_tokens(entity, True) - name_tokens(entity)):
        return False
    if expression.words:
        tokens = name_tokens(entity, whole_path)
        return all(any(t == w or (len(w) >= 3 and t.startswith(w)) for t in tokens) for w in expression.words)
    return True


def extension(value: str) -> str:
    base = os.path.basename(value.rstrip("/"))
    return base.rsplit(".", 1)[1].lower() if "." in base.lstrip(".") else ""


def display_name(entity: Entity | extract.Found) -> str:
    if entity.kind in ("process", "app"):
        return entity.value.split(" (pid ", 1)[0]
    if entity.kind in ("file", "directory"):
        return os.path.basename(entity.value.rstrip("/"))
    return entity.value


def name_tokens(entity: Entity, whole_path: bool = False) -> set[str]:
    name = (entity.value.removeprefix("~/") if whole_path else display_name(entity)).lower()
    if entity.kind == "url":
        name = re.sub(r"^https?://(www\.)?", "", name)
    words = [name, *(a.lower() for a in entity.aliases)]
    return {t for w in words for t in re.split(r"[\s/_.\-:()]+", w) if t} | set(words)


def unique(entities: list[Entity]) -> list[Entity]:
    seen, out = set(), []
    for e in sorted(entities, key=lambda e: e.seq):
        if (e.kind, e.value) not in seen:
            seen.add((e.kind, e.value))
            out.append(e)
    return out
