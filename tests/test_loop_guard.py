"""Loop detection: the same call with the same arguments three times in one turn ends the turn, and says so."""

from __future__ import annotations

import json
from pathlib import Path

from llmos.agent.loop_guard import LoopGuard
from llmos.llm.messages import ToolCall
from tests.conftest import servers_config, write_user_config
from tests.scripted_model import ScriptedModel, openai_text, openai_tool_calls
from tests.test_agent import audit_records, files, llmos_run, model  # noqa: F401  (fixtures)


def call(name: str, **arguments: object) -> ToolCall:
    return ToolCall("id", name, dict(arguments))


def test_third_identical_call_stops() -> None:
    guard = LoopGuard()
    assert guard.repeated([call("list_directory", path="~")]) is None
    assert guard.repeated([call("list_directory", path="~")]) is None
    message = guard.repeated([call("list_directory", path="~")])
    assert message is not None and "list_directory" in message and "3 times" in message


def test_different_arguments_or_tools_are_not_a_loop() -> None:
    guard = LoopGuard()
    for i in range(10):
        assert guard.repeated([call("read_file", path=f"f{i}.txt"), call("stat", path=f"f{i}.txt")]) is None


def test_argument_order_does_not_hide_a_repeat() -> None:
    guard = LoopGuard()
    guard.repeated([call("find_largest", path="~", count=5)])
    guard.repeated([ToolCall("x", "find_largest", {"count": 5, "path": "~"})])
    assert guard.repeated([call("find_largest", count=5, path="~")]) is not None


def test_repeated_calls_in_one_step_count_too() -> None:
    assert LoopGuard().repeated([call("git_status")] * 3) is not None


def test_a_model_stuck_on_one_call_is_stopped_after_two_runs(model: ScriptedModel, files: Path,  # noqa: F811
                                                             isolated_home: Path) -> None:
    write_user_config(isolated_home, model.config(servers_config(files) + "agent:\n  max_steps: 8\n"))
    model.say(openai_tool_calls(("list_directory", {"path": str(files)})))  # repeats forever
    out = llmos_run("--json", "what is in my folder")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert "same arguments 3 times" in result["text"] and not result["step_limit_hit"]
    assert len(model.requests()) == 3  # the third identical request was not run, and the turn ended
    assert [r["tool"] for r in audit_records(isolated_home)] == ["list_directory", "list_directory"]


def test_a_model_that_makes_progress_is_not_stopped(model: ScriptedModel, files: Path) -> None:  # noqa: F811
    model.say(openai_tool_calls(("list_directory", {"path": str(files)})),
              openai_tool_calls(("list_directory", {"path": str(files / "Downloads")})),
              openai_tool_calls(("list_directory", {"path": str(files)})),
              openai_text("Done."))
    out = llmos_run("--json", "look around")
    assert json.loads(out.stdout)["text"] == "Done."
