"""Judging one task by the state it left: files, the repository, processes, what was launched or opened,
and what the answer says. A failure gets one class: no call, false call, wrong tool, wrong arguments,
wrong answer (the right tool ran but the answer missed the fact), loop, step limit, error."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.tasks.suite import Sandbox, Task, fill, machine_values

LOOP_TEXT = "I stopped: the model asked for"


@dataclass
class Outcome:
    status: int
    text: str
    calls: list[dict[str, Any]] = field(default_factory=list)  # {"tool": "server.name", "arguments", "ok"}
    step_limit_hit: bool = False
    error: str = ""


@dataclass
class Verdict:
    ok: bool
    failure: str = ""  # the class, when not ok
    detail: str = ""


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _state_problems(check: dict[str, Any], box: Sandbox) -> list[str]:
    home, problems = box.home, []
    for name in _as_list(check.get("exists") or []):
        path = home / name
        if not (path.is_dir() if name.endswith("/") else path.exists()):
            problems.append(f"{name} does not exist")
    problems += [f"{n} still exists" for n in _as_list(check.get("missing") or []) if (home / n).exists()]
    for name, texts in (check.get("file_contains") or {}).items():
        body = (home / name).read_text(errors="replace") if (home / name).is_file() else ""
        problems += [f"{name} lacks {t!r}" for t in _as_list(texts) if t not in body]
    for log, key in ((".launched", "launched"), (".opened", "opened")):
        record = (home / log).read_text() if (home / log).exists() else ""
        problems += [f"{key} lacks {t!r}" for t in check.get(key) or [] if t not in record]
    if check.get("process_gone") and box.processes["daemon"].poll() is None:
        problems.append("backup-daemon still runs")
    return problems + _git_problems(check, box)


def _git_problems(check: dict[str, Any], box: Sandbox) -> list[str]:
    if not any(k.startswith("git_") for k in check):
        return []
    problems = []
    try:
        if "git_last_message" in check and check["git_last_message"] not in box.git("log", "-1", "--format=%s"):
            problems.append("the last commit is not the requested one")
        if check.get("git_clean") and box.git("status", "--porcelain", "--untracked-files=no").strip():
            problems.append("the working tree is not clean")
        branches = box.git("branch", "--format=%(refname:short)").split()
        if "git_branch_exists" in check and check["git_branch_exists"] not in branches:
            problems.append(f"no branch {check['git_branch_exists']}")
        if "git_branch_missing" in check and check["git_branch_missing"] in branches:
            problems.append(f"branch {check['git_branch_missing']} still exists")
        if "git_head" in check and box.git("branch", "--show-current").strip() != check["git_head"]:
            problems.append(f"HEAD is not {check['git_head']}")
        if "git_stashes" in check and len(box.git("stash", "list").splitlines()) != check["git_stashes"]:
            problems.append("no stash was made")
        if "git_staged" in check and sorted(box.git("diff", "--cached", "--name-only").split()) != sorted(
                check["git_staged"]):
            problems.append("the staged files are not the requested ones")
    except subprocess.CalledProcessError as exc:
        problems.append(f"git failed: {exc.stderr.strip()[:100]}")
    return problems


def says(text: str, wanted: str) -> bool:
    """Whether the answer states ``wanted``; a number only as a whole number: a RAM size of "25" is not in
    "25.0% of the disk is free" (the first 0.5B run passed sys-memory on a disk_usage answer that way)."""
    if re.fullmatch(r"\d+(\.\d+)?", wanted):
        return re.search(rf"(?<![\d.]){re.escape(wanted)}(?!\.?\d)", text) is not None
    return wanted.lower() in text.lower()


def _answer_problems(check: dict[str, Any], text: str, values: dict[str, str]) -> list[str]:
    wanted_all = [fill(str(t), values) for t in check.get("answer_all") or []]
    wanted_any = [fill(str(t), values) for t in check.get("answer_any") or []]
    problems = [f"the answer lacks {t!r}" for t in wanted_all if not says(text, t)]
    if wanted_any and not any(says(text, t) for t in wanted_any):
        problems.append(f"the answer has none of {wanted_any[:4]}")
    return problems


def judge(task: Task, box: Sandbox, outcome: Outcome) -> Verdict:
    if outcome.error:
        return Verdict(False, "error", outcome.error)
    names = [c["tool"] for c in outcome.calls]
    if task.needs_no_tool:
        if names:
            return Verdict(False, "false call", ", ".join(names))
        problems = _answer_problems(task.check, outcome.text, {})
        return Verdict(not problems, "wrong answer" if problems else "", "; ".join(problems))
    values = {**machine_values(), **box.values}
    problems = _state_problems(task.check, box) + _answer_problems(task.check, outcome.text, values)
    called = task.check.get("called")
    if called and not any(n in called for n in names):
        problems.append(f"none of {called} was called")
    if not problems:
        return Verdict(True)
    return Verdict(False, _failure_class(task, outcome, names), "; ".join(problems))


def _failure_class(task: Task, outcome: Outcome, names: list[str]) -> str:
    if outcome.text.startswith(LOOP_TEXT):
        return "loop"
    if outcome.step_limit_hit:
        return "step limit"
    if not names:
        return "no call"
    if not any(n.startswith(task.group + ".") for n in names):
        return "wrong tool"
    answer_only = not any(k in task.check for k in ("exists", "missing", "file_contains", "launched", "opened",
                                                  "process_gone")) and not any(k.startswith("git_") for k in task.check)
    if answer_only and all(c.get("ok") for c in outcome.calls if c["tool"].startswith(task.group + ".")):
        return "wrong answer"
    return "wrong arguments"


def home_files(home: Path) -> list[str]:
    """What the home holds, for a failure's detail."""
    return sorted(str(p.relative_to(home)) for p in home.rglob("*") if not any(
        part.startswith(".") for part in p.relative_to(home).parts))[:30]
