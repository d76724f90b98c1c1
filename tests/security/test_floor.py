"""The floor no flag removes: deleting, moving or overwriting the home folder, an allowed root itself, a
credential folder, or more than gate.floor_files files at once is asked by name — never approved by
--yes, --allow, "always", /yes or a rule; with nobody to ask it is refused (exit 4).

Driven by the scripted model through the real CLI in-process; HOME is a folder of the test's own, so
a failure of the floor could only ever harm that folder. Each test asserts on the disk afterwards."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prompt_toolkit.input import create_pipe_input

from tests.conftest import write_user_config
from tests.inprocess import llmos
from tests.replay_server import ReplayServer
from tests.scripted_model import ScriptedModel, openai_text, openai_tool_calls

_OFF = "".join(f"  {n}: {{enabled: false}}\n" for n in ("git", "system", "apps", "browser"))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "fakehome"
    for folder in ("Documents", ".ssh", "project/src"):
        (home / folder).mkdir(parents=True)
    (home / "Documents" / "thesis.txt").write_text("years of work\n")
    (home / ".ssh" / "id_ed25519").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    for i in range(12):
        (home / "project" / "src" / f"m{i}.py").write_text("x = 1\n")
    (home / "project" / "notes.txt").write_text("n\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    return home


@pytest.fixture
def model(isolated_home: Path, home: Path):
    with ReplayServer() as server:
        scripted = ScriptedModel(server)
        configure(isolated_home, scripted)
        yield scripted


def configure(isolated_home: Path, model: ScriptedModel, extra: str = "") -> None:
    write_user_config(isolated_home, model.config(
        f"servers:\n{_OFF}  filesystem:\n    roots: ['~']\n    protected: ['/etc', '/']\n"
        "gate:\n  floor_files: 5\n" + extra))


def audit(isolated_home: Path) -> list[dict]:
    path = isolated_home / "state" / "llm-os" / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def intact(home: Path) -> bool:
    return ((home / "Documents" / "thesis.txt").read_text() == "years of work\n"
            and (home / ".ssh" / "id_ed25519").exists() and len(list((home / "project" / "src").iterdir())) == 12)


@pytest.mark.parametrize(("tool", "arguments"), [
    ("delete", {"path": "~"}),
    ("delete_permanently", {"path": "~"}),
    ("delete", {"path": "~/.ssh"}),  # a credential folder
    ("move", {"source": "~", "destination": "/tmp/elsewhere"}),
    ("delete", {"path": "~/project/src"}),  # 12 files: more than gate.floor_files (5)
])
@pytest.mark.parametrize("flags", [["--yes"], ["--allow", "filesystem.delete", "--allow", "filesystem.move",
                                              "--allow", "filesystem.delete_permanently"]])
def test_flags_do_not_lift_the_floor(model: ScriptedModel, home: Path, isolated_home: Path, tool: str,
                                     arguments: dict, flags: list[str]) -> None:
    model.say(openai_tool_calls((tool, arguments)), openai_text("Done."))
    out = llmos("run", *flags, "clean up")
    assert out.returncode == 4, out.stderr
    assert intact(home)
    [record] = audit(isolated_home)
    assert (record["tool"], record["decision"], record["by"]) == (tool, "refused", "floor")
    assert "whatever the flags" in model.requests()[1]["messages"][-1]["content"]


def test_an_allow_rule_and_always_do_not_lift_the_floor(model: ScriptedModel, home: Path,
                                                        isolated_home: Path) -> None:
    configure(isolated_home, model, "  rules:\n    - {decision: allow, tool: 'filesystem.*'}\n")
    model.say(openai_tool_calls(("delete", {"path": "~/project/notes.txt"})),
              openai_tool_calls(("delete", {"path": "~"})), openai_text("Done."))
    out = llmos("run", "tidy my home")
    assert out.returncode == 4
    assert not (home / "project" / "notes.txt").exists()  # the rule allows an ordinary delete …
    assert intact(home)  # … never the floor
    assert [r["by"] for r in audit(isolated_home)] == ["rule", "floor"]


@pytest.mark.parametrize(("keys", "deleted"), [("a\n", False), ("n\n", False), ("\n", False), ("y\n", True)])
def test_at_a_terminal_the_floor_asks_by_name_and_only_yes_runs_it(model: ScriptedModel, home: Path,
                                                                   isolated_home: Path, keys: str,
                                                                   deleted: bool) -> None:
    model.say(openai_tool_calls(("delete", {"path": "~/project/src"})), openai_text("Done."))
    with create_pipe_input() as pipe:
        pipe.send_text(keys)
        out = llmos("run", "--yes", "delete the sources", prompt_input=pipe)
    assert (home / "project" / "src").exists() is not deleted
    assert "Run it anyway? [y/N]" not in out.stdout  # the question goes to the terminal, not into the answer
    assert "~/project/src: 12 files, 72 bytes at once (gate.floor_files is 5)" in out.stderr  # by name, counted
    assert out.returncode == (0 if deleted else 4)
    if deleted:
        assert (isolated_home / "data" / "Trash" / "files" / "src").exists()  # to the trash, undoable


def test_slash_yes_in_the_shell_does_not_lift_the_floor(model: ScriptedModel, home: Path) -> None:
    import asyncio
    import io

    from prompt_toolkit.output import DummyOutput

    from llmos.config import load_config
    from llmos.repl.app import Repl
    from llmos.terminal import Terminal

    model.say(openai_tool_calls(("delete_permanently", {"path": "~"})), openai_text("Gone."))
    out = io.StringIO()

    async def go() -> None:
        with create_pipe_input() as pipe:
            pipe.send_text("/yes\rdelete everything\rn\r/exit\r")
            repl = Repl(load_config(), Terminal(stdout=out, stderr=out, prompt_input=pipe,
                                                prompt_output=DummyOutput(), person=True, width=120))
            await repl.run()
    asyncio.run(asyncio.wait_for(go(), 60))
    assert intact(home)
    assert "~: your home folder" in out.getvalue() and "auto-approve is ON" in out.getvalue()


@pytest.mark.timeout(90)
@pytest.mark.parametrize("command", ["rm -rf ~", "rm -rf $HOME/", "mv ~/.ssh /tmp/taken", "rm -r ~/project/src"])
def test_slash_yes_does_not_lift_the_floor_for_a_shell_escape(model: ScriptedModel, home: Path,
                                                              command: str) -> None:
    import asyncio
    import io

    from prompt_toolkit.output import DummyOutput

    from llmos.config import load_config
    from llmos.repl.app import Repl
    from llmos.terminal import Terminal

    out = io.StringIO()

    async def go() -> None:
        with create_pipe_input() as pipe:
            pipe.send_text(f"/yes\r!{command}\rn\r/exit\r")  # the floor asks despite /yes; the answer is no
            repl = Repl(load_config(), Terminal(stdout=out, stderr=out, prompt_input=pipe,
                                                prompt_output=DummyOutput(), person=True, width=160))
            await repl.run()
    asyncio.run(asyncio.wait_for(go(), 60))
    assert intact(home), out.getvalue()
    assert "Run it anyway? [y/N]" not in out.getvalue() and "⚠" in out.getvalue() and "not run" in out.getvalue()
