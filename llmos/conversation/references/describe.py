"""Referring expressions in a request: what the person described, not yet which thing it is.

Pronouns ("it", "that", "them", "there"); descriptions by kind or extension ("the pdf", "the python one",
"the log file", "the folder"), by role ("the original", "the copy", "the new one"), by position in the last
listing ("the second one", "the last file"), by size or load ("the biggest one", "the one using the most
cpu"), and by words of a name ("the ssh one", "the login page").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

EXTENSIONS: dict[str, frozenset[str]] = {k: frozenset(v.split()) for k, v in {
    "pdf": "pdf", "python": "py pyw ipynb", "py": "py", "log": "log", "text": "txt", "txt": "txt",
    "markdown": "md markdown", "md": "md", "json": "json", "yaml": "yaml yml", "csv": "csv", "iso": "iso",
    "zip": "zip", "archive": "zip tar gz tgz xz bz2 7z rar", "tarball": "tar gz tgz xz",
    "image": "png jpg jpeg gif webp heic svg bmp tiff", "picture": "png jpg jpeg gif webp heic bmp",
    "photo": "jpg jpeg png heic webp", "screenshot": "png jpg jpeg", "png": "png", "jpg": "jpg jpeg",
    "video": "mp4 mkv avi mov webm", "movie": "mp4 mkv avi mov webm", "song": "mp3 flac ogg wav m4a",
    "audio": "mp3 flac ogg wav m4a", "mp3": "mp3", "spreadsheet": "xlsx xls ods csv", "excel": "xlsx xls",
    "word": "doc docx odt", "presentation": "pptx ppt odp", "shell": "sh bash zsh", "script": "py sh js rb pl",
    "javascript": "js mjs ts", "html": "html htm", "config": "conf cfg ini toml yaml yml json",
    "installer": "deb rpm appimage exe msi dmg", "deb": "deb", "ebook": "epub mobi pdf",
}.items()}
_PLURAL_KINDS = {w + "s": w for w in EXTENSIONS if not w.endswith("s")}
HEAD_KINDS: dict[str, tuple[str, ...]] = {
    "one": (), "ones": (), "thing": (), "things": (), "item": (), "items": (),
    "file": ("file",), "files": ("file",), "document": ("file",), "documents": ("file",),
    "folder": ("directory",), "folders": ("directory",), "directory": ("directory",),
    "directories": ("directory",), "dir": ("directory",), "branch": ("branch",), "branches": ("branch",),
    "process": ("process", "app"), "processes": ("process", "app"), "program": ("process", "app"),
    "programs": ("process", "app"), "app": ("app", "process"), "apps": ("app", "process"),
    "application": ("app", "process"), "window": ("app",), "page": ("url", "file"), "link": ("url",),
    "links": ("url",), "pages": ("url", "file"), "site": ("url",), "website": ("url",), "url": ("url",),
    "commit": ("commit",), "commits": ("commit",), "repo": ("repo",), "repository": ("repo",),
    "project": ("repo", "directory"),
}
ROLES = {"original": "original", "old": "original", "copy": "copy", "copies": "copy", "duplicate": "copy",
         "backup": "copy", "new": "new", "newer": "new", "moved": "new", "renamed": "new",
         "downloaded": "download", "download": "download", "downloads": "download"}
ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3,
            "fifth": 4, "5th": 4, "sixth": 5, "6th": 5, "seventh": 6, "eighth": 7, "ninth": 8, "tenth": 9,
            "last": -1, "final": -1, "penultimate": -2}
SUPERLATIVES = {"biggest": "size", "largest": "size", "heaviest": "size", "smallest": "small", "tiniest": "small",
                "newest": "new", "latest": "new", "recent": "new", "oldest": "old", "earliest": "old"}
COUNTS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "2": 2, "3": 3, "4": 4, "5": 5, "6": 6}
_IGNORED = {"other", "same", "whole", "entire", "current", "big", "small", "little", "empty", "next", "previous",
            "few", "two", "three", "of", "my", "your", "our", "these", "those", "all", "in", "on", "at", "to",
            "from", "for", "with", "and", "or", "both", "a", "an", "up", "just", "untracked", "modified", "changed",
            "staged", "open", "running", "remaining", "most"}
_PAGE_ITSELF = {"front", "home", "main", "start", "landing", "top"}  # "the front page": the page, not a link
_HERE = {"folder", "directory", "dir", "repo", "repository", "project"}  # "this folder": where the person is

_HEADS = sorted(set(HEAD_KINDS) | set(EXTENSIONS) | set(_PLURAL_KINDS) | {"original", "copy", "copies",
                "download", "downloads", "backup", "duplicate"}, key=len, reverse=True)
_HEAD = "|".join(re.escape(h) for h in _HEADS)
_NOUN_PHRASE = re.compile(
    r"\b(?P<det>the|that|this|those|these|all(?: of)? (?:the|those|these|my)|both(?: of)?(?: the)?|my)\s+"
    r"(?P<mods>(?:(?!(?:the|that|this|those|these|my|a|an|to|in|into|of|for|with|on|from|and|or|is|it)\b)"
    r"[\w.+#'-]+\s+){0,3}?)(?P<head>(?:" + _HEAD + r")(?:\s+(?:" + _HEAD + r"))?)\b", re.I)
# "the cv", "the readme": one word that may be a name; it resolves only when a known thing has that name.
_BARE_NAME = re.compile(r"\b(?:the|that|this)\s+(?P<name>[a-z0-9][\w.+-]*)\b", re.I)
_NOT_NAMES = {"same", "other", "rest", "end", "way", "weather", "time", "news", "changes", "web", "internet",
              "computer", "screen", "system", "machine", "user", "world", "most", "best", "first", "last"}
_MOST = re.compile(r"\b(?:the )?(?:one|process|program|app)\s+(?:that(?:'s| is)\s+)?(?:using|eating|taking|"
                   r"hogging|with)\s+(?:the\s+)?most\s+(cpu|memory|ram)\b", re.I)
_PRONOUN = re.compile(r"\b(?P<p>all of them|both of them|them both|them all|the rest of them|those two|these two|"
                      r"that one|this one|them|they|it|those|these|both|there|"
                      r"that|this)\b(?P<after>\s*(?:$|[.,!?;:]|\s(?:to|in|into|with|from|for|on|again|please|"
                      r"now|too|as|and|up|out|away|off|here|there|back|instead|first|then)\b))?", re.I)
_PLURAL_PRONOUNS = {"them", "those", "these", "both", "all of them", "both of them", "them both", "them all",
                    "the rest of them", "those two", "these two", "they"}
# "the one in documents", "the file from downloads": a word of the folder it is in.
_PLACE = re.compile(r"\s+(?:in|from|under|inside|on)\s+(?:the\s+|my\s+|port\s+)?(?P<place>[\w.-]+)", re.I)
_NEEDS_AFTER = {"that", "this"}  # bare "that" is a pronoun only where no noun or clause follows it
_NOT_THERE = re.compile(r"\b(?:really|still|already|actually|even)\s+$", re.I)  # "is it still there"
# "the one I just made", "the file you mentioned first": a clause that says where the thing came from.
_DID = (r"(?P<verb>made|created|wrote|written|saved|added|downloaded|fetched|got|copied|moved|renamed|mentioned|"
        r"said|named|suggested|recommended|deleted|trashed|removed)")
_CLAUSE = re.compile(r"\s+(?:that\s+|which\s+)?(?:i|you|we)(?:'ve|\s+have)?\s+(?:just\s+|recently\s+|only\s+)?"
                     + _DID + r"(?:\s+(?P<when>first|last|earlier|before|now))?\b", re.I)
_WHAT = re.compile(r"\bwhat(?:ever)?\s+(?:i|you)(?:'ve|\s+have)?\s+(?:just\s+)?" + _DID + r"\b", re.I)
_CLAUSE_ROLES = {"made": "new", "created": "new", "wrote": "new", "written": "new", "saved": "new", "added": "new",
                 "downloaded": "download", "fetched": "download", "got": "download", "copied": "copy",
                 "moved": "new", "renamed": "new", "deleted": "gone", "trashed": "gone", "removed": "gone"}
# "the folder it's in", "the folder it went to": the place of the thing, as "there" is.
_CONTAINER = re.compile(r"\b(?:the\s+)?(?:folder|directory|place|location)\s+(?:that\s+)?(?:it|this|that|they)"
                        r"(?:'s|'re|\s+is|\s+was|\s+are|\s+were)?(?:\s+(?:went|got|been|saved|moved|copied|"
                        r"downloaded|put|stored))*\s+(?:in|to|into)\b", re.I)
# "the third", "the last two", "the oldest": an ordinal or superlative with no noun after it.
_ALONE_WORDS = "|".join(sorted([*ORDINALS, *SUPERLATIVES], key=len, reverse=True))
_ORDINAL_ALONE = re.compile(r"\bthe\s+(?:most\s+)?(?P<ord>" + _ALONE_WORDS + r")"
                            r"(?:\s+(?P<count>" + "|".join(COUNTS) + r"))?\b"
                            r"(?=\s*(?:$|[.,!?;:]|(?:and|or|too|please|then|instead|of them)\b))", re.I)


@dataclass
class Expression:
    text: str
    start: int
    end: int
    plural: bool = False
    kinds: tuple[str, ...] = ()
    extensions: frozenset[str] = frozenset()
    role: str = ""
    ordinal: int | None = None
    superlative: str = ""  # size | small | cpu | memory
    words: tuple[str, ...] = ()
    pronoun: str = ""
    unknown: list[str] = field(default_factory=list)
    head: str = ""
    role_word: str = ""  # "backup" in "the backup folder" may be a name, not a role
    places: tuple[str, ...] = ()  # words of the folder the thing is in
    head_kinds: tuple[str, ...] = ()  # the kinds the head noun names (without what an extension implies)
    kind_words: tuple[str, ...] = ()  # "python", "log": also words of a name, when nothing has the extension
    other: bool = False  # "the other branch": not the one just singled out
    count: int | None = None  # "the first two"
    source: str = ""  # "the file you mentioned": what the assistant's answer named


def expressions(text: str) -> list[Expression]:
    """Every referring expression in ``text``, in order, none overlapping another."""
    found: list[Expression] = []
    for match in _CONTAINER.finditer(text):
        found.append(Expression(match.group(0), *match.span(), pronoun="there"))
    for match in _WHAT.finditer(text):
        found.append(_with_clause(Expression(match.group(0), *match.span()), match))
    for match in _MOST.finditer(text):
        metric = "memory" if match.group(1).lower() in ("memory", "ram") else "cpu"
        found.append(Expression(match.group(0), *match.span(), kinds=("process", "app"), superlative=metric))
    for match in _NOUN_PHRASE.finditer(text):
        if not _overlaps(match.span(), found):
            expression = _noun_phrase(match)
            if expression is not None:
                _follow(text, expression)
                found.append(expression)
    for match in _ORDINAL_ALONE.finditer(text):
        if not _overlaps(match.span(), found):
            count = match.group("count")
            word = match.group("ord").lower()
            found.append(Expression(match.group(0), *match.span(), ordinal=ORDINALS.get(word),
                                    superlative=SUPERLATIVES.get(word, ""),
                                    count=COUNTS[count.lower()] if count else None, plural=bool(count)))
    for match in _BARE_NAME.finditer(text):
        name = match.group("name").lower()
        if not _overlaps(match.span(), found) and name not in _NOT_NAMES and name not in ORDINALS \
                and name not in _IGNORED and name not in ("one", "ones"):
            found.append(Expression(match.group(0), *match.span(), words=(name,)))
    for match in _PRONOUN.finditer(text):
        word = match.group("p").lower()
        if _overlaps(match.span("p"), found) or (word in _NEEDS_AFTER and match.group("after") is None):
            continue
        if word == "there" and _NOT_THERE.search(text[:match.start("p")]):
            continue  # "is the copy really there?" asks whether it exists, it names no place
        found.append(Expression(match.group("p"), *match.span("p"), plural=word in _PLURAL_PRONOUNS,
                                pronoun=word))
    return sorted(found, key=lambda e: e.start)


def _follow(text: str, expression: Expression) -> None:
    """What follows a noun phrase and narrows it: where it is, or who made or named it."""
    place = _PLACE.match(text, expression.end)
    if place and place.group("place").lower() not in ("it", "there", "here", "them"):
        expression.places = (place.group("place").lower(),)
        expression.end = place.end()
    clause = _CLAUSE.match(text, expression.end)
    if clause:
        _with_clause(expression, clause)
        expression.end = clause.end()


def _with_clause(expression: Expression, clause: re.Match[str]) -> Expression:
    verb, when = clause.group("verb").lower(), (clause.groupdict().get("when") or "").lower()
    if verb in _CLAUSE_ROLES:
        expression.role = expression.role or _CLAUSE_ROLES[verb]
    else:  # mentioned, said, named, suggested: in the assistant's answer
        expression.source = "assistant"
        expression.ordinal = {"first": 0, "last": -1}.get(when, expression.ordinal)
    return expression


def _overlaps(span: tuple[int, int], found: list[Expression]) -> bool:
    return any(e.start < span[1] and span[0] < e.end for e in found)


def _noun_phrase(match: re.Match[str]) -> Expression | None:
    det = match.group("det").lower()
    heads = match.group("head").lower().split()
    words = [w.lower().strip("'") for w in match.group("mods").split()] + heads
    head = words[-1]
    expression = Expression(match.group(0), *match.span(), plural=det.startswith(("those", "these", "all", "both")))
    if det == "my" and head not in HEAD_KINDS and head not in EXTENSIONS:
        return None  # "my downloads" names a folder, it does not point back at something
    if det == "this" and head in _HERE and not match.group("mods").strip():
        return None  # "this folder" is where the person is, not something shown earlier
    expression.head = head
    for position, word in enumerate(words):
        is_head = position == len(words) - 1
        if len(heads) == 2 and position == len(words) - 2 and word in HEAD_KINDS:
            expression.unknown.append(word)  # "the site one": site is a word of its name here
            continue
        if not _classify(word, expression, is_head):
            return None
    if head in ("page", "site", "website"):
        expression.unknown = [w for w in expression.unknown if w not in _PAGE_ITSELF]
    if expression.unknown:
        expression.words = tuple(expression.unknown)
    return expression


def _classify(word: str, expression: Expression, is_head: bool) -> bool:
    """Fold one word of the phrase into ``expression``; False when the phrase is not a reference."""
    if word in ORDINALS:
        expression.ordinal = ORDINALS[word]
    elif word in COUNTS and expression.ordinal is not None:
        expression.count, expression.plural = COUNTS[word], True
    elif word == "other":
        expression.other = True
    elif word in SUPERLATIVES:
        expression.superlative = SUPERLATIVES[word]
    elif word in ROLES and (is_head or word not in ("download", "downloads")):
        expression.role, expression.role_word = ROLES[word], word
        expression.plural = expression.plural or word in ("copies", "downloads")
    elif word in HEAD_KINDS:
        expression.kinds = expression.kinds if expression.head_kinds else (HEAD_KINDS[word] or expression.kinds)
        expression.head_kinds = expression.head_kinds or HEAD_KINDS[word]
        expression.plural = expression.plural or (is_head and word.endswith("s") and word not in ("process",))
    elif word in EXTENSIONS or word in _PLURAL_KINDS:
        base = _PLURAL_KINDS.get(word, word)
        expression.extensions = expression.extensions | EXTENSIONS[base]
        expression.kinds = expression.kinds or ("file",)
        expression.kind_words = (*expression.kind_words, base)
        expression.plural = expression.plural or (is_head and word in _PLURAL_KINDS)
    elif word in _IGNORED:
        pass
    elif re.fullmatch(r"[a-z0-9][\w.+#-]*", word):
        if word.endswith("ing") or word in ("is", "was", "are", "were", "do", "does"):
            return False  # "the one using …" and clauses are not names
        expression.unknown.append(word)
    else:
        return False
    return True
