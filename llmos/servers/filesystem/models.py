"""What the filesystem server's tools return (each becomes the tool's output schema)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

PathArg = Annotated[str, Field(description="A file or folder path: absolute, relative, or starting with ~")]


class Entry(BaseModel):
    name: str
    path: str
    type: Literal["file", "directory", "symlink", "other"]
    size: int
    modified: str


class Listing(BaseModel):
    path: str
    entries: list[Entry]
    more: int = Field(description="How many further entries were left out")
    note: str | None = Field(default=None, description="Why the listing is incomplete, if it is")


class TreeResult(BaseModel):
    path: str
    tree: str
    more: int


class StatResult(BaseModel):
    path: str
    type: str
    size: int
    modified: str
    permissions: str
    owner: str
    symlink_target: str | None = None
    mime_type: str | None = None


class FileText(BaseModel):
    path: str
    text: str | None = Field(description="The text read; null for binary files")
    encoding: str | None
    offset: int
    bytes_read: int
    total_bytes: int
    next_offset: int | None = Field(description="Offset to continue reading from; null at end of file")
    binary: bool = False
    description: str | None = None


class Matches(BaseModel):
    path: str
    paths: list[str]
    more: int
    note: str | None = Field(default=None, description="Why the search stopped early, if it did")


class ContentMatch(BaseModel):
    path: str
    line_number: int
    line: str


class ContentMatches(BaseModel):
    path: str
    matches: list[ContentMatch]
    more: int
    files_skipped: int = Field(description="Binary or very large files not searched")
    note: str | None = Field(default=None, description="Why the search stopped early, if it did")


class SizedPath(BaseModel):
    path: str
    size: int


class Largest(BaseModel):
    path: str
    files: list[SizedPath]
    note: str | None = Field(default=None, description="Why the search stopped early, if it did")


class DiskUsage(BaseModel):
    path: str
    total_bytes: int
    files: int
    largest_children: list[SizedPath]
    note: str | None = Field(default=None, description="Why the count stopped early, if it did")


class Changed(BaseModel):
    path: str
    action: str
    undo_id: str | None = Field(default=None, description="Journal entry; `llmos undo` reverses it")
    reversible: bool = True
    source: str | None = None
    size: int | None = None
