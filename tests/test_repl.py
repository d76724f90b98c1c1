"""The interactive shell in a real terminal (tmux) and through prompt-toolkit pipe input."""

from __future__ import annotations

import asyncio
import io
import sys
from pathlib import Path

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from llmos.config import load_config
from llmos.repl.app import Repl
from llmos.terminal import Terminal as Streams
from tests.conftest import llm_config, servers_config, write_user_config
from tests.llm_server import LLMServer
from tests.replay_server import ReplayServer
from tests.scripted_model import ScriptedModel, openai_text, openai_tool_calls
from tests.tmux import Terminal

LLMOS = f"{sys.executable} -m llmos"


@pytest.fixture
def files(tmp_path: Path) -> Path:
    root = tmp_path / "files"
    root.mkdir()
    (root / "notes.txt").write_text("remember the milk\n")
    (root / "old.log").write_text("x" * 100)
    return root


@pytest.mark.llm
def test_a_session_in_a_real_terminal(llm: LLMServer, isolated_home: Path, files: Path) -> None:
    write_user_config(isolated_home, llm_config(llm, extra=servers_config(files)))
    with Terminal(LLMOS, cwd=str(files)) as term:
        screen = term.wait_for("llmos>")
        assert "type a request" in screen
        term.wait_for("tools — /help")  # the banner, once servers are up: provider, model, context, tools
        assert "local · smollm2 · ctx 2048" in term.screen()
        term.type("/tols")
        term.send("Enter")
        term.wait_for("did you mean /tools?")
        term.type("Say hello.")
        term.send("Enter")
        term.wait_for("llmos>", after="Say hello.")  # answered by the real model, back at the prompt
        term.type("Write a very long story about a dragon, at least 800 words.")
        term.send("Enter")
        term.wait_for_text_after("at least 800 words.")  # the answer has started streaming (any words)
        term.send("C-c")
        term.wait_for("cancelled")
        term.type("/history")
        term.send("Enter")
        term.wait_for("messages", after="/history")  # the session goes on after Ctrl-C
        term.type(f"!cat {files}/notes.txt")
        term.send("Enter")
        term.wait_for("output is context for your next request")
        term.type("/ex")
        term.send("Tab")  # completes /exit
        term.wait_for("/exit")
        term.send("Enter")
        term.wait_for("EXIT=0")
    # history persists: a second shell finds the earlier lines with Up
    with Terminal(LLMOS, cwd=str(files)) as term:
        term.wait_for("llmos>")
        term.send("Up")
        term.wait_for("/exit", after="llmos>")
        term.send("C-u", "C-d")
        term.wait_for("EXIT=0")


def test_confirmation_no_then_yes_in_a_real_terminal(isolated_home: Path, files: Path) -> None:
    with ReplayServer() as server:
        model = ScriptedModel(server)
        write_user_config(isolated_home, model.config(servers_config(files)))
        model.say(openai_tool_calls(("delete", {"path": str(files / "old.log")})), openai_text("Kept it."),
                  openai_tool_calls(("delete", {"path": str(files / "old.log")})), openai_text("Deleted old.log."))
        with Terminal(LLMOS, cwd=str(files), width=90) as term:
            term.wait_for("llmos>")
            term.type("delete old.log")
            term.send("Enter")
            term.wait_for("Run it? [y/N/a/e]")
            assert "filesystem.delete" in term.screen() and "Can be undone" in term.screen()
            term.send("n", "Enter")
            term.wait_for("Kept it.")
            assert (files / "old.log").exists()
            term.type("delete old.log now")
            term.send("Enter")
            term.wait_for("Run it? [y/N/a/e]", after="delete old.log now")
            term.send("y", "Enter")
            term.wait_for("Deleted old.log.")
            assert not (files / "old.log").exists()
            term.type("/undo")
            term.send("Enter")
            term.wait_for("undone: moved")
            assert (files / "old.log").exists()
            term.send("C-d")
            term.wait_for("EXIT=0")


def test_path_completion_in_a_real_terminal(isolated_home: Path, files: Path) -> None:
    with ReplayServer() as server:
        write_user_config(isolated_home, ScriptedModel(server).config(servers_config(files)))
        with Terminal(LLMOS, cwd=str(files)) as term:
            term.wait_for("llmos>")
            term.type(f"read {files}/no")
            term.send("Tab")
            term.wait_for(f"{files}/notes.txt")
            term.send("C-u", "C-d")
            term.wait_for("EXIT=0")


def test_plain_terminal_no_color(isolated_home: Path, files: Path) -> None:
    with ReplayServer() as server:
        model = ScriptedModel(server)
        write_user_config(isolated_home, model.config(servers_config(files)))
        model.say(openai_text("Plain **answer** here."))
        with Terminal(LLMOS, env={"NO_COLOR": "1", "TERM": "dumb"}, cwd=str(files), width=80) as term:
            term.wait_for("llmos>")
            term.type("hello")
            term.send("Enter")
            term.wait_for("answer")
            term.wait_for("llmos>", after="answer")
            # /exit, not Ctrl-D: on a dumb terminal a Ctrl-D after a turn is sometimes not seen (a known bug,
            # not what this test is about; Ctrl-D is tested on a full terminal above).
            term.type("/exit")
            term.send("Enter")
            term.wait_for("EXIT=0")


def run_repl(isolated_home: Path, files: Path, keys: str, replies: list, extra_config: str = ""
             ) -> tuple[str, list[dict]]:
    """The shell in-process with pipe input: (everything it printed, the requests the model received)."""
    with ReplayServer() as server:
        model = ScriptedModel(server)
        write_user_config(isolated_home, model.config(servers_config(files) + extra_config))
        model.say(*replies)
        out = io.StringIO()

        async def go():
            with create_pipe_input() as pipe:
                pipe.send_text(keys)
                repl = Repl(load_config(), Streams(stdout=out, stderr=out, prompt_input=pipe,
                                                    prompt_output=DummyOutput(), person=True, width=100))
                await repl.run()
        asyncio.run(asyncio.wait_for(go(), 60))
        return out.getvalue(), model.requests()


def test_slash_commands_through_pipe_input(isolated_home: Path, files: Path) -> None:
    out, _ = run_repl(isolated_home, files, "/help\r/yes\r/provider\r/nope\r/config\r/tools find_largst\r"
                      "/tools find_largest\r/exit\r", [openai_text("x")])
    assert "/compact" in out and "/dry-run" in out and "Ctrl-R" in out
    assert "auto-approve is ON" in out
    assert "provider: automatic (scripted)" in out
    assert "unknown command /nope" in out
    assert "router.local_first" in out
    assert "no tool named find_largst — did you mean find_largest?" in out
    assert "filesystem.find_largest — " in out and '"readOnlyHint": true' in out


def test_yes_mode_and_shell_output_as_context(isolated_home: Path, files: Path) -> None:
    keys = f"!cat {files}/notes.txt\r/yes\rdelete old.log\r/last\r\x04"
    text, requests = run_repl(isolated_home, files, keys, [
        openai_tool_calls(("delete", {"path": str(files / "old.log")})), openai_text("Deleted.")])
    assert "remember the milk" in text and not (files / "old.log").exists()
    assert "▸ filesystem.delete" in text and '"action": "moved to trash"' in text  # /last shows the full result
    user = next(m for m in requests[0]["messages"] if m["role"] == "user")
    assert "Output of `cat" in user["content"] and "remember the milk" in user["content"]
    assert user["content"].endswith("delete old.log")


def test_banner_shows_the_pickers_choice(isolated_home: Path) -> None:
    from llmos.picker import survey_sync
    from tests.ollama_wire import OllamaReplay

    with OllamaReplay() as ollama:
        write_user_config(isolated_home, "providers:\n  claude: {enabled: false}\n  openai: {enabled: false}\n"
                          f"  ollama:\n    base_url: {ollama.url}\n" + "servers:\n" + "".join(
                              f"  {n}: {{enabled: false}}\n" for n in ("git", "system", "apps", "browser")))
        expected = survey_sync(load_config()).choose("default", tools=True)
        out = io.StringIO()

        async def go():
            with create_pipe_input() as pipe:
                pipe.send_text("/tools\r/exit\r")  # /tools waits for the background start-up
                repl = Repl(load_config(), Streams(stdout=out, stderr=out, prompt_input=pipe,
                                                    prompt_output=DummyOutput(), person=True, width=200))
                await repl.run()
        asyncio.run(asyncio.wait_for(go(), 60))
    banner = next(line for line in out.getvalue().splitlines() if "tools —" in line)
    # the free-memory figure moves between two surveys; the choice itself must not
    assert expected.model and f"ollama · {expected.model} · ctx {expected.num_ctx} · " in banner, banner
    assert "est. " in banner and ("GPU" in banner or "RAM available" in banner)


def test_shell_escapes_go_through_the_gate(isolated_home: Path, files: Path) -> None:
    import json as json_module

    target = files / "old.log"
    rules = "gate:\n  rules:\n    - {decision: deny, tool: shell.run, when: {command: 'rm -rf *'}}\n"
    keys = f"!rm {target}\rn\r!rm -rf {files}\r!echo fine\r/exit\r"
    text, _ = run_repl(isolated_home, files, keys, [], extra_config=rules)
    assert target.exists() and files.exists()
    assert "shell.run" in text and "Cannot be undone" in text  # the confirmation panel for `rm`
    assert "not run: rule: deny shell.run" in text
    assert "fine" in text
    audit = isolated_home / "state" / "llm-os" / "audit.jsonl"
    records = [json_module.loads(line) for line in audit.read_text().splitlines()]
    assert [(r["tool"], r["decision"], r["status"]) for r in records] == [
        ("run", "refused", "refused"), ("run", "deny", "refused"), ("run", "allow", "ok")]


def test_shell_escape_under_dry_run_does_not_run(isolated_home: Path, files: Path) -> None:
    target = files / "old.log"
    made = files / "made.txt"
    keys = f"/dry-run\r!rm {target}\r!touch {made}\r/dry-run\r!echo ran-after\r/exit\r"
    text, _ = run_repl(isolated_home, files, keys, [])
    assert target.exists() and not made.exists()  # llmos cannot know what a command does: none runs
    assert text.count("not run: dry run") == 2
    assert "ran-after" in text  # dry run off again: commands run


def test_resume_keeps_the_reserve_for_the_answer(isolated_home: Path, files: Path) -> None:
    from llmos.conversation.session import ChatSession
    from llmos.conversation.store import SessionStore
    from llmos.llm.messages import Message

    saved = ChatSession(store=SessionStore())
    saved.add(Message("user", "an earlier request"))
    out = io.StringIO()

    async def go():
        with create_pipe_input() as pipe:
            pipe.send_text(f"/resume {saved.store.id}\r/exit\r")
            repl = Repl(load_config(), Streams(stdout=out, stderr=out, prompt_input=pipe,
                                                prompt_output=DummyOutput(), person=True, width=100))
            await repl.run()
            return repl
    with ReplayServer() as server:
        write_user_config(isolated_home, ScriptedModel(server).config(
            servers_config(files) + "context:\n  reserve_tokens: 333\n"))
        repl = asyncio.run(asyncio.wait_for(go(), 60))
    assert f"resumed {saved.store.id}" in out.getvalue()
    assert repl.chat.store.id == saved.store.id and repl.chat.reserve_tokens == 333
    assert [m.content for m in repl.chat.conversation.messages] == ["an earlier request"]


def test_multiline_input_with_backslash_and_alt_enter(isolated_home: Path, files: Path) -> None:
    # a trailing backslash continues the line; Alt-Enter (Esc Enter) inserts a new line
    _, requests = run_repl(isolated_home, files, "first line\\\rsecond line\x1b\rthird line\r/exit\r",
                           [openai_text("ok")])
    user = [m for m in requests[0]["messages"] if m["role"] == "user"][-1]
    assert user["content"] == "first line\nsecond line\nthird line"


def test_history_search_with_ctrl_r_in_a_real_terminal(isolated_home: Path, files: Path) -> None:
    history = isolated_home / "state" / "llm-os" / "history"
    history.parent.mkdir(parents=True, exist_ok=True)
    history.write_text("\n# 2026-11-21 10:00:00\n+/usage\n\n# 2026-11-21 10:00:05\n+/history\n"
                       "\n# 2026-11-21 10:00:09\n+/config\n")
    with ReplayServer() as server:
        write_user_config(isolated_home, ScriptedModel(server).config(servers_config(files)))
        with Terminal(LLMOS, cwd=str(files)) as term:
            term.wait_for("llmos>")
            term.send("C-r")
            term.type("usa")
            term.wait_for("/usage")  # reverse search finds the older entry
            term.send("Enter")  # accept the match into the line
            term.send("Enter")  # and send it
            term.wait_for("No requests in the last 7d")
            term.send("C-d")
            term.wait_for("EXIT=0")


def test_ctrl_c_cancels_the_step_and_keeps_what_was_shown(isolated_home: Path, files: Path) -> None:
    import os
    import signal

    from tests.replay_server import Reply, sse

    base = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "scripted"}
    words = ["Once", " upon", " a", " time", " there", " was", " a", " very", " long", " story"] * 5
    slow = Reply(chunks=sse([{**base, "choices": [{"index": 0, "delta": {"content": w}, "finish_reason": None}]}
                             for w in words] + ["[DONE]"]), delay_s=0.2,
                 headers={"content-type": "text/event-stream"})
    with ReplayServer() as server:
        model = ScriptedModel(server)
        write_user_config(isolated_home, model.config(servers_config(files)))
        model.say(slow)
        out = io.StringIO()

        async def go():
            with create_pipe_input() as pipe:
                repl = Repl(load_config(), Streams(stdout=out, stderr=out, prompt_input=pipe,
                                                    prompt_output=DummyOutput(), person=True, width=100))
                running = asyncio.create_task(repl.run())
                pipe.send_text("tell me a story\r")
                for _ in range(200):
                    if " upon a" in out.getvalue():
                        break
                    await asyncio.sleep(0.05)
                os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C sends while a step runs
                for _ in range(100):
                    if "cancelled" in out.getvalue():
                        break
                    await asyncio.sleep(0.05)
                pipe.send_text("/exit\r")
                await running
                return repl
        repl = asyncio.run(asyncio.wait_for(go(), 60))
    assert "cancelled" in out.getvalue()
    last = repl.chat.conversation.messages[-1]
    assert last.role == "assistant" and last.content.startswith("Once upon a") and last.content.endswith("[cancelled]")
    assert len(last.content) < len("".join(words))  # the rest never arrived
