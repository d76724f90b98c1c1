"""Tool retrieval: offer a small model only the tools this request needs.

Forty tool schemas fill a 4k context before the conversation starts. Each tool is a BM25 document of its name,
server, description and a few everyday requests (llmos/data/tool-examples.yaml), so "tidy my downloads" finds
move and "is my battery ok" finds battery_status. Then the conversation and the request itself move tools up:
tools used earlier in the conversation (a follow-up like "and the second one?" has no words of its own), and
tools whose parameters take what the request names — a file name, a URL, a pid, a port. Tools are added best
first until the schema budget is spent.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable
from difflib import get_close_matches
from functools import lru_cache
from importlib import resources
from typing import Any

from llmos.agent import facts, model_view
from llmos.agent.host import ToolInfo
from llmos.llm.providers.base import estimate_tokens

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset({
    "the", "a", "an", "my", "me", "i", "is", "are", "of", "to", "in", "on", "for", "and", "or", "it", "what",
    "which", "that", "this", "please", "can", "you", "do", "with", "from", "all", "use", "when", "tool", "be",
    "by", "as", "at", "its", "how", "get", "give", "there", "here", "so", "some", "any", "just", "want",
    "would", "could", "should", "will", "im", "one", "tell", "show", "let", "know", "like", "need", "ok",
    "okay", "thanks", "thank", "hello", "hi", "hey", "now", "again", "also", "then",
    # conversation, not a thing to act on: "how are you doing today?" offered only process_details (its
    # example "what is pid 4242 doing"), and the 0.5B called it with a made-up PID
    "doing", "going", "something", "good", "nice", "great", "really", "very"
})
_FOLDER_NAMES = frozenset({"downloads", "documents", "pictures", "videos", "music", "desktop"})  # folders, not verbs
RECENT_BOOST = 0.55  # on a 0–1 text score: a follow-up leans on what the conversation just used
OLDER_RECENT_BOOST = 0.3  # a tool used earlier in the conversation, not the latest
ARGUMENT_BOOST = 0.3  # the request names something this tool takes (a file, a folder, a port)
MISSING_ARGUMENT = 0.3  # taken off a tool that needs a URL when the request names no URL or file
STRONG_ARGUMENT_BOOST = 0.5  # … that only a few tools take: a URL, a name pattern, a pid
NOT_THE_PAGE = 0.6  # taken off a tool that takes no URL when the request is about one page and nothing else
RELATIVE_FLOOR = 0.15  # tools scoring under this share of the best are not worth their tokens
TYPO_CUTOFF = 0.85  # a word the tools never use may be a typo of one they do ("downlods" → "download")

_FILE = r"\b[\w-]+\.(?!com\b|org\b|net\b|io\b)[a-z0-9]{1,5}\b|(?:^|\s)(?:~|\.{1,2})?/[\w.~-]+/[\w.~/-]*\.\w+"
_FOLDER = (r"\b(?:folders?|director(?:y|ies)|dir|home|downloads|documents|pictures|videos|music|desktop)\b"
           r"|~/\w+/?(?=\s|$)")
# What a file's extension says about it, in the words requests use ("show me photo.jpg" → an image).
_KIND_OF_EXTENSION = {e: kind for kind, extensions in {
    "image": "jpg jpeg png gif webp heic bmp svg tiff", "video": "mp4 mkv avi mov webm",
    "music": "mp3 flac ogg wav m4a", "pdf": "pdf", "spreadsheet": "xlsx xls ods csv",
    "document": "doc docx odt rtf", "archive": "zip tar gz tgz 7z rar",
}.items() for e in extensions.split()}
_NAME_SHAPED = re.compile(r"https?://\S+|\bwww\.\S+|" + _FILE + r"|\b[\w-]+\.(?:com|org|net|io|dev|co\.uk)\b",
                          re.I)
_FILE_NAMED = re.compile(_FILE, re.I)
_URL = re.compile(r"https?://\S+|\bwww\.\S+", re.I)
# Kinds of file a person asks for by the plural: "all my screenshots" is a search by name pattern.
_FILE_KINDS = (r"(?:files|pdfs|photos|pictures|images|screenshots|videos|movies|songs|mp3s|documents|docs|"
               r"spreadsheets|invoices|scans|receipts|backups|logs|zips|archives|ebooks)")
# What a request names → (parameters that take it, a word the tool's description must use or "", boost).
_NAMED: list[tuple[re.Pattern[str], set[str], str, float]] = [
    (re.compile(r"https?://\S+|\bwww\.\S+|\b[\w-]+\.(?:com|org|net|io|dev)\b", re.I), {"url"}, "",
     STRONG_ARGUMENT_BOOST),
    (re.compile(_FILE, re.I), {"path", "source", "destination", "target"}, "file", ARGUMENT_BOOST),
    (re.compile(_FOLDER, re.I), {"path"}, "folder", ARGUMENT_BOOST),
    (re.compile(r"\*\.\w+|\.\w{2,4} files\b|\b(?:all|every|any)\s+(?:of\s+)?(?:the |my |those |these )?(?:\w+ )?"
                + _FILE_KINDS + r"\b", re.I), {"pattern"}, "", STRONG_ARGUMENT_BOOST),
    (re.compile(r"\b(?:pid|process(?: id)?)\s*#?\d+\b", re.I), {"pid"}, "", STRONG_ARGUMENT_BOOST),
    # "open shopping.txt in Notepad Deluxe": a file, then the program to open it in (not a folder, not a site)
    (re.compile(r"(?:" + _FILE + r")\s+(?:in|with|using)\s+(?!(?:the\s+|my\s+)?(?:folder|directory|trash|bin|"
                r"browser|downloads|documents|desktop|pictures|music|videos|home)\b)[a-z]", re.I),
     {"app"}, "opening", STRONG_ARGUMENT_BOOST),
    (re.compile(r"\bport\s*\d+\b", re.I), {"limit"}, "ports", ARGUMENT_BOOST),  # network_info lists ports
]


def words(text: str) -> list[str]:
    """Lower-case word stems without stop words: "files" and "file", "running" and "run" agree."""
    return [w if w in _FOLDER_NAMES else _stem(w) for w in _WORD.findall(text.lower().replace("_", " "))
            if w not in _STOP and len(w) > 1]


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 5 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 4 and word.endswith("ed"):
        return word[:-2]
    if len(word) > 4 and word.endswith("es") and word[-3] in "sxz":
        return word[:-2]  # processes → process
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@lru_cache(maxsize=1)
def examples() -> dict[str, list[str]]:
    """Example requests per tool, keyed server.tool (llmos/data/tool-examples.yaml)."""
    import yaml

    text = resources.files("llmos.data").joinpath("tool-examples.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text) or {}
    return {key: [str(e) for e in value] for key, value in data.items() if isinstance(value, list)}


def document(tool: ToolInfo) -> list[str]:
    """The words a tool is found by; its name counts three times, its examples once each."""
    name = tool.name.replace("_", " ")
    said = [_NAME_SHAPED.sub(_kind_of_name, e) for e in examples().get(tool.qualified, [])]  # as requests are read
    return words(" ".join([name] * 3 + [tool.server, tool.description, *said]))


class _Index:
    """Okapi BM25 over the offered tools, built once per tool set.

    Written out rather than taken from bm25s: for ~60 short documents it is a dictionary walk, and bm25s
    brings numpy, which cost 0.29 s on the first turn of every run (measured here).
    """

    K1, B = 1.5, 0.75

    def __init__(self, tools: tuple[ToolInfo, ...]):
        self.tools = tools
        documents = [document(t) for t in tools]
        self.counts = [Counter(d) for d in documents]
        self.lengths = [len(d) for d in documents]
        self.average = sum(self.lengths) / max(1, len(documents))
        frequency = Counter(w for c in self.counts for w in c)
        total = len(documents)
        self.idf = {w: math.log(1 + (total - n + 0.5) / (n + 0.5)) for w, n in frequency.items()}
        self.vocabulary = set(frequency)

    def corrected(self, request: str) -> str:
        """The request with its typos replaced by the words the tools use: "lsit the files in downlods" →
        "list the files in downloads", so both the ranking and the argument patterns read it."""
        def fix(match: re.Match[str]) -> str:
            word = match.group(0)
            lowered = word.lower()
            if len(lowered) <= 3 or lowered in _STOP or _stem(lowered) in self.vocabulary or lowered in self.vocabulary:
                return word
            return _swapped(lowered, self.vocabulary) or next(
                iter(get_close_matches(lowered, _FOLDER_NAMES, n=1, cutoff=TYPO_CUTOFF)), None) or next(
                iter(get_close_matches(lowered, self.vocabulary, n=1, cutoff=TYPO_CUTOFF)), word)
        return _WORD.sub(fix, request.lower())

    def scores(self, request: str) -> list[float]:
        query = [w for w in words(request) if w in self.vocabulary]
        return [sum(self._term(w, counts, length) for w in query) for counts, length in zip(self.counts,
                                                                                            self.lengths,
                                                                                            strict=True)]

    def _term(self, word: str, counts: Counter[str], length: int) -> float:
        tf = counts.get(word, 0)
        if not tf:
            return 0.0
        norm = tf + self.K1 * (1 - self.B + self.B * length / self.average)
        return self.idf[word] * tf * (self.K1 + 1) / norm


def _kind_of_name(match: re.Match[str]) -> str:
    """A file name counts as the kind its extension says ("photo.jpg" → image), else as nothing (the argument
    boost already says "a file"); a URL or a domain, nothing."""
    name = match.group(0).strip()
    if name.startswith(("http", "www.")) or re.search(r"\.(?:com|org|net|io|dev|co\.uk)$", name):
        return " "
    extension = name.rsplit(".", 1)[-1].lower()
    return f" {_KIND_OF_EXTENSION.get(extension, '')} "


def _swapped(word: str, vocabulary: set[str]) -> str | None:
    """A known word that ``word`` is with two neighbouring letters swapped ("lsit" → "list"): the commonest
    typo, and one that a similarity ratio scores too low for short words."""
    for i in range(len(word) - 1):
        candidate = word[:i] + word[i + 1] + word[i] + word[i + 2:]
        if candidate != word and (candidate in vocabulary or _stem(candidate) in vocabulary):
            return candidate
    return None


_INDEXES: dict[tuple[tuple[str, str], ...], _Index] = {}


def _index(tools: tuple[ToolInfo, ...]) -> _Index:
    key = tuple((t.exposed, t.description) for t in tools)
    if key not in _INDEXES:
        if len(_INDEXES) >= 4:
            _INDEXES.clear()
        _INDEXES[key] = _Index(tools)
    return _INDEXES[key]


def schema_tokens(tool: ToolInfo) -> int:
    """What offering this tool costs in the prompt (its JSON schema as the provider will send it)."""
    return estimate_tokens(json.dumps({"name": tool.exposed, "description": tool.description,
                                       "parameters": model_view.schema(tool.input_schema)}, separators=(",", ":")))


def _parameters(tool: ToolInfo) -> set[str]:
    properties: Any = tool.input_schema.get("properties")
    return set(properties) if isinstance(properties, dict) else set()


def _argument_boost(tool: ToolInfo, request: str) -> float:
    """The largest boost among the things the request names that this tool takes. A name inside a URL is
    the URL's: "summarise http://…/news.html" names a page, not a file news.html (the 0.5B read_file'd it)."""
    outside = _URL.sub(" ", request)
    boosts = [boost for i, (pattern, parameters, described, boost) in enumerate(_NAMED)
              if _parameters(tool) & parameters and (not described or described in tool.description.lower())
              and pattern.search(request if i == 0 else outside)]
    return max(boosts, default=0.0)


def _missing_argument(tool: ToolInfo, request: str) -> float:
    """A tool that can only act on a URL, when the request names none: "open notepad deluxe" is an app to
    launch, not a page (open_url) — the words "open" and "go to" alone do not say which. And a tool that takes
    no URL, when the request names a URL and no file or folder outside it."""
    required = tool.input_schema.get("required")
    if _URL.search(request) and not facts.url_args(tool) and not _outside_url(request):
        # Measured: "how much is the kettle on http://…/shop.html?" offered system disk_usage first ("how
        # much … free"), and the 0.5B answered with the disk's free space.
        return NOT_THE_PAGE
    if not isinstance(required, list) or not required:
        return 0.0
    if set(required) <= set(facts.url_args(tool)):
        return 0.0 if _NAMED[0][0].search(request) or _FILE_NAMED.search(request) else MISSING_ARGUMENT
    return 0.0


def _outside_url(request: str) -> bool:
    """The request names a file or folder besides its URL."""
    outside = _URL.sub(" ", request)
    return bool(_FILE_NAMED.search(outside) or re.search(_FOLDER, outside, re.I))


def rank(tools: Iterable[ToolInfo], request: str, recent: Iterable[str] = ()) -> list[tuple[float, ToolInfo]]:
    """Tools best first, each with its score: BM25 relative to the best match, plus the boosts."""
    ordered = tuple(sorted(tools, key=lambda t: t.exposed))
    if not ordered:
        return []
    index = _index(ordered)
    request = index.corrected(request)
    # A file name or URL is an argument, not words: "main.py" says "a file tool", not "the git tool whose
    # example stages main.py". The argument boosts below read it instead.
    text_scores = index.scores(_NAME_SHAPED.sub(_kind_of_name, request))
    best = max(text_scores) or 1.0
    recent_list = list(recent)
    latest = recent_list[-1] if recent_list else None
    scored = []
    for tool, text_score in zip(ordered, text_scores, strict=True):
        score = text_score / best
        if tool.exposed == latest:
            score += RECENT_BOOST
        elif tool.exposed in recent_list:
            score += OLDER_RECENT_BOOST
        score += _argument_boost(tool, request) - _missing_argument(tool, request)
        scored.append((score, tool))
    scored.sort(key=lambda pair: (-pair[0], not pair[1].read_only, pair[1].exposed))
    return scored


def select(tools: dict[str, ToolInfo], request: str, budget_tokens: int, recent: Iterable[str] = (),
           offer_all: bool = False) -> list[ToolInfo]:
    """The tools to offer: all of them for big contexts, else the best-ranked that fit ``budget_tokens``."""
    if offer_all:
        return list(tools.values())
    ranked = rank(tools.values(), request, recent)
    top = ranked[0][0] if ranked else 0.0
    chosen, spent = [], 0
    for score, tool in ranked:
        if score <= 0 or score < RELATIVE_FLOOR * top:
            break  # nothing in the request points at this tool
        cost = schema_tokens(tool)
        if spent + cost > budget_tokens:
            continue
        chosen.append(tool)
        spent += cost
    return chosen
