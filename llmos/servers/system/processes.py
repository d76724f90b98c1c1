"""Running programs: the busiest, finding them by name, one in detail, and ending one."""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import psutil
from pydantic import Field

from llmos.servers.common import DESTRUCTIVE, READ_ONLY, ToolError, cap
from llmos.servers.system.hardware import SAMPLE_S
from llmos.servers.system.models import FoundProcesses, KillResult, ProcessDetails, ProcessInfo, TopProcesses
from llmos.servers.tooling import Tool, facts

_CMDLINE_CHARS = 200
_ATTRS = ["pid", "name", "username", "memory_info", "cmdline"]


@dataclass(frozen=True)
class SystemContext:
    kill_wait_seconds: float  # how long kill_process waits to see the process go

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> SystemContext:
        return cls(kill_wait_seconds=float(settings.get("kill_wait_seconds", 3.0)))


def _cmdline(parts: list[str] | None) -> str:
    text = " ".join(parts or [])
    return text if len(text) <= _CMDLINE_CHARS else text[:_CMDLINE_CHARS] + "…"


def _sampled_processes() -> list[psutil.Process]:
    """All processes with cpu_percent primed, then measured over one short shared window."""
    procs = list(psutil.process_iter(_ATTRS, ad_value=None))
    for p in procs:
        with contextlib.suppress(psutil.Error):
            p.cpu_percent(None)
    time.sleep(SAMPLE_S)
    return procs


def _info(p: psutil.Process, cpu: float | None = None) -> ProcessInfo:
    d = p.info
    mem = d.get("memory_info")
    return ProcessInfo(pid=p.pid, name=d.get("name") or "?", user=d.get("username"), cpu_percent=cpu,
                       memory_rss=mem.rss if mem else None, cmdline=_cmdline(d.get("cmdline")))


def _process(pid: int) -> psutil.Process:
    try:
        return psutil.Process(pid)
    except psutil.NoSuchProcess:
        raise ToolError(f"No process with PID {pid} is running.") from None


def _exited(p: psutil.Process, within: float) -> bool:
    """Whether ``p`` is gone (or a zombie: dead, only waiting for its parent to collect it).

    Polls rather than p.wait(): wait() would reap llmos's own children and rob whoever started them
    (a Popen in another server) of the real exit status."""
    deadline = time.monotonic() + within
    while True:
        try:
            # is_running() is False once the PID is gone or reused by a newer process.
            if not p.is_running() or p.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)


def top_processes(
    sort_by: Annotated[Literal["cpu", "memory"], Field(description="rank by cpu or memory use")] = "cpu",
    limit: Annotated[int, Field(description="how many to show", ge=1, le=50)] = 10,
) -> TopProcesses:
    """Show which programs are using the most CPU or memory right now (what is hogging the machine), with their PIDs."""
    rows = []
    for p in _sampled_processes():
        try:
            rows.append(_info(p, p.cpu_percent(None)))
        except psutil.Error:  # it exited during the sample
            continue
    rows.sort(key=lambda r: (r.cpu_percent or 0.0, r.memory_rss or 0) if sort_by == "cpu"
              else (r.memory_rss or 0, r.cpu_percent or 0.0), reverse=True)
    shown, more = cap(rows, limit)
    return TopProcesses(sort_by=sort_by, processes=shown, total_processes=len(rows), more=more)


def find_processes(
    name: Annotated[str, Field(description="part of the program name or command line, any case")],
    limit: Annotated[int, Field(description="most matches to show", ge=1, le=100)] = 20,
) -> FoundProcesses:
    """Find running processes whose name or command line contains some text; gives their PIDs."""
    needle = name.strip().lower()
    if not needle:
        raise ToolError("Give part of a process name to search for.")
    found = []
    for p in psutil.process_iter(_ATTRS, ad_value=None):
        text = f"{p.info.get('name') or ''}\0{' '.join(p.info.get('cmdline') or [])}".lower()
        if needle in text:
            found.append(_info(p))
    shown, more = cap(found, limit)
    return FoundProcesses(query=name, pids=[f.pid for f in found], processes=shown, more=more)


def process_details(pid: Annotated[int, Field(description="process ID", ge=1)]) -> ProcessDetails:
    """Everything about one process by PID: command, user, status, parent, children, CPU and memory."""
    p = _process(pid)
    try:
        with p.oneshot():
            d = p.as_dict(["name", "username", "memory_info", "cmdline", "ppid", "status", "exe", "cwd",
                           "create_time", "memory_percent", "num_threads"], ad_value=None)
            children = [c.pid for c in p.children()]
        cpu = p.cpu_percent(interval=SAMPLE_S)
        parent = p.parent()
        parent_name = parent.name() if parent else None
    except psutil.NoSuchProcess:
        raise ToolError(f"Process {pid} exited while being inspected.") from None
    except psutil.AccessDenied:
        raise ToolError(f"Permission denied reading process {pid}.") from None
    mem = d["memory_info"]
    started = d["create_time"] or time.time()
    return ProcessDetails(pid=pid, name=d["name"] or "?", user=d["username"], cpu_percent=cpu,
                          memory_rss=mem.rss if mem else None, cmdline=_cmdline(d["cmdline"]),
                          ppid=d["ppid"], parent_name=parent_name, status=d["status"],
                          exe=d["exe"] or None, cwd=d["cwd"],
                          started=time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
                          running_seconds=int(time.time() - started),
                          memory_percent=round(d["memory_percent"], 2) if d["memory_percent"] else None,
                          threads=d["num_threads"], children=children)


def kill_process(
    ctx: SystemContext,
    pid: Annotated[int, Field(description="process ID to end", ge=1)],
    force: Annotated[bool, Field(description="SIGKILL instead of a polite SIGTERM; use only if it ignored the "
                                             "polite request")] = False,
) -> KillResult:
    """End a process by PID (asks it to quit; force kills it outright). Find the PID first."""
    if pid == 1:
        raise ToolError("Refusing to end PID 1: it is the system's init process and ending it would bring the "
                        "whole system down.")
    if pid in (os.getpid(), os.getppid()):
        raise ToolError(f"Refusing to end PID {pid}: it is llmos itself (or the program running it).")
    p = _process(pid)
    try:
        name = p.name()
        if force:
            p.kill()
        else:
            p.terminate()
    except psutil.NoSuchProcess:
        raise ToolError(f"No process with PID {pid} is running.") from None
    except psutil.AccessDenied:
        owner = p.as_dict(["username"], ad_value=None).get("username") or "another user"
        raise ToolError(f"Permission denied: process {pid} ({name}) belongs to {owner}, so ending it needs "
                        "that user's or administrator rights.") from None
    signal = "SIGKILL" if force else "SIGTERM"
    exited = _exited(p, ctx.kill_wait_seconds)
    message = (f"{name} (PID {pid}) has exited." if exited else
               f"Sent {signal} to {name} (PID {pid}) but it is still running"
               + ("." if force else "; use force to kill it outright."))
    return KillResult(pid=pid, name=name, signal=signal, exited=exited, message=message)


TOOLS = [
    Tool(top_processes, READ_ONLY, facts(), title="Top processes"),
    Tool(find_processes, READ_ONLY, facts(), title="Find processes"),
    Tool(process_details, READ_ONLY, facts(), title="Process details"),
    Tool(kill_process, DESTRUCTIVE, facts(), title="End a process"),
]
