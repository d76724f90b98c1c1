"""Reference resolution against a corpus of dialogues (tests/data/references.yaml); reports accuracy."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import yaml

from llmos.agent import facts
from llmos.conversation.references import References
from llmos.paths import display
from tests.conftest import two_biggest_listed
from tests.inprocess import llmos
from tests.test_retrieval_corpus import live_tools

DATA = Path(__file__).parent / "data"
CORPUS = [dialogue for name in ("references.yaml", "references-dialogues.yaml", "references-natural.yaml")
          for dialogue in yaml.safe_load((DATA / name).read_text(encoding="utf-8"))]


def _norm(value: str) -> str:
    return display(value.replace("~", str(Path.home()), 1)) if value.startswith("~") else value


@lru_cache(maxsize=1)
def declared() -> dict[str, tuple[list[str], list[str]]]:
    """server.tool → (path arguments, URL arguments), as the built-in servers (started in process) declare."""
    return {t.qualified: (facts.path_args(t), facts.url_args(t)) for t in live_tools().values()}


def judged(dialogue: dict) -> Iterator[tuple[dict, bool, list]]:
    """Each question of one dialogue, played in order: (the ask event, resolved as expected, resolutions)."""
    refs = References()
    for event in dialogue["events"]:
        if "user" in event:
            refs.observe_user_text(event["user"])
        elif "call" in event:
            refs.observe_tool_call(event["call"], event["args"], *declared()[event["call"]])
        elif "result" in event:
            refs.observe_tool_result(event["result"], event["structured"])
        elif "assistant" in event:
            refs.observe_assistant_text(event["assistant"])
        else:
            found = refs.resolve(event["ask"])
            if event.get("ambiguous"):
                ok = any(r.ambiguous for r in found)
            else:
                got = list(dict.fromkeys(e.value for r in found if not r.ambiguous for e in r.referents))
                ok = got == [_norm(v) for v in event["expect"]] and not any(r.ambiguous for r in found)
            yield event, ok, found


def run_corpus(corpus: list[dict] = CORPUS) -> tuple[int, int, list[str]]:
    right, total, wrong = 0, 0, []
    for dialogue in corpus:
        for event, ok, found in judged(dialogue):
            total += 1
            right += ok
            if not ok:
                wrong.append(f"{dialogue['name']}: {event['ask']!r} → {[r.describe() for r in found]}")
    return right, total, wrong


def test_reference_accuracy_on_the_corpus() -> None:
    right, total, wrong = run_corpus()
    accuracy = right / total
    print(f"\nreference resolution: {right}/{total} = {accuracy:.1%}")
    assert len(CORPUS) >= 100 and total >= 200
    assert accuracy >= 0.95, "\n".join(wrong)


def test_path_arguments_are_the_ones_the_tool_declares() -> None:
    refs = References()
    refs.observe_tool_call("thirdparty.convert", {"path": "~/report.docx", "format": "~/notes.txt"})
    assert refs.resolve("open it") == []  # nothing declared: no argument is taken for a path
    refs.observe_tool_call("filesystem.stat", {"path": "~/report.docx"}, *declared()["filesystem.stat"])
    [found] = refs.resolve("open it")
    assert [e.value for e in found.referents] == [_norm("~/report.docx")]
    refs.observe_tool_call("apps.launch_app", {"app": "gedit", "target": "~/todo.txt"},
                           *declared()["apps.launch_app"])
    assert [e.kind for r in refs.resolve("open it") for e in r.referents] == ["file"]  # a path, not a URL


def test_this_folder_is_where_the_person_is() -> None:
    refs = References()
    refs.observe_tool_result("filesystem.list_directory", {"path": "~/w", "entries": [
        {"name": n, "path": f"~/w/{n}", "type": "directory", "size": 0} for n in ("a", "b")], "more": 0})
    assert refs.resolve("what's in this folder") == []
    assert refs.resolve("what's in the folder")[0].ambiguous


def test_an_ambiguous_request_is_asked_whatever_it_asks(isolated_home: Path, tmp_path: Path) -> None:
    """Not only before a delete: "what is in it" after two files asks too, and the model is not called."""
    with two_biggest_listed(isolated_home, tmp_path) as (root, model):
        for question in ("what is in it?", "open that one", "delete it"):
            asked = llmos("run", "--continue", "--json", question)
            assert asked.returncode == 0, asked.stderr
            text = json.loads(asked.stdout)["text"]
            assert "Which one do you mean" in text and "a.iso" in text and "b.txt" in text, text
        assert len(model.requests()) == 2  # each question was asked by llmos, without a model call
    assert (root / "a.iso").exists() and (root / "b.txt").exists()


def test_block_is_bounded_and_newest_first() -> None:
    refs = References()
    refs.observe_tool_result("filesystem.find_largest",
                             {"files": [{"path": f"/tmp/f{i}", "size": i} for i in range(50)]})
    refs.observe_user_text("open ~/latest.txt")
    lines = refs.block(max_items=5).splitlines()
    assert len(lines) == 6 and "latest.txt" in lines[1]
