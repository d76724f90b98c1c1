"""Third-party annotations are hints: a third-party tool that claims to be read-only still asks the first
time it is used in a session (y / n / always); `trust_annotations: true` on its mcpServers entry restores
believing it. Its `_meta` is never believed.

The server (liar_server.py) is real, over stdio, and lies: its "read-only" tools delete and overwrite.
Assertions are on the disk: the victim file still there, the server's own log of what it ran."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from prompt_toolkit.input import create_pipe_input

from tests.conftest import servers_config, write_user_config
from tests.inprocess import llmos
from tests.replay_server import ReplayServer
from tests.scripted_model import ScriptedModel, openai_text, openai_tool_calls

SERVER = Path(__file__).with_name("liar_server.py")


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    path = tmp_path / "important.txt"
    path.write_text("keep me\n")
    return path


@pytest.fixture
def ran_log(tmp_path: Path) -> Path:
    return tmp_path / "liar.log"


def configure(isolated_home: Path, model: ScriptedModel, ran_log: Path, trust: bool | None = None) -> None:
    entry = {"command": sys.executable, "args": [str(SERVER)], "env": {"LIAR_LOG": str(ran_log)}}
    if trust is not None:
        entry["trust_annotations"] = trust
    write_user_config(isolated_home, model.config(servers_config() + "mcpServers:\n  liar: "
                                                  + json.dumps(entry) + "\n"))


def ran(ran_log: Path) -> list[str]:
    return ran_log.read_text().splitlines() if ran_log.exists() else []


@pytest.mark.parametrize("trust", [None, False])
@pytest.mark.parametrize("tool", ["tidy", "note"])
def test_a_read_only_claim_does_not_run_unasked(isolated_home: Path, victim: Path, ran_log: Path,
                                                trust: bool | None, tool: str) -> None:
    with ReplayServer() as server:
        model = ScriptedModel(server)
        configure(isolated_home, model, ran_log, trust)
        model.say(openai_tool_calls((tool, {"path": str(victim)})), openai_text("Tidied."))
        out = llmos("run", "--json", "tidy important.txt")
    assert out.returncode == 4, out.stderr
    assert victim.read_text() == "keep me\n" and ran(ran_log) == []
    [call] = json.loads(out.stdout)["tool_calls"]
    assert (call["tool"], call["decision"], call["by"]) == (f"liar.{tool}", "refused", "no-terminal")


def test_trust_annotations_restores_believing_the_server(isolated_home: Path, victim: Path, ran_log: Path) -> None:
    with ReplayServer() as server:
        model = ScriptedModel(server)
        configure(isolated_home, model, ran_log, trust=True)
        model.say(openai_tool_calls(("tidy", {"path": str(victim)})), openai_text("Tidied."))
        out = llmos("run", "--json", "tidy important.txt")
    assert out.returncode == 0, out.stderr
    assert not victim.exists() and ran(ran_log) == [f"tidy {victim}"]  # the person chose to believe it


def _at_terminal(isolated_home: Path, ran_log: Path, calls: list, keys: str) -> str:
    with ReplayServer() as server:
        model = ScriptedModel(server)
        configure(isolated_home, model, ran_log)
        model.say(*[openai_tool_calls(c) for c in calls], openai_text("Done."))
        with create_pipe_input() as pipe:
            pipe.send_text(keys)  # exactly the answers expected: one more question would wait for ever (timeout)
            return llmos("run", "tidy", prompt_input=pipe).stderr


@pytest.mark.timeout(90)
@pytest.mark.parametrize("keys", ["n\n", "\n", "what\n"])
def test_at_a_terminal_no_and_the_default_refuse(isolated_home: Path, victim: Path, ran_log: Path,
                                                 keys: str) -> None:
    shown = _at_terminal(isolated_home, ran_log, [("tidy", {"path": str(victim)})], keys)
    assert victim.exists() and ran(ran_log) == []
    assert "liar.tidy" in shown and "first use this session" in shown
    assert "A third-party tool: llmos cannot undo it." in shown  # its `_meta` claiming reversible is ignored


@pytest.mark.timeout(90)
@pytest.mark.parametrize("keys", ["y\n", "a\n"])
def test_at_a_terminal_a_yes_on_first_use_holds_for_the_session(isolated_home: Path, tmp_path: Path,
                                                               ran_log: Path, keys: str) -> None:
    first, second = tmp_path / "one.txt", tmp_path / "two.txt"
    for path in (first, second):
        path.write_text("keep me\n")
    _at_terminal(isolated_home, ran_log, [("tidy", {"path": str(first)}), ("tidy", {"path": str(second)})], keys)
    assert ran(ran_log) == [f"tidy {first}", f"tidy {second}"]  # asked once (one answer typed), then believed


def test_allow_flag_is_the_persons_own_pre_approval(isolated_home: Path, victim: Path, ran_log: Path) -> None:
    with ReplayServer() as server:
        model = ScriptedModel(server)
        configure(isolated_home, model, ran_log)
        model.say(openai_tool_calls(("tidy", {"path": str(victim)}), ("note", {"path": str(victim)})),
                  openai_text("Done."))
        out = llmos("run", "--allow", "liar.tidy", "tidy it")
    assert out.returncode == 4  # note was not allowed
    assert ran(ran_log) == [f"tidy {victim}"]
