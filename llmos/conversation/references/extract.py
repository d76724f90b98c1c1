"""The things a person has seen in the conversation, taken from where they saw them.

From tool arguments and from tool *results* — a move's destination (its source is gone), a copy's source
and copy, a download's saved path, a listing's entries, lists of plain strings (search hits, branch
names, changed files), process tables with their CPU and memory — and from text, the person's or the
assistant's: paths, URLs and the names of things already known ("Firefox is using the most CPU").
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from llmos.paths import display

URL = re.compile(r"https?://[^\s<>\"')]+")
_PATH = re.compile(r"(?:(?<=\s)|^)(~?/[^\s'\"]+|\.{1,2}/[^\s'\"]+|[\w.-]+/[\w./-]+|[\w-]+\.(?:[a-z0-9]{1,5}))"
                   r"(?=$|[\s,;:!?)])", re.I)
_QUOTED = re.compile(r"[\"'“‘]([^\"'”’]+)[\"'”’]")
_FOLDER_TOOLS = {"list_directory", "tree", "search_files", "search_content", "find_largest", "disk_usage",
                 "make_directory"}  # their path is a folder, whether or not it exists here


@dataclass(frozen=True)
class Found:
    """One thing observed, before it is numbered into the memory."""

    kind: str
    value: str
    role: str = ""  # original | copy | new | download | gone
    size: int | None = None
    cpu: float | None = None
    memory: int | None = None
    modified: str | None = None  # ISO time, when a listing gave one ("the newest one")
    aliases: tuple[str, ...] = ()  # other words it goes by: the port it listens on, its window titles
    topic: bool = False  # what an answer was about: the first thing its first clause names


def path_found(raw: str, cwd: str | None = None, role: str = "", size: int | None = None,
               kind: str | None = None, modified: str | None = None) -> Found:
    expanded = os.path.expanduser(raw)
    if not os.path.isabs(expanded):
        expanded = os.path.join(cwd or os.getcwd(), expanded)
    expanded = os.path.normpath(expanded)
    if kind not in ("file", "directory"):
        if os.path.exists(expanded):
            kind = "directory" if os.path.isdir(expanded) else "file"
        else:  # not on this machine (yet): a name with an extension is a file
            kind = "directory" if raw.endswith("/") or "." not in os.path.basename(expanded).lstrip(".") else "file"
    return Found(kind, display(expanded), role, size, modified=modified)


def from_text(text: str, cwd: str | None = None, known: dict[str, Found] | None = None) -> list[Found]:
    """URLs and paths in text. A bare name that is a known thing's name ("movie.mkv") is that thing."""
    found = [Found("url", url.rstrip(".,")) for url in URL.findall(text)]
    without_urls = URL.sub(" ", text)
    tokens = [q for q in _QUOTED.findall(without_urls) if "/" in q or re.search(r"\.\w{1,5}$", q)]
    tokens += [t.rstrip(".,;:!?)") for t in _PATH.findall(_QUOTED.sub(" ", without_urls))]
    for token in tokens:
        if known and "/" not in token and token in known:
            found.append(known[token])
        else:
            found.append(path_found(token, cwd))
    return found


def from_call(tool: str, arguments: dict[str, Any], paths: Iterable[str] = (),
              urls: Iterable[str] = ()) -> list[Found]:
    """Things a call names. Which arguments are paths or URLs is what the tool declares (its server's
    ``llmos/path_args`` and ``llmos/url_args`` facts, passed in by the caller): no list of names here."""
    name = tool.rsplit(".", 1)[-1]
    found: list[Found] = []
    paths = list(paths)
    for key in paths:
        value = arguments.get(key)
        if isinstance(value, str) and value and not URL.match(value):
            kind = "directory" if name in _FOLDER_TOOLS and key == "path" else None
            found.append(path_found(value, role=_call_role(name, key), kind=kind))
    paths = set(paths)
    for key in urls:  # an argument that takes a path or a URL (open_with's target) is a URL only with a scheme
        value = arguments.get(key)
        if isinstance(value, str) and value and (key not in paths or URL.match(value)):
            found.append(Found("url", value))
    if isinstance(arguments.get("repo"), str) and arguments["repo"]:
        found.append(Found("repo", arguments["repo"]))
    for key in ("branch", "name", "start_point"):
        if name.startswith("git_") and "branch" in name + key and isinstance(arguments.get(key), str):
            found.append(Found("branch", arguments[key], "new" if name == "git_create_branch" else ""))
    if isinstance(arguments.get("pid"), int):
        found.append(Found("process", f"process (pid {arguments['pid']})"))
    return found


def _call_role(tool: str, key: str) -> str:
    if tool in ("move", "copy"):
        return {"source": "original", "destination": "new" if tool == "move" else "copy"}.get(key, "")
    if tool in ("create_file", "make_directory") and key == "path":
        return "new"
    if tool in ("delete", "delete_permanently") and key == "path":
        return "gone"
    return ""


def from_result(tool: str, structured: dict[str, Any]) -> list[list[Found]]:
    """Groups of things from one structured result: each list in it is one group (a listing)."""
    server, name = (tool.split(".", 1) + [""])[:2] if "." in tool else ("", tool)
    single = _single(structured, server, name)
    if name in _FOLDER_TOOLS and single and single[0].kind == "file" and single[0].value == _display(structured):
        single[0] = Found("directory", single[0].value)
    groups: list[list[Found]] = [single] if single else []  # first, so a listing is the latest set
    for key, value in structured.items():
        if isinstance(value, list) and value:
            group = _from_list(key, value, server)
            if group:
                groups.append(group)
    return groups


def _from_list(key: str, items: list[Any], server: str) -> list[Found]:
    if all(isinstance(v, str) for v in items):
        if key == "branches":
            return [Found("branch", v) for v in items]
        if key in ("paths", "files", "untracked", "conflicted", "redirects"):
            kind = "url" if key == "redirects" else None
            return [Found("url", v) if kind else path_found(v) for v in items]
        return []
    if key == "largest_children" or key == "files":
        return [f for f in (_item(v, server) for v in items if isinstance(v, dict)) if f]
    return [f for f in (_item(v, server, branch=key == "branches") for v in items if isinstance(v, dict)) if f]


def _item(item: dict[str, Any], server: str, branch: bool = False) -> Found | None:
    size = item.get("size") if isinstance(item.get("size"), int) else None
    if branch and isinstance(item.get("name"), str):
        return Found("branch", item["name"], "current" if item.get("current") is True else "")
    if isinstance(item.get("pid"), int):
        label = item.get("name") or item.get("process") or item.get("app_name") or "process"
        kind = "app" if server == "apps" else "process"
        cpu = item.get("cpu_percent") if isinstance(item.get("cpu_percent"), (int, float)) else None
        memory = item.get("memory_rss") if isinstance(item.get("memory_rss"), int) else None
        return Found(kind, f"{label} (pid {item['pid']})", cpu=cpu, memory=memory, aliases=_aliases(item))
    if isinstance(item.get("path"), str) and not item.get("line_number"):
        modified = item.get("modified") if isinstance(item.get("modified"), str) else None
        return path_found(item["path"], size=size, kind=item.get("type"), modified=modified)
    if isinstance(item.get("path"), str):  # a content match: the file it is in
        return path_found(item["path"])
    if isinstance(item.get("url"), str) or isinstance(item.get("final_url"), str):
        return Found("url", item.get("final_url") or item["url"])
    if isinstance(item.get("short_sha"), str):
        return Found("commit", f"{item['short_sha']} {item.get('subject', '')}".strip())
    if server == "apps" and isinstance(item.get("name"), str):
        return Found("app", item["name"])
    return None


def _aliases(item: dict[str, Any]) -> tuple[str, ...]:
    """Words a person may call a process or app by besides its name: "the one on 5432", "the editor"."""
    words = [str(item["port"])] if isinstance(item.get("port"), int) else []
    words += [v for v in (item.get("wm_class"), item.get("app_id")) if isinstance(v, str)]
    windows = item.get("windows")
    if isinstance(windows, list):
        words += [w for w in windows if isinstance(w, str)]
    return tuple(words)


def _display(structured: dict[str, Any]) -> str | None:
    path = structured.get("path")
    return path_found(path).value if isinstance(path, str) else None


def _single(structured: dict[str, Any], server: str, tool: str) -> list[Found]:
    """What a result says about the one thing it acted on (not its listings)."""
    action = structured.get("action")
    found: list[Found] = []
    if isinstance(action, str) and isinstance(structured.get("path"), str):
        role = {"moved": "new", "copied": "copy", "created": "new", "created folder": "new",
                "moved to trash": "gone", "deleted permanently": "gone"}.get(action, "")
        kind = "directory" if action == "created folder" else None
        if isinstance(structured.get("source"), str):
            found.append(path_found(structured["source"], role="gone" if action == "moved" else "original"))
        found.append(path_found(structured["path"], role=role, kind=kind))
        return found
    if server == "browser" and isinstance(structured.get("path"), str):  # a download's saved file
        return [path_found(structured["path"], role="download", size=structured.get("bytes"))]
    has_list = any(isinstance(v, list) and v for v in structured.values())
    page = structured.get("final_url") or structured.get("url")
    if server == "browser" and isinstance(page, str):  # the page itself; its links are a listing
        return [Found("url", page, "page")]
    if tool in _FOLDER_TOOLS and has_list and isinstance(structured.get("path"), str):
        found.append(path_found(structured["path"], kind="directory"))  # the folder the listing is of
    top = _item(structured, server)
    if top and not has_list:
        if top.kind == "process" and structured.get("exited") is True:
            top = Found(top.kind, top.value, "gone")
        found.append(top)
    elif isinstance(structured.get("app_name"), str) and isinstance(structured.get("pid"), int):
        found.append(Found("app", f"{structured['app_name']} (pid {structured['pid']})"))
    if isinstance(structured.get("repo"), str):
        found.append(Found("repo", structured["repo"]))
    branch = structured.get("branch")
    if isinstance(branch, str):
        found.append(Found("branch", branch, "new" if tool == "git_create_branch" else ""))
    return found
