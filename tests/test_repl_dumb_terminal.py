"""The shell on TERM=dumb under a real terminal (tmux): keys typed the moment the prompt shows are the shell's.

prompt_toolkit's dumb prompt writes "llmos> " and only then puts the tty in raw mode; a Ctrl-D typed in that
gap was taken by the tty's line discipline as end-of-file and lost (seen in CI). Each Ctrl-D below is sent as
soon as the prompt appears after a turn, which is when the gap was open.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.conftest import servers_config, write_user_config
from tests.replay_server import ReplayServer
from tests.scripted_model import ScriptedModel, openai_text
from tests.tmux import Terminal

LLMOS = f"{sys.executable} -m llmos"


@pytest.fixture
def files(tmp_path: Path) -> Path:
    root = tmp_path / "files"
    root.mkdir()
    (root / "notes.txt").write_text("remember the milk\n")
    return root


def test_ctrl_d_right_after_a_turn_leaves_the_dumb_shell(isolated_home: Path, files: Path) -> None:
    with ReplayServer() as server:
        model = ScriptedModel(server)
        write_user_config(isolated_home, model.config(servers_config(files)))
        model.say(openai_text("First answer."), openai_text("Second answer."))
        with Terminal(LLMOS, env={"NO_COLOR": "1", "TERM": "dumb"}, cwd=str(files), width=80) as term:
            term.wait_for("llmos>")
            term.type("hello")
            term.send("Enter")
            term.wait_for("First answer")
            term.wait_for("llmos>", after="First answer")
            term.type("again")  # typed at once: the keys must reach the prompt, not the tty's echo
            term.send("Enter")
            term.wait_for("Second answer")
            term.wait_for("llmos>", after="Second answer")
            term.send("C-d")
            term.wait_for("EXIT=0")
        assert len(model.requests()) == 2


def test_the_tty_is_raw_before_the_dumb_prompt_is_written(isolated_home: Path, monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    """The race above, made certain: on a real pty, the shell's prompt step holds the tty in raw mode (no line
    discipline: ICANON off) before prompt_toolkit writes "llmos> ", and gives the cooked mode back after."""
    import io
    import os
    import termios

    from prompt_toolkit.input import create_input

    from llmos.config import load_config
    from llmos.repl.app import Repl
    from llmos.terminal import Terminal as Streams

    monkeypatch.setenv("TERM", "dumb")
    master, slave = os.openpty()
    try:
        with open(slave, closefd=False) as tty:
            out = io.StringIO()
            repl = Repl(load_config(), Streams(stdout=out, stderr=out, prompt_input=create_input(stdin=tty),
                                               person=True, width=80))
            assert termios.tcgetattr(slave)[3] & termios.ICANON
            with repl._keys_raw_before_the_prompt():
                assert not termios.tcgetattr(slave)[3] & termios.ICANON
            assert termios.tcgetattr(slave)[3] & termios.ICANON
    finally:
        os.close(master)
        os.close(slave)
