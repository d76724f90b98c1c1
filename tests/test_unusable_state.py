"""A state or data folder llmos cannot write — a file where the folder should be, a folder the kernel refuses
writes in, a disk that takes no more bytes — never stops an answer: each record that could not be saved
(conversation, audit log, usage, undo journal) is named once, in one line, with its path and the reason,
and a change that could not be journaled first is not made.

Tests run as root, where a chmod'ed folder is still writable; so the refusals here are real ones: a regular
file in place of a folder, /sys (where the kernel refuses new folders), and RLIMIT_FSIZE on a real process
(the kernel refuses every write that would grow a file, as a full disk does)."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import scripted_model, servers_config, write_user_config
from tests.inprocess import llmos
from tests.scripted_model import ScriptedModel, openai_text, openai_tool_calls


@pytest.fixture
def files(tmp_path: Path) -> Path:
    root = tmp_path / "work"
    root.mkdir()
    (root / "notes.txt").write_text("keep me\n")
    return root


@pytest.fixture
def model(isolated_home: Path, files: Path):
    with scripted_model(isolated_home, files) as scripted:
        yield scripted


def _lines(err: str, start: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith(start)]


def _script_a_delete(model: ScriptedModel, files: Path) -> None:
    """A delete, then an answer: two model turns, so every record is written more than once."""
    model.say(openai_tool_calls(("delete", {"path": str(files / "notes.txt")})), openai_text("I could not delete it."))


def test_files_where_the_state_and_data_folders_should_be(model: ScriptedModel, files: Path,
                                                          isolated_home: Path) -> None:
    state, data = isolated_home / "state" / "llm-os", isolated_home / "data" / "llm-os"
    state.write_text("not a folder\n")
    data.write_text("not a folder\n")
    _script_a_delete(model, files)
    out = llmos("run", "--yes", "delete notes.txt")
    assert out.returncode == 0, out.stderr
    assert "I could not delete it." in out.stdout
    assert "Traceback" not in out.stderr and "unexpected error" not in out.stderr
    for what, where, folder in (("this conversation", data / "sessions", data), ("the audit log", state, state),
                                ("usage records", state, state)):
        [line] = _lines(out.stderr, f"llmos: could not save {what} to {where}")  # once, however many writes
        assert f"{folder} is a file, not a folder" in line
    assert (files / "notes.txt").read_text() == "keep me\n"  # no journal line first: no change
    told = model.requests()[1]["messages"][-1]["content"]
    assert f"cannot write the undo journal {state / 'undo.jsonl'}" in told and "nothing was changed" in told
    assert state.read_text() == data.read_text() == "not a folder\n"  # nothing written over them


def test_folders_where_the_kernel_refuses_writes(model: ScriptedModel, files: Path, isolated_home: Path) -> None:
    write_user_config(isolated_home, model.config(servers_config(files)))  # the config stays readable
    _script_a_delete(model, files)
    refused = {"XDG_STATE_HOME": "/sys/kernel", "XDG_DATA_HOME": "/sys/kernel"}  # mkdir there: EPERM or EROFS
    out = llmos("run", "--yes", "delete notes.txt", env=refused)
    assert out.returncode == 0, out.stderr
    assert "I could not delete it." in out.stdout and "Traceback" not in out.stderr
    saved = _lines(out.stderr, "llmos: could not save ")
    assert len(saved) == 3 and all("/sys/kernel/llm-os/" in line for line in saved), out.stderr
    assert all(("operation not permitted" in line or "read-only file system" in line) for line in saved)
    assert (files / "notes.txt").exists()
    assert not os.path.lexists("/sys/kernel/llm-os")


def _no_file_may_grow() -> None:
    """In the child: any write that would grow a regular file fails (EFBIG), instead of killing it."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def test_a_disk_that_takes_no_more_bytes(model: ScriptedModel, files: Path, isolated_home: Path) -> None:
    _script_a_delete(model, files)
    out = subprocess.run([sys.executable, "-m", "llmos", "run", "--yes", "delete notes.txt"], capture_output=True,
                         text=True, timeout=120, env=dict(os.environ), stdin=subprocess.DEVNULL,
                         preexec_fn=_no_file_may_grow)
    assert out.returncode == 0, out.stderr
    assert "I could not delete it." in out.stdout and "Traceback" not in out.stderr
    state = isolated_home / "state" / "llm-os"
    for what, where in (("this conversation", isolated_home / "data" / "llm-os" / "sessions"),
                        ("the audit log", state / "audit.jsonl"), ("usage records", state / "usage.sqlite3")):
        [line] = _lines(out.stderr, f"llmos: could not save {what} to {where}")
        assert "file too large" in line or "disk I/O error" in line, line  # the kernel's word, or SQLite's
    assert (files / "notes.txt").read_text() == "keep me\n"
    assert "nothing was changed" in model.requests()[1]["messages"][-1]["content"]


def test_the_shell_goes_on_with_its_folders_unusable(model: ScriptedModel, files: Path,
                                                     isolated_home: Path) -> None:
    from prompt_toolkit.input import create_pipe_input

    (isolated_home / "state" / "llm-os").write_text("not a folder\n")
    (isolated_home / "data" / "llm-os").write_text("not a folder\n")
    model.say(openai_text("First answer."), openai_text("Second answer."))
    with create_pipe_input() as pipe:
        pipe.send_text("hello\r!echo escaped\rand again\r/exit\r")
        out = llmos(prompt_input=pipe, width=200)  # the shell, a person at the keyboard
    assert out.returncode == 0, out.stderr
    text = out.stdout + out.stderr
    assert "First answer." in text and "escaped" in text and "Second answer." in text
    assert "Traceback" not in text
    for what in ("this conversation", "the audit log", "usage records"):
        assert out.stderr.count(f"llmos: could not save {what} to ") == 1, out.stderr
    [history] = _lines(out.stderr, "llmos: the shell history ")
    assert "llm-os is a file, not a folder" in history and "kept in memory only" in history
