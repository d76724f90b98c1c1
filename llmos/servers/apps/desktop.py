"""Installed applications: the XDG .desktop files, their precedence, visibility and localized names, and
finding one by what a person calls it."""

from __future__ import annotations

import configparser
import os
import re
from dataclasses import dataclass
from pathlib import Path

from llmos.servers.apps.models import App
from llmos.servers.common import ToolError


@dataclass
class DesktopEntry:
    id: str
    path: str
    fields: dict[str, str]
    visible: bool  # False: NoDisplay, not for this desktop, or its TryExec program is missing

    def get(self, key: str) -> str:
        return unescape(self.fields.get(key, ""))

    @property
    def name(self) -> str:
        key = next((k for k in _locale_keys("Name") if k in self.fields), "Name")
        return self.get(key) or self.stem

    @property
    def stem(self) -> str:
        return self.id.removesuffix(".desktop")

    def split(self, key: str) -> list[str]:
        return [item for item in self.get(key).split(";") if item]

    def public(self) -> App:
        return App(id=self.id, name=self.name, exec=self.get("Exec"), categories=self.split("Categories"),
                   path=self.path)


def unescape(value: str) -> str:
    # The spec's string escapes, in one pass (replacing \\ first would turn "\\s" into a space).
    return re.sub(r"\\(.)", lambda m: {"s": " ", "n": "\n", "t": "\t", "r": "\r"}.get(m[1], m[1]), value)


def _locale_keys(key: str) -> list[str]:
    """Key[lang_COUNTRY@MOD], Key[lang_COUNTRY], Key[lang@MOD], Key[lang], Key: the spec's lookup order."""
    raw = os.environ.get("LC_ALL") or os.environ.get("LC_MESSAGES") or os.environ.get("LANG") or ""
    match = re.match(r"([a-z]+)(?:_([A-Z]+))?(?:\.[^@]*)?(?:@(.+))?$", raw)
    if not match:
        return [key]
    lang, country, mod = match.groups()
    tags = [country and mod and f"{lang}_{country}@{mod}", country and f"{lang}_{country}",
            mod and f"{lang}@{mod}", lang]
    return [f"{key}[{tag}]" for tag in tags if tag] + [key]


def _parse(path: Path) -> dict[str, str] | None:
    # Desktop files are INI-like: only "=" separates, only "#" comments, keys are case-sensitive, and "%"
    # (field codes) must not be interpolated.
    parser = configparser.ConfigParser(interpolation=None, strict=False, delimiters=("=",),
                                       comment_prefixes=("#",), default_section="\0")
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(path.read_text(encoding="utf-8", errors="replace"), source=str(path))
    except (OSError, configparser.Error):
        return None  # unreadable or not a desktop file: skipped, as desktops skip it
    return dict(parser["Desktop Entry"]) if parser.has_section("Desktop Entry") else None


def entries() -> list[DesktopEntry]:
    """Every application entry. $XDG_DATA_HOME comes first, then $XDG_DATA_DIRS in order, and the first
    file seen for a desktop-file id wins, so a user's file (even a Hidden one) overrides the system's."""
    import shutil

    home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local/share")
    dirs = [home, *(os.environ.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share").split(":")]
    desktops = {d.lower() for d in os.environ.get("XDG_CURRENT_DESKTOP", "").split(":") if d}
    seen: dict[str, DesktopEntry | None] = {}
    for base in (Path(d) / "applications" for d in dirs if d):
        for path in sorted(base.rglob("*.desktop")) if base.is_dir() else []:
            desktop_id = path.relative_to(base).as_posix().replace("/", "-")
            if desktop_id in seen:
                continue
            fields = _parse(path)
            if not fields or fields.get("Type") != "Application" or fields.get("Hidden") == "true":
                seen[desktop_id] = None  # deleted, a link, or broken: masks lower dirs all the same
                continue
            only = {d.lower() for d in fields.get("OnlyShowIn", "").split(";") if d}
            never = {d.lower() for d in fields.get("NotShowIn", "").split(";") if d}
            try_exec = fields.get("TryExec")
            visible = not (fields.get("NoDisplay") == "true" or (only and not only & desktops)
                           or never & desktops or (try_exec and not shutil.which(unescape(try_exec))))
            seen[desktop_id] = DesktopEntry(desktop_id, str(path), fields, bool(visible))
    return [e for e in seen.values() if e is not None and e.get("Exec")]


def _score(entry: DesktopEntry, query: str) -> int:
    """How well ``entry`` matches a lower-case query: exact name, name prefix, word prefix, substring,
    category, then generic name, keywords or comment."""
    name = entry.name.lower()
    if query in (name, entry.stem.lower()):
        return 100
    if name.startswith(query):
        return 80
    if any(word.startswith(query) for word in re.split(r"[\s.-]+", name)):
        return 60
    if query in name or query in entry.stem.lower():
        return 50
    categories = {c.lower() for c in entry.split("Categories")}
    if query in categories:
        return 40
    if any(query in entry.get(k).lower() for k in ("GenericName", "Keywords", "Comment")):
        return 20
    return 10 if categories & everyday_categories(query) else 0


# Words people use for a kind of app → the freedesktop categories (Desktop Menu Specification) that kind
# carries. Measured: "have I got something to play music with?" → search_apps("music") found nothing, though
# a player with Categories=AudioVideo;Audio;Player was installed.
_KINDS = {"music": "audio player", "song": "audio player", "songs": "audio player", "audio": "audio player",
          "sound": "audio", "podcast": "audio player", "radio": "audio player", "video": "video player",
          "videos": "video player", "movie": "video player", "movies": "video player", "film": "video player",
          "photo": "graphics viewer photography", "photos": "graphics viewer photography",
          "picture": "graphics viewer", "pictures": "graphics viewer", "image": "graphics viewer",
          "images": "graphics viewer", "draw": "graphics 2dgraphics", "paint": "graphics 2dgraphics",
          "browser": "webbrowser", "web": "webbrowser", "internet": "network webbrowser",
          "email": "email", "mail": "email", "chat": "chat instantmessaging", "text": "texteditor",
          "editor": "texteditor", "notes": "texteditor", "write": "texteditor wordprocessor",
          "document": "wordprocessor office", "documents": "wordprocessor office", "spreadsheet": "spreadsheet",
          "terminal": "terminalemulator", "console": "terminalemulator", "game": "game", "games": "game",
          "calculator": "calculator", "files": "filemanager", "stars": "astronomy", "astronomy": "astronomy",
          "sky": "astronomy", "code": "development ide", "programming": "development ide"}


def everyday_categories(query: str) -> set[str]:
    """The lower-case categories the words of ``query`` name ("music" → audio, player)."""
    return {c for word in re.findall(r"[a-z]+", query.lower()) for c in _KINDS.get(word, "").split()}


def ranked(entries: list[DesktopEntry], query: str) -> list[DesktopEntry]:
    scored = [(s, e) for e in entries if e.visible and (s := _score(e, query))]
    return [e for _, e in sorted(scored, key=lambda p: (-p[0], p[1].name.lower()))]


def find(app: str) -> DesktopEntry:
    """The entry ``app`` names: an exact id or name (even a NoDisplay one), else the single best match."""
    installed, wanted = entries(), app.strip().lower()
    for entry in installed:
        if wanted in (entry.id.lower(), entry.stem.lower(), entry.name.lower()):
            return entry
    order = ranked(installed, wanted)
    best = [e for e in order if _score(e, wanted) == _score(order[0], wanted)] if order else []
    if len(best) == 1:
        return best[0]
    hint = f" Did you mean: {', '.join(e.name for e in best[:5])}?" if best else ""
    raise ToolError(f"No installed application is called {app!r}.{hint}")
