"""When the agent makes a small model answer instead of calling again, the nudge it sends, and the
constrained decision schema (turned into a grammar by the real llama.cpp converter)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pytest

from llmos.agent import answer_step, decisions
from llmos.agent.host import ToolInfo


@dataclass
class FakeRun:  # the plain data a ToolRun carries; answer_step reads nothing else
    name: str
    ok: bool = True
    read_only: bool = True
    text: str = ""
    structured: dict[str, Any] | None = None


QUESTIONS = ["what's in this folder?", "when did I last change report.docx?", "what did the last commit change?",
             "have I got something to play music with?", "is backup-daemon running at the moment?",
             "show me the last few commits", "find all my pdfs", "who is using port 8123?"]
ACTIONS = ["kill the backup-daemon process", "get rid of old.log, I don't need it", "can you delete old.log?",
           "open report.pdf for me", "start a new branch called experiment", "grab http://x/data.zip and save it",
           "turn the recipes folder into a git repository"]


@pytest.mark.parametrize("request_text", QUESTIONS)
def test_a_question_is_answered_after_its_lookup(request_text: str) -> None:
    assert not answer_step.asks_for_action(request_text)
    assert answer_step.answer_next([FakeRun("list_directory")], request_text, just_repeated=False)


@pytest.mark.parametrize("request_text", ACTIONS)
def test_a_lookup_made_for_an_action_leaves_the_tools_offered(request_text: str) -> None:
    assert answer_step.asks_for_action(request_text)
    assert not answer_step.answer_next([FakeRun("find_processes")], request_text, just_repeated=False)


def test_after_the_action_the_model_answers_unless_several_things_were_asked_for() -> None:
    done = [FakeRun("make_directory", read_only=False)]
    assert answer_step.answer_next(done, "make a folder called reports", just_repeated=False)
    assert not answer_step.answer_next(done, "tidy up the jpgs into a folder named images", just_repeated=False)


def test_a_failed_call_may_be_retried_and_a_repeat_must_answer() -> None:
    assert not answer_step.answer_next([FakeRun("stat", ok=False)], "how big is video.mp4?", just_repeated=True)
    assert answer_step.answer_next([FakeRun("git_commit", read_only=False)], "tidy all of it", just_repeated=True)


def test_the_nudge_repeats_the_request_and_names_what_the_result_holds() -> None:
    listing = {"path": "~", "entries": [{"name": "budget.xlsx", "path": "~/budget.xlsx", "type": "file"},
                                        {"name": "letter.odt", "path": "~/letter.odt", "type": "file"}],
               "truncated": False, "undo_id": "e3ee2b7aa401"}
    text = answer_step.nudge([FakeRun("list_directory", structured=listing)], "what's in this folder?", acted=False)
    assert "what's in this folder?" in text and "entries: budget.xlsx, letter.odt" in text
    assert "undo_id" not in text and "truncated" not in text and "tool results" not in text
    procs = {"processes": [{"pid": 4242, "name": "backup-daemon", "user": "sam"}]}
    assert "backup-daemon (pid 4242, user sam)" in answer_step.digest(FakeRun("find_processes", structured=procs))
    commit = {"sha": "b04967cd096485c92a558214a7188905ccf2536a", "short_sha": "b04967c", "author": "Sam Tester",
              "subject": "add the csv parser"}
    said = answer_step.digest(FakeRun("git_show", structured=commit))
    assert said.startswith("subject: add the csv parser") and "b04967cd0964" not in said and "b04967c" in said
    page = {"url": "http://127.0.0.1:8000/faq.html", "title": "FAQ",
            "text": "Frequently asked questions. Delivery: orders ship within two working days. " * 4
                    + "Returns: you can return any item within 30 days for a full refund."}
    said = answer_step.digest(FakeRun("fetch_page", structured=page), "does it say anything about refunds?")
    assert "title: FAQ" in said and "within 30 days for a full refund" in said, said
    assert "30 days" not in answer_step.digest(FakeRun("fetch_page", structured=page))  # no request: the start
    long = FakeRun("read_file", text="word " * 400)
    assert len(answer_step.digest(long)) <= answer_step.DIGEST_CHARS + 2


def _tool(name: str, schema: dict[str, Any]) -> ToolInfo:
    return ToolInfo("t", name, name, f"{name} things", schema, {}, True)


def test_the_decision_grammar_holds_each_tool_to_its_own_arguments() -> None:
    from cyllama.llama import llama_cpp  # the engine's binding: llama.cpp's own schema-to-grammar converter

    tools = [_tool("system_overview", {"type": "object", "properties": {}, "title": "x"}),
             _tool("stat", {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]})]
    schema = decisions.decision_schema(tools)
    assert schema["anyOf"][0]["properties"]["tool"] == {"const": "answer"}  # the plain answer comes first
    grammar = str(llama_cpp.json_schema_to_grammar(schema))
    assert "ref" not in json.dumps(schema)
    # No branch lets a key through that its tool does not name.
    for branch in schema["anyOf"][1:]:
        assert branch["properties"]["arguments"]["additionalProperties"] is False
    assert '\\"path\\"' in grammar and '\\"system_overview\\"' in grammar
    assert re.search(r'alternative-1-arguments ::= "\{" space +"\}" space', grammar)  # {} is all it may write
    assert decisions.decode('{"tool": "stat", "arguments": {"path": "a.txt"}}', {t.exposed: t for t in tools})[1][0] \
        .arguments == {"path": "a.txt"}
    assert decisions.decode('{"tool": "answer", "answer": "Hi!"}', {}) == ("Hi!", [])
