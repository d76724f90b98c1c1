"""A call that failed is not run again in the same turn, and a tool that keeps failing (or was refused for a
made-up PID) is withdrawn until another call succeeds — through llmos run, a scripted model and the real
filesystem and system servers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import write_user_config
from tests.scripted_model import ScriptedModel, openai_text, openai_tool_calls
from tests.test_agent import audit_records, files, llmos_run, model  # noqa: F401, F811  (fixtures)


def offered(request: dict) -> set[str]:
    return {t["function"]["name"] for t in request.get("tools") or []}


def test_the_same_failing_call_is_not_run_again_and_its_tool_is_withdrawn(model: ScriptedModel,  # noqa: F811
                                                                           files: Path, isolated_home: Path) -> None:  # noqa: F811
    """Measured on the 0.5B: delete("~/.Trash/junk") failed, and it sent the same call until the loop guard
    stopped the turn."""
    (files / "junk").mkdir()
    wrong = {"path": str(files / ".Trash" / "junk")}
    model.say(openai_tool_calls(("delete", wrong)), openai_tool_calls(("delete", wrong)),
              openai_text("I could not find it."))
    out = llmos_run("--json", "--yes", "delete the empty junk folder")
    assert out.returncode == 0, out.stderr
    first, second, third = model.requests()
    assert "delete" in offered(first) and "delete" in offered(second)
    assert "No such file or folder" in second["messages"][-1]["content"]
    assert "Not run again" in third["messages"][-1]["content"] and "No such file" in third["messages"][-1]["content"]
    assert "delete" not in offered(third) and offered(third)  # other tools stay; the turn goes on
    assert json.loads(out.stdout)["text"] == "I could not find it."
    assert [r["status"] for r in audit_records(isolated_home) if r["tool"] == "delete"].count("ok") == 0


def test_a_tool_refused_for_a_made_up_pid_comes_back_once_the_pid_is_looked_up(model: ScriptedModel,  # noqa: F811
                                                                              files: Path,  # noqa: F811
                                                                              isolated_home: Path) -> None:
    """Measured on the 0.5B: kill_process(pid=12345) refused as invented, then sent again twice."""
    daemon = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "backup-daemon-test"])
    try:
        write_user_config(isolated_home, model.config(
            "servers:\n  git: {enabled: false}\n  apps: {enabled: false}\n  browser: {enabled: false}\n"
            f"  filesystem:\n    roots: [{files}]\n"))
        model.say(openai_tool_calls(("kill_process", {"pid": 12345})),
                  openai_tool_calls(("process_details", {"pid": 12346})),  # two refusals do not end the turn
                  openai_tool_calls(("find_processes", {"name": "backup-daemon-test"})),
                  openai_tool_calls(("kill_process", {"pid": daemon.pid})), openai_text("Killed it."))
        out = llmos_run("--json", "--yes", "kill the backup-daemon-test process")
        assert out.returncode == 0, out.stderr
        requests = model.requests()
        assert "kill_process" in offered(requests[0])
        assert "kill_process" not in offered(requests[1]) and "find_processes" in offered(requests[1])
        assert "find_processes" in offered(requests[2])
        assert str(daemon.pid) in requests[3]["messages"][-1]["content"] and "kill_process" in offered(requests[3])
        assert daemon.wait(timeout=10) is not None
    finally:
        daemon.kill()


def test_after_two_tools_are_withdrawn_the_model_answers(model: ScriptedModel, files: Path,  # noqa: F811
                                                         isolated_home: Path) -> None:
    """Measured: pushed off delete and delete_permanently (a made-up path), the 0.5B tried other tools until
    git_init made the home folder a repository. After two tools are withdrawn the next step answers."""
    wrong = {"path": str(files / ".Trash" / "junk")}
    model.say(openai_tool_calls(("delete", wrong)), openai_tool_calls(("delete", wrong)),
              openai_tool_calls(("delete_permanently", wrong)), openai_tool_calls(("delete_permanently", wrong)),
              openai_tool_calls(("make_directory", {"path": str(files / "made-up")})), openai_text("unused"))
    out = llmos_run("--json", "--yes", "delete the empty junk folder")
    assert out.returncode == 0, out.stderr
    assert len(model.requests()) == 5 and not (files / "made-up").exists()
    assert "make_directory" not in [r["tool"] for r in audit_records(isolated_home)]
