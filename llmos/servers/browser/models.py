"""The browser server's answers. Everything fetched is marked untrusted, in a field and in the text."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Link(BaseModel):
    text: str = Field(description="The link's visible text")
    url: str = Field(description="Absolute address the link points to")


class Page(BaseModel):
    url: str = Field(description="The address asked for")
    final_url: str = Field(description="The address the content came from, after redirects")
    redirects: list[str] = Field(description="Addresses passed through before final_url")
    status: int
    content_type: str
    title: str | None
    text: str = Field(description="Readable text (markdown-ish), wrapped in untrusted-content markers")
    offset: int = Field(description="Character offset of this window into the page's full text")
    more_chars: int = Field(description="Characters of text after this window (ask again with offset)")
    truncated: bool = Field(description="True if the download stopped at the size limit")
    links: list[Link]
    more_links: int
    untrusted: bool = True


class Match(BaseModel):
    position: int = Field(description="Index of the matching line/paragraph in the page")
    text: str = Field(description="The matching line or paragraph (long ones cut around the match)")
    before: list[str] = Field(description="Lines/paragraphs just before it")
    after: list[str] = Field(description="Lines/paragraphs just after it")


class SearchResult(BaseModel):
    url: str
    final_url: str
    query: str
    matches: list[Match]
    more: int = Field(description="Further matches not shown")
    notice: str
    untrusted: bool = True
    note: str | None = None


class Download(BaseModel):
    url: str
    final_url: str
    path: str = Field(description="Where the file was saved")
    bytes: int
    content_type: str
    overwritten: bool = Field(description="True if an existing file at path was replaced")
    untrusted: bool = True


class Opened(BaseModel):
    url: str
    pid: int = Field(description="PID of the opener process (xdg-open)")
