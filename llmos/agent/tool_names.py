"""The names tools are offered to the model under, chosen so that no third-party tool can pass for a built-in.

Every provider accepts tool names matching ``^[a-zA-Z0-9_-]{1,64}$``, so names are sanitised to that.
Built-in tools keep their own names. A third-party tool keeps its (sanitised) name only when nothing else
could be meant by it: when it equals a built-in's name, starts like a built-in's namespaced name
(``filesystem_…``), or collides with another third-party tool, it is offered as ``SERVER_TOOL``; a collision
is reported naming both, and a tool whose namespaced name is still taken is not offered at all.
Rules and approvals never use these names: they match the real server and tool.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from llmos.servers import BUILTIN

VALID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class Entry:
    server: str
    tool: str  # the server's own name for the tool
    builtin: bool


def sanitise(name: str) -> str:
    """Letters, digits, ``_`` and ``-`` only, at most 64 characters, never empty."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_")[:64] or "tool"


def _builtin_looking(name: str) -> bool:
    low = name.lower()
    return any(low == b or low.startswith((f"{b}_", f"{b}-")) for b in BUILTIN)


def assign(entries: list[Entry]) -> tuple[dict[Entry, str], list[str]]:
    """The exposed name of every entry that can be offered, and one warning per collision or dropped tool."""
    names: dict[Entry, str] = {}
    warnings: list[str] = []
    builtin = [e for e in entries if e.builtin]
    counts = Counter(e.tool for e in builtin)
    for e in builtin:  # two built-ins never share a name; if they ever do, both are namespaced
        names[e] = e.tool if counts[e.tool] == 1 and VALID.match(e.tool) else sanitise(f"{e.server}_{e.tool}")
    by_exposed = {name: e for e, name in names.items()}
    reserved = set(by_exposed) | {e.tool.lower() for e in builtin}
    third = [e for e in entries if not e.builtin]
    bases = {e: sanitise(e.tool) for e in third}
    base_counts = Counter(b.lower() for b in bases.values())
    for e in third:
        base = bases[e]
        clash = by_exposed.get(base) or next((o for o in builtin if o.tool.lower() == base.lower()), None)
        if clash is None and base_counts[base.lower()] == 1 and not _builtin_looking(base):
            names[e], by_exposed[base] = base, e
            continue
        if clash is not None:
            warnings.append(f"tool {_who(e)} has the name of {_who(clash)}; it is offered as "
                            f"{sanitise(f'{e.server}_{e.tool}')!r}")
        elif base_counts[base.lower()] > 1:
            others = [_who(o) for o in third if o != e and bases[o].lower() == base.lower()]
            warnings.append(f"tool {_who(e)} has the same name as {', '.join(others)}; it is offered as "
                            f"{sanitise(f'{e.server}_{e.tool}')!r}")
        namespaced = sanitise(f"{e.server}_{e.tool}")
        taken = by_exposed.get(namespaced)
        if taken is not None or namespaced.lower() in reserved or _builtin_looking(namespaced):
            warnings.append(f"tool {_who(e)} is not offered: its name {namespaced!r} is taken"
                            + (f" by {_who(taken)}" if taken is not None else " by a built-in"))
            continue
        names[e], by_exposed[namespaced] = namespaced, e
    return names, warnings


def _who(e: Entry) -> str:
    return f"{e.server}.{e.tool}" + (" (built-in)" if e.builtin else "")
