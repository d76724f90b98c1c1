"""Attack class: corrupted or hostile local files — garbage, wrong shapes, folders, pipes, a wrong schema.

Each goes through the real CLI (or the real shell in-process) and must end in a clear one-line report naming
the file, never "unexpected error", a traceback or a hang; where it is safe the file is moved aside as
`*.corrupt-<time>` (its bytes kept) and a new one started, and nothing readable is lost.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import servers_config, write_user_config
from tests.replay_server import ReplayServer
from tests.scripted_model import ScriptedModel, openai_text, openai_tool_calls

GARBAGE = b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe garbage \xc3\x28 not text\n\x00" * 40


def llmos(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None,
          timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "llmos", *args], capture_output=True, timeout=timeout,
                          input=stdin if stdin is not None else b"", env={**os.environ, **(env or {})})


def clean(out: subprocess.CompletedProcess) -> str:
    """stderr, checked to hold no traceback and no 'unexpected error'."""
    err = out.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err and "unexpected error" not in err, err
    return err


def moved_aside(path: Path) -> list[Path]:
    return sorted(path.parent.glob(path.name + ".corrupt-*"))


@pytest.fixture
def model(isolated_home: Path):
    with ReplayServer() as server:
        scripted = ScriptedModel(server)
        write_user_config(isolated_home, scripted.config(servers_config()))
        yield scripted


def sessions(home: Path) -> Path:
    return home / "data" / "llm-os" / "sessions"


# ---- saved sessions -------------------------------------------------------------------------------------

def test_a_binary_session_is_moved_aside_and_a_new_conversation_starts(model, isolated_home: Path) -> None:
    folder = sessions(isolated_home)
    folder.mkdir(parents=True)
    bad = folder / "20261201-000000-abcdef.jsonl"
    bad.write_bytes(GARBAGE)
    model.say(openai_text("Fresh start."))
    out = llmos("run", "--continue", "hello")
    err = clean(out)
    assert out.returncode == 0 and b"Fresh start." in out.stdout
    assert str(bad) in err and "moved it to" in err
    (aside,) = moved_aside(bad)
    assert aside.read_bytes() == GARBAGE and not bad.exists()
    new = [p for p in folder.glob("*.jsonl")]
    assert len(new) == 1 and "hello" in new[0].read_text(encoding="utf-8")


def test_damaged_and_wrong_shaped_lines_are_skipped_and_the_rest_kept(model, isolated_home: Path) -> None:
    folder = sessions(isolated_home)
    folder.mkdir(parents=True)
    path = folder / "20261201-000000-abcdef.jsonl"
    lines = [json.dumps({"session": "20261201-000000-abcdef", "started": "yesterday", "cwd": 5}),
             json.dumps({"role": "user", "content": "where are my tax papers"}),
             json.dumps({"role": "assistant", "content": "In ~/Documents/tax-2025."}),
             '{"role": "user", "content": "torn', "[1, 2, 3]", "42", '"just a string"',
             json.dumps({"role": 5, "content": "x"}), json.dumps({"role": "user", "content": {"x": 1}}),
             json.dumps({"role": "assistant", "content": "", "tool_calls": "not a list"}),
             json.dumps({"summary": 7, "keeps": "all"}), "\x00\x00"]
    path.write_bytes("\n".join(lines).encode() + b"\n\xff\xfe\n")
    before = path.read_bytes()
    model.say(openai_text("Still there."))
    out = llmos("run", "--continue", "and the receipts?")
    err = clean(out)
    assert out.returncode == 0, err
    assert str(path) in err and "damaged line" in err
    sent = [m["content"] for m in model.requests()[0]["messages"]]
    assert "where are my tax papers" in sent and "In ~/Documents/tax-2025." in sent
    assert path.read_bytes().startswith(before)  # nothing lost: the file was only appended to
    assert not moved_aside(path)


def test_a_folder_or_a_pipe_named_like_a_session_never_hangs_history(model, isolated_home: Path) -> None:
    folder = sessions(isolated_home)
    folder.mkdir(parents=True)
    (folder / "20261201-000000-aaaaaa.jsonl").mkdir()
    os.mkfifo(folder / "20261201-000000-bbbbbb.jsonl")
    listed = llmos("history", timeout=30)
    assert listed.returncode == 0, clean(listed)
    clean(listed)
    out = llmos("run", "--session", "20261201-000000-bbbbbb", "hello", timeout=30)
    assert out.returncode == 2 and "no saved session" in clean(out)


# ---- audit log ------------------------------------------------------------------------------------------

def audit_path(home: Path) -> Path:
    return home / "state" / "llm-os" / "audit.jsonl"


def test_audit_log_with_garbage_shows_the_good_records_and_keeps_the_file(isolated_home: Path) -> None:
    path = audit_path(isolated_home)
    path.parent.mkdir(parents=True)
    good = {"ts": 1764633600.0, "server": "filesystem", "tool": "delete", "arguments": {"path": "/tmp/x"},
            "decision": "allow", "by": "user", "status": "ok", "duration_s": 0.01}
    body = (json.dumps(good) + "\n" + "not json\n" + json.dumps({"ts": "later", "server": 1}) + "\n" + "[]\n"
            + json.dumps({**good, "duration_s": "slow"}) + "\n").encode() + GARBAGE + b"\n"
    path.write_bytes(body)
    for args in (("audit", "--json"), ("audit",)):
        out = llmos(*args)
        err = clean(out)
        assert out.returncode == 0 and str(path) in err and "damaged line" in err
    records = [json.loads(line) for line in llmos("audit", "--json").stdout.decode().splitlines()]
    assert records == [good]
    assert path.read_bytes() == body  # an append-only record: nothing is removed from it


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_audit_log_that_is_a_folder_or_a_pipe(kind: str, isolated_home: Path) -> None:
    path = audit_path(isolated_home)
    path.parent.mkdir(parents=True)
    path.mkdir() if kind == "folder" else os.mkfifo(path)
    out = llmos("audit", timeout=30)
    err = clean(out)
    assert out.returncode == 0 and str(path) in err and "moved it to" in err
    assert len(moved_aside(path)) == 1 and not os.path.lexists(path)


# ---- usage database -------------------------------------------------------------------------------------

def usage_db(home: Path) -> Path:
    return home / "state" / "llm-os" / "usage.sqlite3"


def foreign_schema(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE requests (a, b)")
    db.execute("INSERT INTO requests VALUES (1, 2)")
    db.commit()
    db.close()


def version_without_table(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 1")
    db.execute("CREATE TABLE other (x)")
    db.commit()
    db.close()


@pytest.mark.parametrize("damage", ["garbage", "foreign_schema", "version_without_table"])
def test_a_damaged_usage_database_is_moved_aside_and_recreated(damage: str, model, isolated_home: Path) -> None:
    path = usage_db(isolated_home)
    path.parent.mkdir(parents=True, exist_ok=True)
    if damage == "garbage":
        path.write_bytes(GARBAGE)
    else:
        {"foreign_schema": foreign_schema, "version_without_table": version_without_table}[damage](path)
    before = path.read_bytes()
    model.say(openai_text("Counted."))
    out = llmos("run", "--no-tools", "hi")
    err = clean(out)
    assert out.returncode == 0 and b"Counted." in out.stdout
    assert str(path) in err and "moved it to" in err
    (aside,) = moved_aside(path)
    assert aside.read_bytes() == before  # the old file is kept as it was
    rows = sqlite3.connect(path).execute("SELECT provider, success FROM requests").fetchall()
    assert rows == [("scripted", 1)]
    report = llmos("usage", "--json")
    assert report.returncode == 0 and "scripted" in report.stdout.decode(), clean(report)


# ---- configuration-adjacent files and input -------------------------------------------------------------

@pytest.mark.parametrize("kind", ["folder", "binary", "fifo", "deep"])
def test_an_mcp_config_file_that_is_not_json_text(kind: str, isolated_home: Path, tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    if kind == "folder":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "deep":
        path.write_text("[" * 100_000 + "]" * 100_000)
    else:
        path.write_bytes(GARBAGE)
    write_user_config(isolated_home, servers_config() + f"mcp_config_file: {path}\n")
    out = llmos("tools", timeout=30)
    err = clean(out)
    assert out.returncode == 2 and str(path) in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("host", ["::garbage::", "http://[::1", "http://host:99999999"])
def test_a_garbage_ollama_host_is_a_one_line_config_error(host: str, isolated_home: Path) -> None:
    write_user_config(isolated_home, "providers:\n  claude: {enabled: false}\n  openai: {enabled: false}\n"
                      + servers_config())
    for args in (("run", "--no-tools", "hi"), ("run", "hi")):
        out = llmos(*args, env={"OLLAMA_HOST": host})
        err = clean(out)
        assert out.returncode in (2, 3), err
        assert "base_url" in err or "OLLAMA_HOST" in err or "ollama" in err


def test_one_non_utf8_byte_on_stdin_is_refused_and_nothing_runs(model, isolated_home: Path) -> None:
    out = llmos("run", "-", stdin=b"delete the file called caf\xe9.txt\n")
    err = clean(out)
    assert out.returncode == 2 and "not UTF-8" in err and "0xe9" in err
    assert model.requests() == []  # the model was never asked
    assert not sessions(isolated_home).exists()


# ---- shell history --------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["folder", "fifo", "binary"])
def test_a_damaged_shell_history_is_moved_aside(kind: str, model, isolated_home: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput
    from llmos.terminal import Terminal, using

    from llmos.config import load_config
    from llmos.repl.app import Repl

    path = isolated_home / "state" / "llm-os" / "history"
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "folder":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.write_bytes(GARBAGE)

    shown = io.StringIO()

    async def go() -> None:
        with create_pipe_input() as pipe:
            pipe.send_text("/exit\r")
            terminal = Terminal(stdout=shown, stderr=shown, prompt_input=pipe, prompt_output=DummyOutput(),
                                person=True)
            with using(terminal):
                repl = Repl(load_config(), terminal)
                await repl.run()

    asyncio.run(asyncio.wait_for(go(), 60))
    err = shown.getvalue() + capsys.readouterr().err
    assert str(path) in err and "moved it to" in err and "Traceback" not in err
    assert len(moved_aside(path)) == 1
    assert not path.exists() or path.is_file()


# ---- built-in tool crashes ------------------------------------------------------------------------------

def test_a_crashing_built_in_tool_prints_no_traceback(isolated_home: Path, tmp_path: Path) -> None:
    root = tmp_path / "files"
    (root / "folder").mkdir(parents=True)
    (root / "folder" / "keep.txt").write_text("kept")
    with ReplayServer() as server:
        scripted = ScriptedModel(server)
        write_user_config(isolated_home, scripted.config(servers_config(root)))
        # Moving a folder into itself made the tool raise an unexpected exception inside the server.
        scripted.say(openai_tool_calls(("move", {"source": str(root / "folder"),
                                                 "destination": str(root / "folder" / "inside")})),
                     openai_text("It could not be moved."))
        out = llmos("run", "--yes", "move the folder into itself")
        result = scripted.requests()[1]["messages"][-1]["content"]
    err = clean(out)
    assert out.returncode == 0, err
    assert "UnexpectedToolError" not in err and "│" not in err  # no (rich) traceback box either
    assert "move" in result  # the model was told the call failed
    assert (root / "folder" / "keep.txt").read_text() == "kept"


# ---- tool cache -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("damage", [GARBAGE, b"[1, 2, 3]", b'[{"name": 5}]', b'{"tools": []}'])
def test_a_damaged_tool_cache_is_ignored_and_rewritten(damage: bytes, isolated_home: Path, tmp_path: Path) -> None:
    root = tmp_path / "files"
    root.mkdir()
    (root / "a.txt").write_text("alpha")
    with ReplayServer() as server:
        scripted = ScriptedModel(server)
        write_user_config(isolated_home, scripted.config(servers_config(root)))
        scripted.say(openai_text("warm"), openai_tool_calls(("read_file", {"path": str(root / "a.txt")})),
                     openai_text("read"))
        assert llmos("run", "hi").returncode == 0  # fills the cache
        cached = list((isolated_home / "cache").rglob("filesystem-*.json"))
        assert cached
        for path in cached:
            path.write_bytes(damage)
        out = llmos("run", "read a.txt")
        err = clean(out)
        result = scripted.requests()[-1]["messages"][-1]["content"]
    assert out.returncode == 0, err
    assert "alpha" in result
    assert all(json.loads(p.read_text())[0]["name"] for p in (isolated_home / "cache").rglob("filesystem-*.json"))


def test_a_built_in_tool_blocked_on_a_pipe_does_not_hang_llmos(isolated_home: Path, tmp_path: Path) -> None:
    root = tmp_path / "files"
    root.mkdir()
    os.mkfifo(root / "pipe")  # nobody ever writes to it: reading it blocks forever
    with ReplayServer() as server:
        scripted = ScriptedModel(server)
        write_user_config(isolated_home, scripted.config(servers_config(root) + "agent: {tool_timeout_s: 2}\n"))
        scripted.say(openai_tool_calls(("read_file", {"path": str(root / "pipe")})), openai_text("No luck."))
        out = llmos("run", "--json", "read the pipe", timeout=60)  # TimeoutExpired here would be the hang
        result = scripted.requests()[-1]["messages"][-1]["content"]
    clean(out)
    assert out.returncode == 0
    assert json.loads(out.stdout)["text"] == "No luck."
    assert "did not answer within 2s" in result or "pipe" in result  # timed out, or refused up front


def test_a_non_utf8_byte_in_the_arguments_is_refused_and_nothing_runs(model, isolated_home: Path) -> None:
    out = subprocess.run([os.fsencode(sys.executable), b"-m", b"llmos", b"run", b"delete caf\xe9.txt"],
                         capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    err = clean(out)
    assert out.returncode == 2 and "not UTF-8" in err and "0xe9" in err
    assert model.requests() == []
