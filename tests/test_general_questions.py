"""A question about the world is offered no tool on a small context; one about this computer, or about a
thing the conversation showed, still is. Through llmos run with a scripted model and the real filesystem
server."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmos.agent.general import about_the_world
from tests.conftest import two_biggest_listed
from tests.inprocess import llmos
from tests.scripted_model import ScriptedModel, openai_text
from tests.test_agent import files, llmos_run, model  # noqa: F401  (fixtures)

# The task suite's no-tool facts that got a call from the 0.5B, and others like them.
WORLD = ["who wrote Romeo and Juliet?", "at what temperature does water boil in celsius?",
         "in one sentence, what is a git commit?", "what does CPU stand for?", "what's the capital of France?",
         "how do you say 'good morning' in Spanish?", "what colour do you get if you mix blue and yellow?"]
MINE = ["what did the last commit change?", "who made the last commit?", "what's this computer called?",
        "how much RAM does this machine have?", "is backup-daemon running at the moment?", "what's in notes.txt?",
        "what's hogging the memory right now?", "which apps do I have installed?", "who is using port 8123?",
        "what branches are there", "is there a file called passwords anywhere", "what's in this folder?"]


@pytest.mark.parametrize("request_text", WORLD)
def test_questions_about_the_world(request_text: str) -> None:
    assert about_the_world(request_text)


@pytest.mark.parametrize("request_text", MINE)
def test_questions_about_this_computer(request_text: str) -> None:
    assert not about_the_world(request_text)


def test_a_world_question_goes_to_the_model_without_tools(model: ScriptedModel, files: Path,  # noqa: F811
                                                          isolated_home: Path) -> None:
    model.say(openai_text("Shakespeare."), openai_text("Some."))
    assert llmos_run("who wrote Romeo and Juliet?").returncode == 0
    assert llmos_run("what's the biggest file in my folder?").returncode == 0
    world, mine = model.requests()
    assert not world.get("tools") and mine.get("tools")


def test_a_thing_the_conversation_showed_keeps_the_tools(isolated_home: Path, tmp_path: Path) -> None:
    with two_biggest_listed(isolated_home, tmp_path, openai_text("A letter.")) as (_root, scripted):
        assert llmos("run", "--continue", "what does the text file say?").returncode == 0
        assert scripted.requests()[-1].get("tools")
