"""Token counts against real tokenizers and the real llama.cpp server; compaction for real and failing;
saved sessions and --continue; ambiguity and resolution inside the agent."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path

import pytest

from llmos.config import load_config
from llmos.conversation.compact import compact
from llmos.conversation.history import Conversation
from llmos.conversation.tokens import TokenCounter
from llmos.llm.messages import Message
from llmos.llm.router import Router
from tests.conftest import llm_config, two_biggest_listed, write_user_config
from tests.inprocess import Completed
from tests.inprocess import llmos as run_llmos
from tests.llm_server import LLMServer
from tests.replay_server import Reply, ReplayServer
from tests.scripted_model import ScriptedModel, openai_text

CORPUS = [
    "What is eating my disk? Show me the five biggest files in ~/Downloads.",
    "Delete the biggest one and empty the trash afterwards, please.",
    "Commit my changes with the message 'fix the parser for quoted paths'.",
    "Open Firefox and go to https://docs.python.org/3/library/asyncio.html",
    "How much memory is free right now, and which process uses the most CPU?",
    "Summarise the README in ~/projects/llmos and list its open TODO items.",
    "The quick brown fox jumps over the lazy dog while the cat watches from the window sill.",
    "Rename every .jpeg file in ~/Pictures/2024 to use the .jpg extension instead.",
    "Find all PDF files in my Documents folder modified in the last week.",
    "Why does my laptop fan spin up whenever I open a video call in the browser?",
    "Kill the process listening on port 8080 and restart the development server.",
    "Create a new folder called invoices-2026 in ~/Documents and move the March invoices there.",
]


def test_exact_openai_counts_and_the_fallback_error() -> None:
    exact = TokenCounter("gpt-4", "openai")
    assert exact.exact and exact.count("Hello, world!") == 4  # cl100k: [9906, 11, 1917, 0]
    estimate = TokenCounter("some-local-model", "ollama")
    assert not estimate.exact
    errors = [abs(estimate.count(t) - exact.count(t)) / exact.count(t) for t in CORPUS]
    print(f"\nfallback estimate vs cl100k, uncalibrated: mean error {sum(errors) / len(errors):.1%}")
    assert sum(errors) / len(errors) < 0.35


@pytest.mark.llm
def test_calibrated_estimate_against_the_real_llama_cpp_tokenizer(llm: LLMServer) -> None:
    def real_tokens(text: str) -> int:
        body = json.dumps({"content": text}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{llm.port}/tokenize", body,
                                         {"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as r:
            return len(json.loads(r.read())["tokens"])

    real = {t: real_tokens(t) for t in CORPUS}
    counter = TokenCounter("smollm2", "openai-compatible")
    before = [abs(counter.count(t) - real[t]) / real[t] for t in CORPUS[6:]]
    for t in CORPUS[:6]:  # learn from half of the corpus, measure on the other half
        counter.calibrate(t, real[t])
    after = [abs(counter.count(t) - real[t]) / real[t] for t in CORPUS[6:]]
    mean_before, mean_after = sum(before) / len(before), sum(after) / len(after)
    print(f"\nSmolLM2 tokens: estimate error {mean_before:.1%} before calibration, {mean_after:.1%} after")
    assert mean_after <= 0.10


@pytest.mark.llm
def test_compaction_with_the_real_model_fits_the_budget(llm: LLMServer, isolated_home: Path) -> None:
    write_user_config(isolated_home, llm_config(llm))
    router = Router(load_config())
    conversation = Conversation()
    for i in range(8):
        conversation.append(Message("user", f"Please look at ~/project/file{i}.txt and tell me what it says. " * 3))
        conversation.append(Message("assistant", f"file{i}.txt contains notes about topic {i}. " * 4))
    counter = TokenCounter()
    budget = 600
    before = conversation.tokens(counter)

    async def go():
        try:
            return await compact(conversation, router, counter, budget)
        finally:
            await router.aclose()
    compacted = asyncio.run(go())
    assert compacted and conversation.summary
    assert len(conversation.messages) == 4  # the two newest exchanges stay verbatim
    assert conversation.tokens(counter) < before
    kept = conversation.fit(budget, counter)
    assert sum(counter.count_message(m) for m in kept) <= budget
    assert "Summary of the earlier conversation" in kept[0].content


def test_compaction_that_fails_falls_back_to_trimming(isolated_home: Path) -> None:
    with ReplayServer() as server:
        server.add("POST", "/v1/chat/completions", Reply(500, [b'{"error": {"message": "boom"}}']))
        write_user_config(isolated_home, ScriptedModel(server).config("router:\n  max_retries: 0\n"))
        router = Router(load_config())
        conversation = Conversation([m for i in range(10) for m in (Message("user", f"question {i} " * 20),
                                                                    Message("assistant", f"answer {i} " * 20))])
        counter = TokenCounter()

        async def go():
            try:
                return await compact(conversation, router, counter, budget=300)
            finally:
                await router.aclose()
        assert asyncio.run(go()) is False
    assert len(conversation.messages) == 20 and not conversation.summary  # untouched
    kept = conversation.fit(300, counter)  # and trimming still gets the request through
    assert kept[-1].content.startswith("answer 9") and sum(counter.count_message(m) for m in kept) <= 300




def llmos(*args: str) -> Completed:
    return run_llmos(*args)


def test_sessions_are_saved_and_continued_with_references(isolated_home: Path, tmp_path: Path) -> None:
    with two_biggest_listed(isolated_home, tmp_path, openai_text("Which one?")) as (root, model):
        # "delete it" after a list of two files is ambiguous and destructive: llmos asks, no model call needed
        second = llmos("run", "--continue", "--json", "delete it")
        assert second.returncode == 0, second.stderr
        assert "Which one do you mean" in json.loads(second.stdout)["text"]
        assert len(model.requests()) == 2
        third = llmos("run", "--continue", "--json", "delete the biggest one")
        sent = model.requests()[-1]["messages"]
        history = llmos("history", "--json")
    [resolved] = json.loads(third.stdout)["resolved"]
    assert resolved.startswith("the biggest one → ") and resolved.endswith("a.iso")
    assert [m["role"] for m in sent[1:5]] == ["user", "assistant", "tool", "assistant"]  # the saved session
    assert "Recently referenced" in sent[0]["content"] and "a.iso" in sent[0]["content"]
    [session] = json.loads(history.stdout)
    assert session["title"].startswith("what is big in") and session["messages"] >= 8
    assert (root / "a.iso").exists()  # the scripted model never called delete; nothing was guessed


def test_a_torn_session_file_still_loads(isolated_home: Path) -> None:
    from llmos.conversation.store import SessionStore

    store = SessionStore("s1")
    store.append(Message("user", "hi sk-abcdefghijklmnopqrstu"))
    store.append(Message("assistant", "", tool_calls=[__import__("llmos.llm.messages", fromlist=["ToolCall"])
                                                     .ToolCall("c1", "stat", {"path": "/"})]))
    with open(store.path, "a") as f:
        f.write('{"role": "tool", "content": "half')
    messages = SessionStore.load(store.path).messages
    assert [m.role for m in messages] == ["user"]  # the unanswered call is cut, the torn line skipped
    assert "sk-abc" not in store.path.read_text()  # secrets redacted before writing
