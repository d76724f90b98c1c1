"""When the next step must answer instead of calling another tool, and the nudge that asks for the answer.

Measured on Qwen2.5-Coder-0.5B (benchmarks/README.md): offered the tools again after a good result, it asks
for the same call again (or an unrelated one) instead of saying what it found; told only "answer from the
tool results above" it replied "I don't have any tool results", or vaguely ("the contents are listed…").
So once a result answers the request the next step offers no calls, and the nudge repeats the request and
a short digest of what the last calls returned: copying names out of it is the easy path.

When tools stay offered after a result: a failed call (the model may fix its arguments), a lookup made
for an action ("kill backup-daemon": find the PID, then kill it), and an action on several things.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, Protocol

from llmos.units import size_text

# Words that ask for a change; without one, a request is a question a read-only result answers.
_ACTION = re.compile(
    r"\b(delete|remove|rm|erase|trash|get rid|throw away|discard|move|rename|put|tidy|organi[sz]e|sort out|"
    r"copy|back ?up|duplicate|make|create|new|write|add|append|replace|overwrite|edit|change|save|"
    r"kill|stop|end|terminate|close|quit|open|launch|start|run|play|commit|push|pull|stage|unstage|stash|"
    r"restore|revert|reset|switch|checkout|merge|branch off|init|initiali[sz]e|turn .+ into|clone|download|"
    r"grab|fetch and save|install|uninstall|set|mkdir|empty)\b", re.I)
_QUESTION = re.compile(r"^\s*(what|what's|whats|which|who|who's|whose|where|when|why|how|is|are|am|was|were|"
                       r"do|does|did|have|has|show|list|tell|give|find|summari[sz]e|describe|explain|check)\b", re.I)
# An action on several things may take several calls (a folder made, then each file moved).
_MANY = re.compile(r"\b(all|every|each|both|them|these|those|tidy|organi[sz]e|sort out)\b", re.I)
_NAME_KEYS = ("name", "title", "process", "path", "subject", "message", "url", "branch", "ref", "file")
DIGEST_CHARS = 320  # longer, and the 0.5B copies all of it into its answer (slowly)


class Run(Protocol):
    """The parts of an agent ToolRun this module reads."""
    ok: bool
    text: str
    structured: dict[str, Any] | None

    @property
    def read_only(self) -> bool: ...

    @property
    def name(self) -> str: ...


def asks_for_action(request: str) -> bool:
    """Whether the request asks for a change, not only for information ("when did I last change x?" does not;
    "can you delete old.log?" does)."""
    if not _ACTION.search(request):
        return False
    polite = re.match(r"^\s*(can|could|would|will|please)\b", request, re.I)
    return bool(polite) or not (_QUESTION.match(request) and request.rstrip().endswith("?"))


def answer_next(runs: Sequence[Run], request: str, just_repeated: bool) -> bool:
    """After one step's calls: must the next step answer (no calls offered)?"""
    if not runs or not all(r.ok for r in runs):
        return False  # a failed call may be retried with better arguments
    if just_repeated:
        return True  # the model asked again for a result it already had
    if all(r.read_only for r in runs):
        # A lookup answers a question; for an action it is a first step. One that found nothing may have
        # been the wrong lookup (search_files for words inside files: its note names search_content).
        return not asks_for_action(request) and not any(found_nothing(r) for r in runs)
    return not _MANY.search(request)  # one action done; several things may need another call


def found_nothing(run: Run) -> bool:
    """A result whose lists are all empty and that holds no text besides where it looked (a search without
    matches; not a short page without links)."""
    found = run.structured or {}
    lists = [v for v in found.values() if isinstance(v, list)]
    # Anything else said (a name, a status, a count) is a finding: measured, process_details' empty lists of
    # children counted as "nothing found", the tools stayed offered, and the 0.5B killed the process.
    return bool(lists) and not any(lists) and all(
        k in _WHERE or isinstance(v, list) or v in (None, "", 0, False) for k, v in found.items())


_WHERE = frozenset({"path", "repo", "url", "final_url", "query", "note", "notice", "message", "content_type",
                    "status", "untrusted", "sort_by", "branch"})


def nudge(runs: Sequence[Run], request: str, acted: bool) -> str:
    """The user message for the answer step (sent once, not kept in the session)."""
    said = "; ".join(f"{r.name} returned {digest(r, request)}" for r in runs[-3:] if r.ok)
    ask = ("Now tell me in one or two sentences what was done" if acted
           else "Now answer it in one or two sentences, naming the things the result shows")
    return f"My request was: {request}\n{said}\n{ask}. Answer in plain words; do not call a tool."


def fallback(runs: Sequence[Run]) -> str:
    """The answer when the answer step wrote a call instead of words: what the last result said."""
    last = [r for r in runs if r.ok][-1:]
    return f"{last[0].name}: {digest(last[0])}" if last else ""


def digest(run: Run, request: str = "") -> str:
    """A short, flat rendering of a result: its top-level values, and the names in any list; a long text
    from the passage that shares a word with the request.

    What the call was given is not said back (the 0.5B answered "which file is biggest?" with the "path: ~"
    its find_largest result began with); what was found comes first, the parts naming a word or number
    of the request before the rest; sizes in bytes read as KB/MB/GB (copying 2500000 it wrote "250,000");
    and a result that found nothing says so (an empty list was left out, and the model described the path)."""
    if not run.structured:
        return _cut(_passage(" ".join(run.text.split()), request))
    given = set(getattr(getattr(run, "call", None), "arguments", None) or ())
    found = {k: v for k, v in run.structured.items() if not (k in given or k == "repo") or k in _LEAD}
    terms = _terms(request)
    if found_nothing(run):
        empty = ", ".join(k for k, v in found.items() if v == [])
        return _cut(f"nothing found ({empty}: none)" + "".join(
            f"; {p}" for k, v in found.items() if v != [] and (p := _part(k, v))))
    parts = [_part(k, _passage(v, request) if isinstance(v, str) else _mentioned_first(v, terms))
             for k, v in found.items()]
    ranked = sorted((p for p in parts if p), key=lambda p: _rank(p, terms))
    return _cut("; ".join(ranked))


def _terms(request: str) -> list[str]:
    """The request's own words and numbers a result part may name ("port 34189", "passport")."""
    return [w for w in re.findall(r"[a-z]{4,}|\d{2,}", request.lower()) if w not in _COMMON]


def _rank(part: str, terms: list[str]) -> tuple[int, int]:
    key = part.split(":", 1)[0]
    if key in _LEAD:
        return 0, _LEAD.index(key)
    named = any(t in part.lower() for t in terms) or _BYTES.search(key) is not None  # "how much space"
    return (1 if named else 2 if ", " in part else 3), 0


def _mentioned_first(value: Any, terms: list[str]) -> Any:
    if not isinstance(value, list) or not terms:
        return value
    def said(item: Any) -> str:
        return " ".join(map(str, item.values())).lower() if isinstance(item, dict) else str(item).lower()
    return sorted(value, key=lambda v: not any(t in said(v) for t in terms))


def _passage(text: str, request: str) -> str:
    """``text`` from the sentence holding the first word of the request it uses (a word's first five
    letters: "refunds" finds "refund"). Measured: asked whether a page says anything about refunds, the
    0.5B saw only the page's URL and first lines in the digest, and said the URL was valid."""
    if len(text) <= DIGEST_CHARS // 2 or not request:
        return text
    stems = [w[:5] for w in re.findall(r"[a-z]{4,}", request.lower()) if w not in _COMMON]
    hits = [m.start() for stem in stems if (m := re.search(rf"\b{re.escape(stem)}", text, re.I))]
    if not hits:
        return text
    stop, line = text.rfind(". ", 0, min(hits)), text.rfind("\n", 0, min(hits))
    start = max(stop + 2 if stop >= 0 else 0, line + 1, min(hits) - 120)  # no sentence start: a little before
    return ("… " if start else "") + text[start:]


_COMMON = frozenset({"what", "does", "this", "that", "have", "with", "from", "about", "anything", "tell",
                     "show", "page", "file", "there", "which", "when", "where", "your", "mine", "http",
                     "https", "please", "could", "would", "into", "them", "they", "some", "just"})


# What a thing is called comes first: git_show's digest led with its 40-digit sha, and the 0.5B answered
# "show me the last few commits" with the sha, repeated, never the subject.
_LEAD = ("summary", "name", "title", "subject", "message", "branch")
_FULL_HASH = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


def _part(key: str, value: Any) -> str:
    if value in (None, "", [], {}, False) or key == "id" or key.endswith("_id"):
        return ""  # nothing said, or a handle the person never needs to read
    if isinstance(value, str) and _FULL_HASH.match(value):
        return ""  # a full commit hash: too long to read out (a short one is kept)
    if isinstance(value, list):
        return f"{key}: " + ", ".join(_item(v) for v in value[:12]) + (f" (+{len(value) - 12} more)"
                                                                       if len(value) > 12 else "")
    if isinstance(value, dict):
        inner = ", ".join(f"{k} {_amount(k, v)}" for k, v in value.items()
                          if isinstance(v, str | int | float) and v != "")
        return f"{key}: {inner}" if inner else ""
    if _BYTES.search(key) and isinstance(value, int) and not isinstance(value, bool):
        return f"{_BYTES.sub('', key) or key}: {_amount(key, value)}"
    return f"{key}: {value}"


# Keys whose whole numbers are bytes (the servers' sizes, disks' and memory's totals).
_BYTES = re.compile(r"(?:_bytes|^bytes|^size|^total|^used|^free|^available|^memory_rss|^rss)$")


def _amount(key: str, value: Any) -> Any:
    """Bytes as a person reads them: 2500000 → 2.4 MB, 1000000 → 977 KB."""
    if not _BYTES.search(key) or not isinstance(value, int) or isinstance(value, bool) or value < 1024:
        return value
    return size_text(value)


def _item(value: Any) -> str:
    if not isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    label = next((str(value[k]) for k in _NAME_KEYS if value.get(k) not in (None, "")), "")
    extras = [f"{k} {_amount(k, value[k])}" for k in ("pid", "port", "status", "size", "user", "author", "date")
              if value.get(k) not in (None, "") and k != next((n for n in _NAME_KEYS if value.get(n)), "")]
    if not label:
        label = next((str(v) for v in value.values() if isinstance(v, str) and v), "")
    return f"{label} ({', '.join(extras)})" if extras else label


def _cut(text: str) -> str:
    return text if len(text) <= DIGEST_CHARS else text[:DIGEST_CHARS].rstrip() + " …"
