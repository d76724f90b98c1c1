"""Attack class: provider streams that are cut, garbled or stalled (tests/fault_server.py, on loopback).

Every fault, in each adapter's wire format, through the real router and SDKs: the answer is either complete,
or a ProviderError with a one-line reason — cut after text keeps the text and is marked incomplete, cut before
text falls back or exits 3 — and every limit (first byte, idle, total) fires at its configured figure.
Then the same through the real CLI (in-process, tests/inprocess.py): exit statuses, one-line messages, the
saved session, and API keys.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from llmos.config import load_config
from llmos.errors import NoProviderAvailable, ProviderError
from llmos.llm.messages import ChatRequest, Message
from llmos.llm.router import IncompleteAnswer, Router
from tests.conftest import servers_config, write_user_config
from tests.fault_server import Wire, faulty
from tests.inprocess import Completed
from tests.inprocess import llmos as inprocess
from tests.replay_server import Reply, ReplayServer

WIRES = [Wire("openai"), Wire("anthropic"), Wire("ollama")]
LIMITS = "    timeout: 1\n    idle_timeout: 1\n    total_timeout: 3\n"
OFF = ("  ollama: {enabled: false}\n  claude: {enabled: false}\n  openai: {enabled: false}\n"
       "  embedded: {enabled: false}\n")
KEY = "sk-fault-test-key-0123456789"

# fault -> (complete answer?, text kept before the failure, words the one-line reason must hold)
EXPECTED: dict[str, tuple[bool, str, str]] = {
    "cut_after_text": (False, "Hello, ", "cut off"),
    "cut_before_text": (False, "", "cut off"),
    "ends_early_after_text": (False, "Hello, ", "cut off"),
    "ends_empty": (False, "", "cut off"),
    "invalid_json": (False, "", "not valid JSON"),
    "wrong_typed_delta": (False, "", "malformed"),
    "delta_not_an_object": (False, "", "malformed"),
    "html_page": (False, "", "HTML page"),
    "html_error_502": (False, "", "HTML page"),
    "lone_surrogate": (False, "", "surrogate"),
    "string_token_counts": (False, "Hello, ", "not a token count"),
    "stall_before_headers": (False, "", "no answer within 1s"),
    "stall_before_text": (False, "", "no answer within 1s"),
    "stall_after_text": (False, "Hello, ", "silent for 1s"),
    "keep_alive_trickle": (False, "Hello, ", "silent for 1s"),
}


def expected(wire: Wire, fault: str) -> tuple[bool, str, str]:
    if wire.kind in ("ollama", "anthropic") and fault == "string_token_counts":
        return True, "Hello, ", ""  # these SDKs read "12" as 12 themselves: a usable answer
    if wire.kind == "ollama" and fault == "keep_alive_trickle":
        return False, "Hello, ", "longer than 3s in all"  # empty lines are signs of life: the total limit ends it
    return EXPECTED[fault]


def router_for(home: Path, wire: Wire, url: str) -> Router:
    write_user_config(home, f"providers:\n{OFF}{wire.provider_config('faulty', url, extra=LIMITS)}"
                            "router: {max_retries: 0}\n")
    return Router(load_config())


@pytest.mark.parametrize("fault", list(EXPECTED))
@pytest.mark.parametrize("wire", WIRES, ids=lambda w: w.kind)
def test_fault_is_classified(wire: Wire, fault: str, isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAULT_TEST_KEY", KEY)
    complete, kept, reason = expected(wire, fault)
    shown: list[str] = []
    with ReplayServer() as server:
        server.add("POST", wire.path, faulty(wire, fault))
        router = router_for(isolated_home, wire, server.url)

        async def go():
            try:
                return await router.chat(ChatRequest([Message("user", "hi")]), on_text=shown.append)
            finally:
                await router.aclose()

        started = time.monotonic()
        if complete:
            assert asyncio.run(go()).text == kept
            return
        with pytest.raises((ProviderError, NoProviderAvailable)) as info:
            asyncio.run(go())
        elapsed = time.monotonic() - started
    error = info.value
    assert "".join(shown) == kept
    if kept:  # text reached the person: the same provider's failure is reported, never silently replaced
        assert isinstance(error, IncompleteAnswer) and error.text == kept and "incomplete" in str(error)
    else:
        assert isinstance(error, NoProviderAvailable)
    assert reason in str(error) and "\n" not in str(error)
    assert elapsed < 20  # every stall is 30 s on the server side: the limits (1 s, 3 s) ended it


def llmos(*args: str, env: dict[str, str] | None = None) -> Completed:
    """`llmos ARGS…` in-process (tests/inprocess.py: the same entry point, CLI, router and SDKs), nobody at
    the keyboard. What is tested here is the CLI's handling of a provider's fault, not the interpreter."""
    return inprocess(*args, env=env)


def llmos_process(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """A real process, for `--debug`: its log handler goes on the root logger of the process it runs in."""
    return subprocess.run([sys.executable, "-m", "llmos", *args], capture_output=True, text=True, timeout=90,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)


def one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("llmos:") and "unexpected" not in line]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


@pytest.mark.parametrize("wire", WIRES, ids=lambda w: w.kind)
def test_cut_after_text_through_the_cli_keeps_the_text_and_exits_1(wire: Wire, isolated_home: Path) -> None:
    with ReplayServer() as server:
        server.add("POST", wire.path, faulty(wire, "cut_after_text"))
        write_user_config(isolated_home, f"providers:\n{OFF}{wire.provider_config('faulty', server.url)}"
                                         + servers_config())
        out = llmos("run", "tell me a story", env={"FAULT_TEST_KEY": KEY})
    assert out.returncode == 1
    assert "Hello," in out.stdout
    line = one_line_error(out.stderr)
    assert "cut off" in line and "incomplete" in line
    sessions = list((isolated_home / "data" / "llm-os" / "sessions").glob("*.jsonl"))
    saved = [json.loads(x) for x in sessions[0].read_text(encoding="utf-8").splitlines()]
    assistant = [r for r in saved if r.get("role") == "assistant"]
    assert assistant and assistant[-1]["content"].startswith("Hello,") and "[incomplete:" in assistant[-1]["content"]


def test_cut_before_text_falls_back_to_the_next_provider(isolated_home: Path) -> None:
    wire = Wire("openai")
    with ReplayServer() as bad, ReplayServer() as good:
        bad.add("POST", wire.path, faulty(wire, "cut_before_text"))
        good.add("POST", wire.path, wire.whole("From the second one."))
        write_user_config(isolated_home, f"providers:\n{OFF}{wire.provider_config('first', bad.url)}"
                                         f"{wire.provider_config('second', good.url)}"
                                         "router: {fallback_chain: [first, second], local_first: false}\n")
        out = llmos("run", "--no-tools", "hi", env={"FAULT_TEST_KEY": KEY})
    assert out.returncode == 0, out.stderr
    assert "From the second one." in out.stdout and "fallback after first" in out.stderr


@pytest.mark.parametrize("fault", ["cut_before_text", "invalid_json", "html_page", "stall_before_headers"])
def test_cut_before_text_with_no_fallback_exits_3_in_one_line(fault: str, isolated_home: Path) -> None:
    wire = Wire("openai")
    with ReplayServer() as server:
        server.add("POST", wire.path, faulty(wire, fault))
        write_user_config(isolated_home, f"providers:\n{OFF}{wire.provider_config('faulty', server.url, extra=LIMITS)}"
                                         "router: {max_retries: 0}\n")
        out = llmos("run", "--no-tools", "hi", env={"FAULT_TEST_KEY": KEY})
    assert out.returncode == 3
    assert out.stdout.strip() == ""
    assert "faulty" in one_line_error(out.stderr)


@pytest.mark.parametrize("wire", WIRES, ids=lambda w: w.kind)
def test_a_key_echoed_in_an_error_body_is_never_printed(wire: Wire, isolated_home: Path) -> None:
    secret = "zz-custom-env-secret-0123456789"  # matches no key pattern: only knowing it masks it
    body = json.dumps({"error": {"type": "authentication_error", "message": f"Invalid API key: {secret}"},
                       "type": "error"}).encode()
    with ReplayServer() as server:
        server.add("POST", wire.path, Reply(401, [body]))
        write_user_config(isolated_home, f"providers:\n{OFF}"
                                         f"{wire.provider_config('faulty', server.url, key_env='MY_OWN_LLM_CRED')}")
        plain = llmos("run", "--no-tools", "hi", env={"MY_OWN_LLM_CRED": secret})
        debug = llmos_process("--debug", "run", "--no-tools", "hi", env={"MY_OWN_LLM_CRED": secret})
    assert plain.returncode in (1, 3) and debug.returncode in (1, 3)
    assert "authentication failed" in plain.stderr or "Invalid API key" in plain.stderr
    for out in (plain, debug):
        assert secret not in out.stderr and secret not in out.stdout


def test_a_key_the_model_repeats_is_not_saved_in_the_session(isolated_home: Path) -> None:
    secret = "zz-custom-env-secret-9876543210"
    wire = Wire("openai")
    with ReplayServer() as server:
        server.add("POST", wire.path, wire.whole(f"Your key is {secret}, keep it safe."))
        write_user_config(isolated_home, f"providers:\n{OFF}"
                                         f"{wire.provider_config('faulty', server.url, key_env='MY_OWN_LLM_CRED')}"
                                         + servers_config())
        out = llmos("run", f"remember {secret}", env={"MY_OWN_LLM_CRED": secret})
    assert out.returncode == 0, out.stderr
    files = list((isolated_home / "data").rglob("*.jsonl")) + list((isolated_home / "state").rglob("*"))
    assert files
    for path in files:
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_a_key_in_tool_arguments_is_masked_in_the_audit_log_and_session(isolated_home: Path, tmp_path: Path) -> None:
    from tests.scripted_model import ScriptedModel, openai_text, openai_tool_calls

    secret = "zz-custom-env-secret-5555555555"
    root = tmp_path / "files"
    root.mkdir()
    with ReplayServer() as server:
        model = ScriptedModel(server)
        write_user_config(isolated_home, model.config(servers_config(root)).replace(
            "    models: {default: scripted}\n", "    models: {default: scripted}\n    api_key_env: MY_OWN_LLM_CRED\n"))
        model.say(openai_tool_calls(("search_files", {"path": str(root), "pattern": f"*{secret}*"})),
                  openai_text("Nothing found."))
        out = llmos("run", "find it", env={"MY_OWN_LLM_CRED": secret})
    assert out.returncode == 0, out.stderr
    audit = isolated_home / "state" / "llm-os" / "audit.jsonl"
    assert "search_files" in audit.read_text(encoding="utf-8")  # the call was recorded …
    for path in [audit, *(isolated_home / "data").rglob("*.jsonl")]:
        assert secret.encode() not in path.read_bytes(), path  # … without the key


NON_STREAMED = {  # a non-streamed answer (compaction asks for one): the whole body is the fault
    "html_page": (Reply(chunks=[b"<html><body>Sign in to the Wi-Fi</body></html>"],
                        headers={"content-type": "text/html"}), "HTML page"),
    "invalid_json": (Reply(chunks=[b"{not json"]), "not valid JSON"),
    "wrong_shape": (Reply(chunks=[b'{"choices": "x", "content": 5, "message": 3}']), "malformed"),
    "empty_body": (Reply(chunks=[b""]), "not valid JSON"),
}


@pytest.mark.parametrize("fault", list(NON_STREAMED))
@pytest.mark.parametrize("wire", WIRES, ids=lambda w: w.kind)
def test_non_streamed_fault_is_classified(wire: Wire, fault: str, isolated_home: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAULT_TEST_KEY", KEY)
    reply, reason = NON_STREAMED[fault]
    with ReplayServer() as server:
        server.add("POST", wire.path, reply)
        router = router_for(isolated_home, wire, server.url)

        async def go():
            try:
                return await router.chat(ChatRequest([Message("user", "hi")], stream=False))
            finally:
                await router.aclose()

        with pytest.raises(NoProviderAvailable) as info:
            asyncio.run(go())
    assert reason in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("fault", ["cut_after_text", "ends_early_after_text", "stall_after_text"])
@pytest.mark.parametrize("wire", WIRES, ids=lambda w: w.kind)
def test_json_output_of_a_cut_answer_is_one_object_marked_incomplete(wire: Wire, fault: str,
                                                                    isolated_home: Path) -> None:
    """`llmos run --json` when the stream is cut after some text: still exactly one JSON object on stdout
    (the answer so far, incomplete: true, the reason), exit 1, and the key never in it."""
    with ReplayServer() as server:
        server.add("POST", wire.path, faulty(wire, fault))
        provider = wire.provider_config("faulty", server.url, extra=LIMITS)
        write_user_config(isolated_home, f"providers:\n{OFF}{provider}router: {{max_retries: 0}}\n{servers_config()}")
        out = inprocess("run", "--json", "tell me a story", env={"FAULT_TEST_KEY": KEY})
    assert out.returncode == 1, out.stderr
    [line] = out.stdout.splitlines()
    answer = json.loads(line)
    assert answer["incomplete"] is True and answer["text"] == "Hello, " and answer["provider"] == "faulty"
    assert "incomplete" in answer["reason"] and expected(wire, fault)[2] in answer["reason"]
    assert answer["tool_calls"] == [] and KEY not in out.stdout + out.stderr
    assert "Traceback" not in out.stderr and "unexpected" not in out.stderr


def test_json_output_of_a_cut_answer_keeps_the_calls_made_before(isolated_home: Path, tmp_path: Path) -> None:
    """A tool call ran, then the answer after it was cut: the object lists the call, and says incomplete."""
    from tests.scripted_model import ScriptedModel, openai_tool_calls

    wire = Wire("openai")
    (tmp_path / "notes.txt").write_text("plans\n")
    with ReplayServer() as server:
        model = ScriptedModel(server)
        model.say(openai_tool_calls(("read_file", {"path": str(tmp_path / "notes.txt")})),
                  faulty(wire, "cut_after_text"))
        write_user_config(isolated_home, model.config(servers_config(tmp_path)))
        out = inprocess("run", "--json", "what is in my notes?")
    assert out.returncode == 1, out.stderr
    answer = json.loads(out.stdout)
    assert answer["incomplete"] is True and answer["text"] == "Hello, "
    assert [(c["tool"], c["ok"]) for c in answer["tool_calls"]] == [("filesystem.read_file", True)]
