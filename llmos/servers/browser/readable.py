"""Pages as text. HTML becomes text with the stdlib ``html.parser``: it is tolerant of broken markup and
enough for headings, paragraphs, lists and links, so no extra dependency is needed."""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser
from typing import Any, NamedTuple
from urllib.parse import urljoin, urlsplit

from llmos.servers.browser.models import Link
from llmos.servers.browser.policy import Policy

HTML_TYPES = {"text/html", "application/xhtml+xml"}
TEXT_TYPES = {"application/json", "application/xml", "application/javascript", "application/x-yaml"}
SKIP_TAGS = {"script", "style", "noscript", "template", "svg", "iframe", "object", "canvas"}
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
BLOCK_TAGS = {"p", "div", "section", "article", "main", "header", "footer", "nav", "aside", "blockquote",
              "pre", "table", "tr", "ul", "ol", "dl", "dt", "dd", "figure", "figcaption", "form", "address",
              "hr", "br", "li", "body", "html"} | HEADINGS


class Readable(HTMLParser):
    """HTML to markdown-ish blocks: '# ' headings, '- ' list items, paragraphs; script/style dropped."""

    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base, self.title = base, ""
        self.blocks: list[str] = []
        self.links: list[Link] = []
        self._seen: set[str] = set()
        self._buf: list[str] = []
        self._prefix, self._skip, self._pre, self._in_title = "", 0, 0, False
        self._href: str | None = None
        self._link_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIP_TAGS:
            self._skip += 1
        if self._skip:
            return
        href = dict(attrs).get("href")
        if tag == "title":
            self._in_title = True
        elif tag == "base" and href:
            self.base = urljoin(self.base, href)
        elif tag == "a":
            self._end_link()
            self._href = urljoin(self.base, href) if href else None
        elif tag in ("td", "th") and "".join(self._buf).strip():
            self._buf.append(" | ")
        elif tag in BLOCK_TAGS:
            self._flush()
            if tag in HEADINGS:
                self._prefix = "#" * int(tag[1]) + " "
            elif tag == "li":
                self._prefix = "- "
        self._pre += tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
            return
        if self._skip:
            return
        if tag == "title":
            self._in_title = False
        elif tag == "a":
            self._end_link()
        elif tag in BLOCK_TAGS:
            self._flush()
            self._prefix = ""  # an empty <li></li> must not prefix the next paragraph
        self._pre = max(0, self._pre - (tag == "pre"))

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_title:
            self.title += data
            return
        if self._href is not None:
            self._link_text.append(data)
        self._buf.append(data)

    def close(self) -> None:
        super().close()
        self._end_link()
        self._flush()
        self.title = " ".join(self.title.split())

    def _flush(self) -> None:
        text = "".join(self._buf)
        text = text.strip("\n") if self._pre else " ".join(text.split())
        self._buf = []
        if text.strip():
            self.blocks.append(self._prefix + text)
            self._prefix = ""

    def _end_link(self) -> None:
        if self._href and urlsplit(self._href).scheme in ("http", "https") and self._href not in self._seen:
            self._seen.add(self._href)
            text = " ".join("".join(self._link_text).split())
            self.links.append(Link(text=text or self._href, url=self._href))
        self._href, self._link_text = None, []


def media_type(response: Any) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


def decode(body: bytes, content_type: str, html: bool) -> str:
    match = re.search(r"charset=[\"']?([\w.:-]+)", content_type, re.IGNORECASE)
    charset = match.group(1) if match else None
    if charset is None and html:  # <meta charset="…"> or the http-equiv form, within the first few KB
        meta = re.search(rb"<meta[^>]+charset=[\"']?([\w.:-]+)", body[:4096], re.IGNORECASE)
        charset = meta.group(1).decode("ascii") if meta else None
    try:  # LookupError also covers non-text codecs a hostile page might name (rot13, zlib, base64)
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


class Content(NamedTuple):
    kind: str  # media type
    blocks: list[str]  # paragraphs, headings, list items (HTML) or lines (plain text)
    title: str | None = None
    links: list[Link] = []
    truncated: bool = False  # cut at max_bytes


def content_of(response: Any, policy: Policy, url: str) -> Content:
    kind = media_type(response)
    textual = kind in HTML_TYPES | TEXT_TYPES or kind.startswith("text/") or kind.endswith(("json", "xml"))
    if kind and not textual:  # describe it rather than download it
        size = response.headers.get("content-length", "")
        what = f"{int(size):,} bytes" if size.isdigit() else "unknown size"
        return Content(kind, [f"[Not shown: {kind} content ({what}), not a page. Use download to save it.]"])
    chunks: list[bytes] = []
    deadline = time.monotonic() + policy.timeout_s
    _, truncated = policy.read(response, url, policy.max_bytes, chunks.append, deadline)
    body = b"".join(chunks)
    if not kind:  # no Content-Type: sniff
        if b"\0" in body[:1024]:
            return Content("application/octet-stream",
                           [f"[Not shown: binary content ({len(body):,} bytes). Use download to save it.]"])
        html = body[:512].lstrip().lower().startswith((b"<!doctype html", b"<html"))
        kind = "text/html" if html else "text/plain"
    text = decode(body, response.headers.get("content-type", ""), kind in HTML_TYPES)
    if kind not in HTML_TYPES:
        return Content(kind, [line.rstrip() for line in text.splitlines()], truncated=truncated)
    parser = Readable(url)
    parser.feed(text)
    parser.close()
    return Content(kind, parser.blocks, parser.title or None, parser.links, truncated)


def join_blocks(blocks: list[str]) -> str:
    out: list[str] = []
    for i, block in enumerate(blocks):
        if i:  # list items stay together; other blocks get a blank line between them
            out.append("\n" if block.startswith("- ") and blocks[i - 1].startswith("- ") else "\n\n")
        out.append(block)
    return "".join(out)


def snip(text: str, query: str, width: int = 300) -> str:
    """``text`` cut to about ``width`` characters around the first match of ``query``."""
    if len(text) <= width:
        return text
    at = max(0, text.lower().find(query.lower()) - width // 3)
    return ("…" if at else "") + text[at:at + width] + ("…" if at + width < len(text) else "")
