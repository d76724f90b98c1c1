"""What the apps server's tools return (each becomes the tool's output schema)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class App(BaseModel):
    id: str = Field(description="desktop file id, e.g. org.gnome.Calculator.desktop")
    name: str
    exec: str = Field(description="the Exec command line, with field codes such as %U")
    categories: list[str]
    path: str = Field(description="the .desktop file")


class AppList(BaseModel):
    apps: list[App]
    more: int = Field(description="how many more matched but were left out")


class Launched(BaseModel):
    pid: int
    app_id: str
    app_name: str
    command: list[str]
    target: str | None = None


class RunningApp(BaseModel):
    pid: int | None = Field(description="process id; None if the X server could not tell")
    name: str
    app_id: str | None = Field(default=None, description="its desktop file id, when one matches")
    wm_class: str
    windows: list[str] = Field(description="window titles")


class RunningList(BaseModel):
    apps: list[RunningApp]
    more: int


class Closed(BaseModel):
    pid: int
    name: str
    method: str = Field(description="how it was asked to stop")
    exited: bool


class CloseResult(BaseModel):
    closed: list[Closed]
    all_exited: bool
    note: str


class Opened(BaseModel):
    target: str = Field(description="the absolute path or URL that was opened")
    kind: str = Field(description="file or url")
    pid: int = Field(description="PID of the opener (xdg-open)")
