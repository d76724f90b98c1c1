"""Optional arguments a model made up, that narrow a call nobody asked to narrow, are left out (the tool's
default instead); what the person said, a tool returned, or the working directory keeps an argument."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmos.agent.grounding import unasked
from tests.conftest import scripted_model
from tests.inprocess import llmos
from tests.scripted_model import openai_text, openai_tool_calls

GIT_LOG = {"type": "object", "properties": {
    "repo": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
    "max_count": {"type": "integer", "default": 20},
    "author": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
    "since": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
    "path": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}}}


def test_made_up_filters_go_and_what_was_said_stays(tmp_path: Path) -> None:
    """Measured on the 0.5B: git_log(author="root", since="2024-05-01", path="README.md") for "show me the
    last few commits" matched nothing. "root" is in the system prompt (the user's name), not in the request."""
    here, home = tmp_path / "home" / "work", tmp_path / "home"
    args = {"repo": str(here.parent.parent), "max_count": 500, "author": "root", "since": "2024-05-01",
            "path": "README.md"}
    kept, dropped = unasked(args, GIT_LOG, ["repo"], "show me the last few commits", [here, home])
    assert kept == {} and len(dropped) == 5  # the folder above the working directory too (the 1.5B's repo)
    said = "show me the 5 latest commits by ada since 2 weeks ago in README.md"
    args = {"repo": str(here), "max_count": 5, "author": "Ada", "since": "2 weeks ago", "path": "README.md"}
    assert unasked(args, GIT_LOG, ["repo"], said, [here, home]) == (args, [])
    assert unasked({"max_count": 3}, GIT_LOG, [], "the last three commits", [])[0] == {"max_count": 3}
    assert unasked({"max_count": 20}, GIT_LOG, [], "commits", [])[0] == {"max_count": 20}  # the default itself


@pytest.fixture
def poem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "work"
    root.mkdir()
    (root / "poem.txt").write_text("The fog comes on little cat feet.\nIt sits looking over harbor and city.\n")
    monkeypatch.chdir(root)
    return root


def test_a_made_up_limit_does_not_cut_the_result(poem: Path, isolated_home: Path) -> None:
    """Measured: "what's the first line of poem.txt?" → read_file(limit=1) read "T", and the 0.5B said the
    first line was "T". Run through the real filesystem server, the call reads the whole line."""
    with scripted_model(isolated_home, poem) as model:
        model.say(openai_tool_calls(("read_file", {"path": str(poem / "poem.txt"), "offset": 0, "limit": 1})),
                  openai_text("The first line is: The fog comes on little cat feet."))
        out = llmos("run", "--json", "what's the first line of poem.txt?")
        assert out.returncode == 0, out.stderr
        [call] = json.loads(out.stdout)["tool_calls"]
        assert call["arguments"] == {"path": str(poem / "poem.txt"), "offset": 0}
        result = model.requests()[1]["messages"][-1]["content"]
        assert "little cat feet" in result


def test_a_limit_the_person_gave_is_kept(poem: Path, isolated_home: Path) -> None:
    with scripted_model(isolated_home, poem) as model:
        model.say(openai_tool_calls(("read_file", {"path": "poem.txt", "limit": 8})), openai_text("The fog."))
        out = llmos("run", "--json", "read the first 8 bytes of poem.txt")
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["tool_calls"][0]["arguments"] == {"path": "poem.txt", "limit": 8}
        assert "little" not in model.requests()[1]["messages"][-1]["content"]


def test_calls_differing_only_in_dropped_arguments_are_repeats(poem: Path, isolated_home: Path) -> None:
    """Measured: search_page(query="news", max_matches=10), then without max_matches, then again: three
    identical calls once fitted, yet the loop guard counted them as different."""
    with scripted_model(isolated_home, poem) as model:
        model.say(openai_tool_calls(("read_file", {"path": "poem.txt", "limit": 3})),
                  openai_tool_calls(("read_file", {"path": "poem.txt"})),
                  openai_tool_calls(("read_file", {"path": "poem.txt", "limit": 7})),
                  openai_text("The fog."))
        out = llmos("run", "--json", "what's the first line of poem.txt?")
        assert out.returncode == 0, out.stderr
        assert "same arguments 3 times" in json.loads(out.stdout)["text"]
        assert len(model.requests()) == 3
