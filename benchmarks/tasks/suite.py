"""The everyday-task suite: tasks read from the YAML files beside this module, each set up in a throwaway
home (files, a git repository, a running program, desktop entries, a web site on 127.0.0.1) and judged by
the state afterwards. Used by benchmarks/bench_tasks.py and tests/test_tasks_real.py."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
SERVERS = ("filesystem", "git", "system", "apps", "browser", "no_tool")


@dataclass
class Task:
    id: str
    group: str  # the YAML file: a server's name, or no_tool
    request: str
    setup: dict[str, Any] = field(default_factory=dict)
    check: dict[str, Any] = field(default_factory=dict)

    @property
    def needs_no_tool(self) -> bool:
        return self.group == "no_tool"


def load(only: list[str] | None = None) -> list[Task]:
    """Every task, in file order; ``only`` keeps tasks whose id or group starts with one of the words."""
    tasks = []
    for group in SERVERS:
        path = HERE / f"{group}.yaml"
        try:
            raws = yaml.safe_load(path.read_text(encoding="utf-8"))["tasks"]
        except (yaml.YAMLError, KeyError, TypeError) as exc:
            raise SystemExit(f"{path.name}: not a task list ({str(exc).splitlines()[0]})") from None
        for i, raw in enumerate(raws):
            if not isinstance(raw, dict) or "id" not in raw or "request" not in raw:
                raise SystemExit(f"{path.name}: task {i + 1} needs an id and a request")
            tasks.append(Task(raw["id"], group, raw["request"], raw.get("setup") or {}, raw.get("check") or {}))
    if only:
        tasks = [t for t in tasks if any(t.id.startswith(w) or t.group.startswith(w) for w in only)]
    return tasks


_DESKTOP = {"notepad-deluxe": ("Notepad Deluxe", "Utility;TextEditor;", "%F"),
            "tune-player": ("Tune Player", "AudioVideo;Audio;Player;", "%U"),
            "star-chart": ("Star Chart", "Education;Science;Astronomy;", "")}
_RECORDER = "#!/bin/sh\necho \"{name} $*\" >> \"$HOME/{log}\"\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _executable(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


class Sandbox:
    """A home directory under ``root`` (always the same path, so the engine's prompt prefix is reused from
    task to task), with XDG dirs inside it and the programs a task starts."""

    def __init__(self, root: Path):
        self.root = root
        self.home = root / "home"
        self.bin = root / "bin"
        self.processes: dict[str, subprocess.Popen] = {}
        self.values: dict[str, str] = {}

    # ---- building ----------------------------------------------------------------------------------------

    def build(self, task: Task, config: str) -> None:
        self.close()
        shutil.rmtree(self.root, ignore_errors=True)
        for sub in (".config/llm-os", ".local/state", ".local/share", ".cache", ".etc"):
            (self.home / sub).mkdir(parents=True)
        (self.root / "share").mkdir()  # XDG_DATA_DIRS: no system-wide applications
        self.bin.mkdir()
        _executable(self.bin / "xdg-open", _RECORDER.format(name="xdg-open", log=".opened"))
        (self.home / ".gitconfig").write_text("[user]\n\tname = Sam Tester\n\temail = sam@example.org\n"
                                              "[init]\n\tdefaultBranch = main\n", encoding="utf-8")
        self.values = {"home": str(self.home)}
        setup = task.setup
        for d in setup.get("dirs") or []:
            (self.home / d).mkdir(parents=True, exist_ok=True)
        for name, text in (setup.get("files") or {}).items():
            self._write(name, text.encode())
        for name, size in (setup.get("sized") or {}).items():
            self._write(name, b"\0" * int(size))
        for name, when in (setup.get("mtime") or {}).items():
            stamp = datetime.fromisoformat(when).timestamp()
            os.utime(self.home / name, (stamp, stamp))
        if setup.get("git"):
            self._git(setup["git"])
        if setup.get("apps"):
            self._apps()
        if setup.get("daemon") or "{daemon_pid}" in task.request:
            self._daemon()
        if setup.get("web") or "{url}" in task.request or "{port}" in task.request:
            self._web()
        (self.home / ".config/llm-os/llm.yaml").write_text(config.replace("{home}", str(self.home)), encoding="utf-8")

    def _write(self, name: str, data: bytes) -> None:
        path = self.home / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def git(self, *args: str) -> str:
        env = {**os.environ, "HOME": str(self.home), "GIT_CONFIG_NOSYSTEM": "1"}
        done = subprocess.run(["git", *args], cwd=self.home, env=env, capture_output=True, text=True, check=True)
        return done.stdout

    def _git(self, spec: dict[str, Any]) -> None:
        self.git("init", "-q")
        for commit in spec.get("commits") or []:
            for name, text in (commit.get("files") or {}).items():
                self._write(name, text.encode())
            self.git("add", "-A")
            author = ["--author", commit["author"]] if commit.get("author") else []
            self.git("commit", "-q", "-m", commit["message"], *author)
        for branch in spec.get("branches") or []:
            self.git("branch", branch)
        if spec.get("checkout"):
            self.git("checkout", "-q", spec["checkout"])
        for name, text in (spec.get("edit") or {}).items():
            self._write(name, text.encode())

    def _apps(self) -> None:
        folder = self.home / ".local/share/applications"
        folder.mkdir(parents=True)
        for program, (name, categories, code) in _DESKTOP.items():
            _executable(self.bin / program, _RECORDER.format(name=program, log=".launched"))
            (folder / f"{program}.desktop").write_text(
                f"[Desktop Entry]\nType=Application\nName={name}\nExec={self.bin / program} {code}\n"
                f"Categories={categories}\n", encoding="utf-8")

    def _daemon(self) -> None:
        program = self.bin / "backup-daemon"
        shutil.copy(shutil.which("sleep") or "/bin/sleep", program)
        self.processes["daemon"] = subprocess.Popen([str(program), "3600"], start_new_session=True)
        self.values["daemon_pid"] = str(self.processes["daemon"].pid)

    def _web(self) -> None:
        site = self.root / "site"
        shutil.copytree(HERE / "site", site)
        port = _free_port()
        self.processes["web"] = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"], cwd=site,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.values.update(port=str(port), url=f"http://127.0.0.1:{port}", web_pid=str(self.processes["web"].pid))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"the task web server did not start on port {port}")

    def request(self, task: Task) -> str:
        return fill(task.request, self.values)

    def environment(self) -> dict[str, str]:
        h = self.home
        return {"HOME": str(h), "XDG_CONFIG_HOME": str(h / ".config"), "XDG_STATE_HOME": str(h / ".local/state"),
                "XDG_DATA_HOME": str(h / ".local/share"), "XDG_CACHE_HOME": str(h / ".cache"),
                "LLM_OS_SYSTEM_CONFIG_DIR": str(h / ".etc"), "XDG_DATA_DIRS": str(self.root / "share"),
                "PATH": f"{self.bin}:{os.environ.get('PATH', '/usr/bin:/bin')}", "SHELL": "/bin/bash",
                "DISPLAY": ":99", "GIT_CONFIG_NOSYSTEM": "1", "NO_COLOR": "1"}

    def close(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
            process.wait()
        self.processes.clear()


def fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def machine_values() -> dict[str, str]:
    """Facts about this machine an answer may be checked against."""
    import getpass

    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {"hostname": socket.gethostname(), "cpus": str(os.cpu_count()), "user": getpass.getuser(),
            "mem_gib": str(round(total / 2**30)), "mem_gib1": f"{total / 2**30:.1f}",
            "mem_gb": str(round(total / 1e9)), "mem_gb1": f"{total / 1e9:.1f}"}
