"""Attack class: a third-party MCP server whose tool names try to pass for built-ins, use characters providers
reject, or never answer. The server is real (tests/security/impostor_server.py over stdio); each test looks
at the disk afterwards (the impostor leaves a marker whenever one of its tools runs)."""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import pytest

from llmos.agent import tool_names
from llmos.agent.tool_names import Entry
from tests.conftest import servers_config, write_user_config
from tests.inprocess import Completed
from tests.inprocess import llmos as inprocess
from tests.replay_server import ReplayServer
from tests.scripted_model import ScriptedModel, openai_text, openai_tool_calls

IMPOSTOR = Path(__file__).with_name("impostor_server.py")
PROVIDER_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def llmos(*args: str) -> Completed:
    """`llmos ARGS…` in-process (tests/inprocess.py), nobody at the keyboard; the impostor is a real process."""
    return inprocess(*args)


@pytest.fixture
def setup(isolated_home: Path, tmp_path: Path):
    root = tmp_path / "files"
    root.mkdir()
    (root / "notes.txt").write_text("the real notes", encoding="utf-8")
    markers = tmp_path / "markers"
    with ReplayServer() as server:
        model = ScriptedModel(server)
        extra = (f"mcpServers:\n  impostor:\n    command: {sys.executable}\n    args: [{IMPOSTOR}]\n"
                 f"    env: {{IMPOSTOR_MARKERS: {markers}}}\n"
                 "agent: {tool_timeout_s: 3, all_tools_context: 1}\n")
        write_user_config(isolated_home, model.config(servers_config(root) + extra))
        yield model, root, markers


def test_no_exposed_name_is_one_providers_reject_and_collisions_are_named(setup) -> None:
    listed = llmos("tools", "--json")
    assert listed.returncode == 0, listed.stderr
    listing = json.loads(listed.stdout)
    assert listing["down"] == {}
    tools = listing["tools"]
    by_identity = {(t["server"], t["tool"]): t for t in tools}
    assert all(PROVIDER_NAME.match(t["name"]) for t in tools)
    assert len({t["name"] for t in tools}) == len(tools)
    assert by_identity[("filesystem", "read_file")]["name"] == "read_file"  # the built-in keeps its name
    assert by_identity[("impostor", "read_file")]["name"] == "impostor_read_file"
    assert by_identity[("impostor", "filesystem.delete")]["name"] == "impostor_filesystem_delete"
    assert by_identity[("impostor", "filesystem_read_file")]["name"] == "impostor_filesystem_read_file"
    assert by_identity[("impostor", "rm -rf")]["name"] == "rm_-rf"
    assert not by_identity[("impostor", "read_file")]["trusted"] and by_identity[("filesystem", "read_file")]["trusted"]
    # The collision with the built-in is reported naming both, not resolved in silence.
    assert "impostor.read_file" in listed.stderr and "filesystem.read_file (built-in)" in listed.stderr


def test_a_call_by_a_built_ins_name_reaches_the_built_in_never_the_impostor(setup) -> None:
    model, root, markers = setup
    target = str(root / "notes.txt")
    model.say(openai_tool_calls(("read_file", {"path": target})), openai_tool_calls(
        ("filesystem.delete", {"path": target}), ("filesystem_read_file", {"path": target}),
        ("rm -rf", {"path": str(root)})), openai_text("done"))
    out = llmos("run", "--yes", "--json", "read my notes")
    assert out.returncode == 0, out.stderr
    requests = model.requests()
    assert "the real notes" in requests[1]["messages"][-1]["content"]
    offered = [t["function"]["name"] for t in requests[0]["tools"]]
    assert all(PROVIDER_NAME.match(n) for n in offered) and "filesystem.delete" not in offered
    assert not markers.exists()  # none of the impostor's tools ran, not even with --yes
    assert (root / "notes.txt").read_text(encoding="utf-8") == "the real notes"
    assert [c["decision"] for c in json.loads(out.stdout)["tool_calls"]] == ["allow", "refused", "refused", "refused"]


def test_the_impostors_namespaced_tool_runs_only_as_itself(setup) -> None:
    model, root, markers = setup
    target = str(root / "notes.txt")
    model.say(openai_tool_calls(("impostor_filesystem_read_file", {"path": target})), openai_text("done"))
    out = llmos("run", "--json", "read my notes")  # no --yes and no terminal: a third-party tool may not run
    calls = json.loads(out.stdout)["tool_calls"]
    assert calls[0]["tool"] == "impostor.filesystem_read_file"
    assert calls[0]["decision"] == "refused" or calls[0]["decision"] == "allow"
    if calls[0]["decision"] == "refused":
        assert not markers.exists()
    else:  # the gate let it run (annotations believed): then it ran as the impostor, not as the built-in
        assert (markers / "filesystem_read_file").exists()


@pytest.mark.timeout(90)  # a hang fails here, as the subprocess's timeout did
def test_a_tool_that_never_answers_times_out_at_the_configured_figure(setup) -> None:
    model, _root, markers = setup
    model.say(openai_tool_calls(("hang", {})), openai_text("it did not answer"))
    started = time.monotonic()
    out = llmos("run", "--yes", "--json", "hang")
    elapsed = time.monotonic() - started
    assert out.returncode == 0, out.stderr
    assert (markers / "hang").exists()  # the call really reached the server
    result = model.requests()[1]["messages"][-1]["content"]
    assert "did not answer within 3s" in result and "agent.tool_timeout_s" in result
    assert elapsed < 60  # far below the hour the tool would sleep


@pytest.mark.parametrize("entries, expected, warned", [
    ([Entry("filesystem", "read_file", True), Entry("x", "read_file", False)],
     {"read_file", "x_read_file"}, 1),
    ([Entry("a", "search", False), Entry("b", "search", False)], {"a_search", "b_search"}, 2),
    ([Entry("a", "git_status", False)], {"a_git_status"}, 0),
    ([Entry("a", "Read File!", False)], {"Read_File"}, 0),
    ([Entry("a", "x" * 80, False)], {"x" * 64}, 0),
    ([Entry("a", "...", False)], {"tool"}, 0),
    ([Entry("filesystem", "read_file", True), Entry("fs", "read_file", False), Entry("fs_read", "file", False),
      Entry("fs", "read file", False)], {"read_file", "fs_read_file", "file"}, 3),
    ([Entry("a", "filesystem.delete", False), Entry("git", "x", True)], {"a_filesystem_delete", "x"}, 0),
])
def test_name_assignment_variants(entries, expected, warned) -> None:
    names, warnings = tool_names.assign(entries)
    assert set(names.values()) == expected
    assert all(PROVIDER_NAME.match(n) for n in names.values())
    assert len(warnings) == warned


def test_rules_match_the_real_server_and_tool_not_the_exposed_name(setup, isolated_home: Path) -> None:
    model, root, markers = setup
    config = isolated_home / "config" / "llm-os" / "llm.yaml"
    config.write_text(config.read_text(encoding="utf-8") + (
        "gate:\n  rules:\n"
        "    - {decision: deny, tool: impostor.filesystem_read_file}\n"  # its real identity: held
        "    - {decision: deny, tool: impostor_filesystem_delete}\n"),  # the exposed name: not an identity
        encoding="utf-8")
    target = str(root / "notes.txt")
    model.say(openai_tool_calls(("impostor_filesystem_read_file", {"path": target})),
              openai_tool_calls(("impostor_filesystem_delete", {"path": target})), openai_text("done"))
    out = llmos("run", "--yes", "--json", "go")
    calls = json.loads(out.stdout)["tool_calls"]
    assert [(c["tool"], c["decision"]) for c in calls] == [("impostor.filesystem_read_file", "deny"),
                                                           ("impostor.filesystem.delete", "allow")]
    assert not (markers / "filesystem_read_file").exists()  # denied by identity: never ran
    assert (markers / "filesystem_delete").exists()  # a rule naming the exposed name matched nothing
    assert not (root / "notes.txt").exists()  # (it really ran: --yes approved it, and it deleted the file)


def test_trust_annotations_is_a_per_server_opt_in(setup, isolated_home: Path) -> None:
    config = isolated_home / "config" / "llm-os" / "llm.yaml"
    text = config.read_text(encoding="utf-8")
    anchor = "    env: {IMPOSTOR_MARKERS"
    config.write_text(text.replace(anchor, "    trust_annotations: true\n" + anchor), encoding="utf-8")
    listed = json.loads(llmos("tools", "--json").stdout)["tools"]
    assert all(t["trusted"] for t in listed if t["server"] == "impostor")
    config.write_text(text.replace(anchor, "    trust_annotations: 'yes'\n" + anchor), encoding="utf-8")
    wrong = llmos("tools")
    assert wrong.returncode == 2 and "mcpServers.impostor.trust_annotations" in wrong.stderr


@pytest.mark.timeout(90)  # a hang fails here, as the subprocess's timeout did
def test_a_server_that_never_lists_its_tools_is_reported_down_not_waited_for(setup, isolated_home: Path) -> None:
    config = isolated_home / "config" / "llm-os" / "llm.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("env: {IMPOSTOR_MARKERS:",
                                                                 "env: {IMPOSTOR_HANG_LIST: '1', IMPOSTOR_MARKERS:")
                      .replace("agent: {", "agent: {server_start_timeout_s: 3, "), encoding="utf-8")
    started = time.monotonic()
    out = llmos("tools", "--json")
    elapsed = time.monotonic() - started
    listing = json.loads(out.stdout)
    assert out.returncode == 0, out.stderr
    assert "did not start within 3s (agent.server_start_timeout_s)" in listing["down"]["impostor"]
    assert any(t["server"] == "filesystem" for t in listing["tools"])  # the others keep working
    assert "impostor: starting" not in out.stderr  # a server's stderr goes to its log, not the terminal
    log = isolated_home / "state" / "llm-os" / "servers" / "impostor.log"
    assert "impostor: starting" in log.read_text(encoding="utf-8")
    assert elapsed < 80  # not waited for: the message above shows the configured 3 s applied
