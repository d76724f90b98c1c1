"""The shell and `llmos run -v` on llmos's own engine with the real SmolLM2-135M (1 thread): the banner and the
verbose line say what the picker chose; in a real terminal (tmux) Ctrl-C stops a generation in progress, the
prompt comes back and the next request is answered by the same loaded engine."""

from __future__ import annotations

import sqlite3
import sys
import time
from pathlib import Path

from tests.conftest import write_user_config
from tests.inprocess import llmos
from tests.llm_server import model_path
from tests.tmux import Terminal

BANNER = "embedded · SmolLM2-135M-Instruct.Q4_1 · ctx 2048 · CPU · 1 thread"


def only_the_engine(home: Path) -> None:
    servers = "".join(f"  {n}: {{enabled: false}}\n" for n in ("filesystem", "git", "system", "apps", "browser"))
    write_user_config(home, "providers:\n  ollama: {enabled: false}\n  claude: {enabled: false}\n"
                            f"  openai: {{enabled: false}}\n  embedded:\n    model: {model_path()}\n"
                            f"    threads: 1\n    n_ctx: 2048\nservers:\n{servers}")


def test_run_verbose_says_what_the_engine_runs(isolated_home: Path) -> None:
    only_the_engine(isolated_home)
    out = llmos("run", "-v", "--no-tools", "Say hi.")
    assert out.returncode == 0, out.stderr
    assert f"router: embedded runs {BANNER.removeprefix('embedded · ')}" in out.stderr
    quiet = llmos("run", "--no-tools", "Say hi.")
    assert quiet.returncode == 0 and "router:" not in quiet.stderr


def test_ctrl_c_stops_the_engine_and_the_shell_answers_the_next_request(isolated_home: Path,
                                                                         tmp_path: Path) -> None:
    only_the_engine(isolated_home)
    with Terminal(f"{sys.executable} -m llmos", cwd=str(tmp_path), width=160) as term:
        screen = term.wait_for("tools — /help", timeout=120)  # the banner, once start-up is done
        assert f"{BANNER} · 0 tools" in " ".join(screen.split()), screen  # (the line may wrap)
        assert "/2,048 tokens" in term.wait_for("tokens"), term.screen()  # the toolbar: the engine's n_ctx
        term.type("Write a very long story about a dragon, at least 800 words.")
        term.send("Enter")
        term.wait_for_text_after("at least 800 words.", timeout=180)  # the model is writing
        sent = time.monotonic()
        term.send("C-c")
        term.wait_for("cancelled", timeout=30)
        stopped = time.monotonic() - sent
        story = term.screen().split("at least 800 words.", 1)[1].split("cancelled", 1)[0]
        term.wait_for("llmos>", after="cancelled")  # the prompt again
        time.sleep(1.5)
        after = term.screen().split("at least 800 words.", 1)[1].split("cancelled", 1)[0]
        assert after == story  # nothing more of the story was written once cancelled
        term.type("Say yes.")
        term.send("Enter")
        # The engine is free again: a generation still running would hold it for the whole 2048-token story.
        term.wait_for_text_after("Say yes.", timeout=120)
        term.wait_for("llmos>", after="Say yes.", timeout=120)
        term.type("/exit")
        term.send("Enter")
        term.wait_for("EXIT=0")
    assert stopped < 10, f"'cancelled' appeared {stopped:.1f} s after Ctrl-C"
    usage = isolated_home / "state" / "llm-os" / "usage.sqlite3"
    with sqlite3.connect(usage) as db:
        outcomes = [row[0] for row in db.execute("SELECT error_kind FROM requests ORDER BY rowid")]
    assert outcomes == ["CANCELLED", None], outcomes
