"""`--continue` of a long session reuses the compaction summary it saved instead of compacting again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import servers_config, write_user_config
from tests.replay_server import Reply, ReplayServer
from tests.scripted_model import ScriptedModel, openai_text

SUMMARY = "The user asked about eleven folders under ~/projects; each was listed and left alone."


def summary_reply() -> Reply:
    body = {"id": "chatcmpl-s", "object": "chat.completion", "created": 1, "model": "scripted",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": SUMMARY}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 900, "completion_tokens": 20, "total_tokens": 920}}
    return Reply(chunks=[json.dumps(body).encode()])


def llmos(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "llmos", *args], capture_output=True, text=True, timeout=90,
                          env=dict(os.environ), stdin=subprocess.DEVNULL)


def test_continue_reuses_the_saved_summary(isolated_home: Path) -> None:
    folder = isolated_home / "data" / "llm-os" / "sessions"
    folder.mkdir(parents=True)
    path = folder / "20261201-000000-abcdef.jsonl"
    lines = [{"session": "20261201-000000-abcdef", "started": 1764547200.0, "cwd": "/"}]
    for i in range(12):
        lines.append({"role": "user", "content": f"what is in ~/projects/folder-{i}? " + "please look " * 20})
        lines.append({"role": "assistant", "content": f"folder-{i} holds notes and drafts. " + "nothing else " * 20})
    path.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    with ReplayServer() as server:
        model = ScriptedModel(server)
        write_user_config(isolated_home, model.config(servers_config()).replace(
            "    models: {default: scripted}\n", "    models: {default: scripted}\n    context_window: 2048\n"))
        model.say(summary_reply(), openai_text("First answer."))
        first = llmos("run", "--continue", "and folder-12?")
        assert first.returncode == 0, first.stderr
        summarised = [r for r in model.requests() if r["messages"][0]["content"].startswith("Summarise")]
        assert len(summarised) == 1  # the long history was compacted once

        model.say(openai_text("Second answer."))
        second = llmos("run", "--continue", "and folder-13?")
        assert second.returncode == 0, second.stderr
        requests = model.requests()
    later = requests[len(summarised) + 1:]
    assert later and not any(r["messages"][0]["content"].startswith("Summarise") for r in later)
    sent = json.dumps(later[0]["messages"])
    assert SUMMARY in sent and "and folder-12?" in sent and "folder-0?" not in sent
    saved = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    assert sum(1 for r in saved if "summary" in r) == 1 and len([r for r in saved if "role" in r]) == 24 + 4
