"""The git server's answers: structured fields, so a model never has to parse git's own output."""

from __future__ import annotations

from pydantic import BaseModel, Field


class FileChange(BaseModel):
    path: str
    change: str = Field(description="added, modified, deleted, renamed, copied or type changed")
    old_path: str | None = None


class Status(BaseModel):
    repo: str
    branch: str | None = Field(description="current branch; null when HEAD is detached")
    detached: bool
    head: str | None = Field(description="sha of the current commit; null before the first commit")
    upstream: str | None
    ahead: int
    behind: int
    in_progress: str | None = Field(description="merge, rebase, cherry-pick, revert or bisect, if underway")
    staged: list[FileChange]
    unstaged: list[FileChange]
    untracked: list[str]
    conflicted: list[str]
    clean: bool
    more: int = Field(description="entries left out of the lists above")
    note: str


class Diff(BaseModel):
    repo: str
    branch: str | None
    against: str
    files: list[str]
    diff: str
    bytes: int = Field(description="size of the whole diff")
    truncated: bool
    note: str


class Commit(BaseModel):
    sha: str
    short_sha: str
    author: str
    email: str
    date: str
    subject: str


class Log(BaseModel):
    repo: str
    branch: str | None
    commits: list[Commit]
    more: int = Field(description="matching commits left out")
    note: str


class Shown(Commit):
    repo: str
    message: str
    parents: list[str]
    files: list[FileChange]
    patch: str
    bytes: int
    truncated: bool
    note: str = ""


class Branch(BaseModel):
    name: str
    sha: str
    current: bool
    remote: bool
    upstream: str | None
    track: str = Field(description="e.g. 'ahead 1, behind 2', 'gone', or empty")


class Branches(BaseModel):
    repo: str
    branch: str | None
    detached: bool
    branches: list[Branch]
    more: int


class BranchChange(BaseModel):
    repo: str
    branch: str = Field(description="the branch acted on")
    sha: str
    current_branch: str | None
    note: str


class Files(BaseModel):
    repo: str
    branch: str | None
    files: list[str]
    more: int
    note: str


class Committed(Files):
    detached: bool
    sha: str
    short_sha: str
    subject: str


class Stash(BaseModel):
    ref: str = Field(description="e.g. stash@{0}")
    sha: str
    message: str
    date: str


class Stashes(BaseModel):
    repo: str
    branch: str | None
    stashes: list[Stash]
    more: int


class Stashed(BaseModel):
    repo: str
    branch: str | None
    stash: Stash
    note: str


class Reset(Files):
    old_sha: str | None
    new_sha: str
    commits_dropped: int


class Pulled(Files):
    remote: str
    url: str
    old_sha: str | None
    new_sha: str | None
    commits: int


class Pushed(BaseModel):
    repo: str
    branch: str
    remote: str
    url: str
    remote_branch: str
    sha: str
    forced: bool
    up_to_date: bool
    set_upstream: bool
    note: str


class NewRepo(BaseModel):
    repo: str
    branch: str | None
    sha: str | None
    url: str | None
    note: str
