"""Tool retrieval: offer a small model only the tools this request needs.

Forty tool schemas fill a 4k context before the conversation starts. Tools are ranked by the request's
words against each tool's name and description (with a few everyday synonyms), tools used recently in the
conversation get a boost, and tools are added best first until the schema budget is spent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from llmos.agent.host import ToolInfo
from llmos.llm.providers.base import estimate_tokens

_WORD = re.compile(r"[a-z0-9]+")
_STOP = {"the", "a", "an", "my", "me", "i", "is", "are", "of", "to", "in", "on", "for", "and", "or", "it",
         "what", "which", "that", "this", "please", "can", "you", "do", "show", "with", "from", "all", "use",
         "when", "tool", "one", "be", "by", "as", "at", "its", "how", "get", "give"}
# Everyday words → words that appear in tool names and descriptions.
_SYNONYMS = {
    "disk": "largest usage size space", "eating": "largest usage", "space": "usage largest disk", "big": "largest",
    "biggest": "largest", "large": "largest", "remove": "delete", "erase": "delete", "trash": "delete",
    "rename": "move", "folder": "directory list", "folders": "directory list", "dir": "directory",
    "files": "file list directory", "open": "launch open", "start": "launch", "run": "launch", "quit": "close",
    "kill": "kill terminate process", "stop": "kill close", "program": "process application app",
    "programs": "process application app", "memory": "overview memory process", "ram": "memory overview",
    "cpu": "overview process", "commit": "commit git", "changes": "status diff git", "branch": "branch git",
    "push": "push git", "pull": "pull git", "repo": "git repository", "website": "fetch url page browser",
    "web": "fetch url page browser", "page": "fetch page", "download": "download", "link": "url fetch",
    "find": "search find", "look": "search find", "grep": "search content", "contains": "search content",
    "read": "read file", "show": "read list", "write": "write create file", "save": "write create",
    "create": "create make", "new": "create make", "copy": "copy", "battery": "battery", "gpu": "gpu",
    "network": "network interfaces", "ip": "network interfaces address", "firefox": "launch app browser",
}


def _words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


def _tool_words(tool: ToolInfo) -> set[str]:
    return set(_words(tool.name.replace("_", " ") + " " + tool.server + " " + tool.description))


def schema_tokens(tool: ToolInfo) -> int:
    """What offering this tool costs in the prompt (its JSON schema as the provider will send it)."""
    return estimate_tokens(json.dumps({"name": tool.exposed, "description": tool.description,
                                       "parameters": tool.input_schema}, separators=(",", ":")))


def rank(tools: Iterable[ToolInfo], request: str, recent: Iterable[str] = ()) -> list[tuple[float, ToolInfo]]:
    words = _words(request)
    expanded = set(words)
    for w in words:
        expanded.update(_SYNONYMS.get(w, "").split())
        if w.endswith("s"):
            expanded.add(w[:-1])
    recent_set = set(recent)
    scored = []
    for tool in tools:
        name_words = set(_words(tool.name.replace("_", " ")))
        vocabulary = _tool_words(tool)
        score = 3.0 * len(expanded & name_words) + 1.0 * len(expanded & vocabulary)
        if tool.server in expanded:
            score += 1.5
        if tool.exposed in recent_set:
            score += 2.5
        if tool.read_only:
            score += 0.1  # among equals, the harmless tool first
        scored.append((score, tool))
    scored.sort(key=lambda pair: (-pair[0], pair[1].exposed))
    return scored


def select(tools: dict[str, ToolInfo], request: str, budget_tokens: int, recent: Iterable[str] = (),
           offer_all: bool = False) -> list[ToolInfo]:
    """The tools to offer: all of them for big contexts, else the best-ranked that fit ``budget_tokens``."""
    if offer_all:
        return list(tools.values())
    chosen, spent = [], 0
    for score, tool in rank(tools.values(), request, recent):
        if score <= 0.1 and chosen:
            break  # nothing in the request points at this tool
        cost = schema_tokens(tool)
        if spent + cost > budget_tokens:
            continue
        chosen.append(tool)
        spent += cost
    return chosen
