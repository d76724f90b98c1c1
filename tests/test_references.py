"""Reference resolution against a corpus of dialogues (tests/data/references.yaml); reports accuracy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import yaml

from llmos.conversation.references import References, is_destructive_request
from llmos.paths import display

DATA = Path(__file__).parent / "data"
CORPUS = [dialogue for name in ("references.yaml", "references-dialogues.yaml")
          for dialogue in yaml.safe_load((DATA / name).read_text(encoding="utf-8"))]


def _norm(value: str) -> str:
    return display(value.replace("~", str(Path.home()), 1)) if value.startswith("~") else value


def questions() -> Iterator[tuple[dict, dict, list, bool]]:
    """Replay every dialogue; for each question: (dialogue, event, what resolve found, whether it is right)."""
    for dialogue in CORPUS:
        refs = References()
        for event in dialogue["events"]:
            if "user" in event:
                refs.observe_user_text(event["user"])
            elif "call" in event:
                refs.observe_tool_call(event["call"], event["args"])
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
                yield dialogue, event, found, ok


def run_corpus() -> tuple[int, int, list[str]]:
    right, total, wrong = 0, 0, []
    for dialogue, event, found, ok in questions():
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


def test_destructive_requests_are_recognised() -> None:
    assert is_destructive_request("delete it") and is_destructive_request("kill them")
    assert not is_destructive_request("open it") and not is_destructive_request("what is in it")


def test_block_is_bounded_and_newest_first() -> None:
    refs = References()
    refs.observe_tool_result("filesystem.find_largest",
                             {"files": [{"path": f"/tmp/f{i}", "size": i} for i in range(50)]})
    refs.observe_user_text("open ~/latest.txt")
    lines = refs.block(max_items=5).splitlines()
    assert len(lines) == 6 and "latest.txt" in lines[1]
