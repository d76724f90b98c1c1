"""Interactive confirmation: prompt-toolkit pipe input in-process, and a real terminal under tmux."""

from __future__ import annotations

import asyncio
import io
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console

from llmos.agent.confirm import TerminalConfirmer
from llmos.agent.setup import build_agent
from llmos.conversation.session import ChatSession
from llmos.config import load_config
from llmos.llm.router import Router
from tests.conftest import servers_config, write_user_config
from tests.replay_server import ReplayServer
from tests.scripted_model import ScriptedModel, openai_text, openai_tool_calls



@pytest.fixture
def files(tmp_path: Path) -> Path:
    root = tmp_path / "work"
    root.mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):
        (root / name).write_text(name)
    return root


def run_turn(isolated_home: Path, files: Path, replies: list, keys: str) -> tuple:
    with ReplayServer() as server:
        model = ScriptedModel(server)
        write_user_config(isolated_home, model.config(servers_config(files)))
        model.say(*replies)
        config = load_config()
        console = Console(file=io.StringIO(), force_terminal=False)

        async def go():
            with create_pipe_input() as pipe:
                pipe.send_text(keys)
                confirmer = TerminalConfirmer(console=console, input=pipe, output=DummyOutput())
                agent = build_agent(config, Router(config), confirmer)
                try:
                    await agent.host.ready()
                    return await agent.turn(ChatSession(), "delete things"), agent
                finally:
                    await agent.host.aclose()
                    await agent.router.aclose()
        return asyncio.run(go())


def test_yes_runs_it(isolated_home: Path, files: Path) -> None:
    turn, _ = run_turn(isolated_home, files, [openai_tool_calls(("delete", {"path": str(files / "a.txt")})),
                                              openai_text("ok")], "y\n")
    assert not (files / "a.txt").exists() and turn.runs[0].by == "user" and turn.runs[0].ok


@pytest.mark.parametrize("keys", ["n\n", "\n", "whatever\n"])
def test_no_and_the_default_refuse(isolated_home: Path, files: Path, keys: str) -> None:
    turn, _ = run_turn(isolated_home, files, [openai_tool_calls(("delete", {"path": str(files / "a.txt")})),
                                              openai_text("ok")], keys)
    assert (files / "a.txt").exists() and turn.refused


def test_always_asks_once_for_the_session(isolated_home: Path, files: Path) -> None:
    turn, agent = run_turn(isolated_home, files, [
        openai_tool_calls(("delete", {"path": str(files / "a.txt")})),
        openai_tool_calls(("delete", {"path": str(files / "b.txt")})),
        openai_text("both gone")], "a\n")  # only one answer is typed: a second question would hang, then fail
    assert not (files / "a.txt").exists() and not (files / "b.txt").exists()
    assert [r.by for r in turn.runs] == ["user", "session"]
    assert "filesystem.delete" in agent.gate.always


def test_edit_changes_the_arguments_before_running(isolated_home: Path, files: Path) -> None:
    edited = json.dumps({"path": str(files / "c.txt")})
    turn, _ = run_turn(isolated_home, files, [openai_tool_calls(("delete", {"path": str(files / "a.txt")})),
                                              openai_text("ok")],
                       "e\n" + "\x01\x0b" + edited + "\n" + "y\n")  # Ctrl-A Ctrl-K clears the prefilled JSON
    assert (files / "a.txt").exists() and not (files / "c.txt").exists()
    assert turn.runs[0].call.arguments == {"path": str(files / "c.txt")}


def _tmux(session: str, *args: str) -> str:
    """tmux on the session's own server (-L): parallel workers never share, or kill, one."""
    return subprocess.run(["tmux", "-L", session, *args], capture_output=True, text=True, check=True).stdout


def test_confirmation_in_a_real_terminal(isolated_home: Path, files: Path, tmp_path: Path) -> None:
    import os

    with ReplayServer() as server:
        model = ScriptedModel(server)
        write_user_config(isolated_home, model.config(servers_config(files)))
        model.say(openai_tool_calls(("delete", {"path": str(files / "a.txt")})), openai_text("Deleted a.txt."))
        session = f"llmos-confirm-{os.getpid()}-{time.monotonic_ns()}"
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in os.environ.items()
                       if k.startswith(("XDG_", "LLM_OS_", "HOME", "PATH")))
        command = f"env {env} {shlex.quote(sys.executable)} -m llmos run 'delete a.txt'; echo EXIT=$?; sleep 30"
        _tmux(session, "new-session", "-d", "-s", session, "-x", "100", "-y", "30", command)
        try:
            screen = ""
            deadline = time.monotonic() + 60
            while "Run it?" not in screen and time.monotonic() < deadline:
                time.sleep(0.2)
                screen = _tmux(session, "capture-pane", "-p", "-t", session)
            assert "Run it?" in screen, screen
            assert "filesystem.delete" in screen and "Can be undone" in screen
            assert (files / "a.txt").exists()
            _tmux(session, "send-keys", "-t", session, "y", "Enter")
            while "EXIT=" not in screen and time.monotonic() < deadline:
                time.sleep(0.2)
                screen = _tmux(session, "capture-pane", "-p", "-t", session)
        finally:
            subprocess.run(["tmux", "-L", session, "kill-server"], capture_output=True)
    assert "EXIT=0" in screen and "Deleted a.txt." in screen, screen
    assert not (files / "a.txt").exists()
