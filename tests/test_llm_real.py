"""The OpenAI-compatible adapter and the router against the real llama.cpp server (SmolLM2-135M).

The model's words change run to run: these tests assert on shape, streaming, usage and behaviour.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from llmos.config import load_config
from llmos.config.model import ProviderConfig
from llmos.errors import ErrorKind, ProviderError
from llmos.llm.messages import ChatRequest, Done, Message, TextDelta
from llmos.llm.providers.openai_chat import OpenAIChatProvider
from llmos.llm.router import Router
from llmos.usage.store import UsageStore
from tests.conftest import cancel_mid_answer_then_ask_again, llm_config, write_user_config
from tests.llm_server import MODEL_ALIAS, LLMServer, free_port

pytestmark = pytest.mark.llm


def adapter(llm: LLMServer, **kw) -> OpenAIChatProvider:
    return OpenAIChatProvider("local", ProviderConfig(name="local", type="openai-compatible",
                                                      base_url=llm.base_url, **kw))


async def events_of(p: OpenAIChatProvider, request: ChatRequest) -> list:
    try:
        return [e async for e in p.chat(request)]
    finally:
        await p.aclose()


def test_streaming_chat_yields_deltas_then_real_usage(llm: LLMServer) -> None:
    request = ChatRequest([Message("user", "Name three colours.")], model=MODEL_ALIAS, max_tokens=24)
    events = asyncio.run(events_of(adapter(llm), request))
    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert len(deltas) > 1, "a streamed answer arrives in several pieces"
    done = events[-1]
    assert isinstance(done, Done) and not done.usage.estimated
    assert done.usage.input_tokens > 5 and 0 < done.usage.output_tokens <= 24


def test_non_streaming_chat_returns_whole_answer(llm: LLMServer) -> None:
    request = ChatRequest([Message("system", "You are terse."), Message("user", "Say hello.")], model=MODEL_ALIAS,
                          max_tokens=16, stream=False)
    events = asyncio.run(events_of(adapter(llm), request))
    assert sum(isinstance(e, TextDelta) for e in events) == 1
    assert events[-1].usage.output_tokens > 0 and not events[-1].usage.estimated


def test_served_models_are_listed(llm: LLMServer) -> None:
    async def go():
        p = adapter(llm)
        try:
            return await p.list_models()
        finally:
            await p.aclose()
    assert MODEL_ALIAS in asyncio.run(go())


def test_prompt_larger_than_the_context_is_reported_as_too_long(llm: LLMServer) -> None:
    huge = "word " * 6000  # the server runs with -c 4096 (2 slots)
    with pytest.raises(ProviderError) as err:
        asyncio.run(events_of(adapter(llm), ChatRequest([Message("user", huge)], model=MODEL_ALIAS, max_tokens=4)))
    assert err.value.kind is ErrorKind.CONTEXT_TOO_LONG, err.value.detail


def test_json_schema_constrains_the_answer(llm: LLMServer) -> None:
    import json

    schema = {"type": "object", "properties": {"tool": {"type": "string", "enum": ["list_directory", "disk_usage"]}},
              "required": ["tool"], "additionalProperties": False}
    request = ChatRequest([Message("user", "Which tool shows disk usage? Answer in JSON.")], model=MODEL_ALIAS,
                          max_tokens=40, json_schema=schema)
    events = asyncio.run(events_of(adapter(llm), request))
    answer = json.loads("".join(e.text for e in events if isinstance(e, TextDelta)))
    assert answer["tool"] in ("list_directory", "disk_usage")


def test_cancelling_mid_stream_stops_and_the_server_keeps_serving(llm: LLMServer, isolated_home: Path) -> None:
    write_user_config(isolated_home, llm_config(llm))
    store = UsageStore(isolated_home / "usage.db")
    after = cancel_mid_answer_then_ask_again(Router(load_config(), store), first_text_within_s=60)
    assert after.text and after.provider == "local"
    kinds = [r.error_kind for r in store.records()]
    assert kinds == ["CANCELLED", None]


def test_fallback_from_a_closed_port_to_the_real_server(llm: LLMServer, isolated_home: Path) -> None:
    dead = f"  dead:\n    type: openai-compatible\n    base_url: http://127.0.0.1:{free_port()}/v1\n" \
           f"    models: {{default: x}}\n"
    write_user_config(isolated_home, llm_config(llm, extra="") .replace("  local:\n", dead + "  local:\n"))
    store = UsageStore(isolated_home / "usage.db")
    router = Router(load_config(), store)

    async def go():
        try:
            return await router.chat(ChatRequest([Message("user", "Hi!")], max_tokens=12))
        finally:
            await router.aclose()

    result = asyncio.run(go())
    assert result.provider == "local" and result.model == MODEL_ALIAS and result.fallback_from == ["dead"]
    assert result.text and result.ttft_s is not None and result.ttft_s <= result.latency_s
    assert [(r.provider, r.success) for r in store.records()] == [("dead", False), ("local", True)]


def test_tool_loop_in_constrained_json_mode_with_the_real_model(llm: LLMServer, isolated_home: Path,
                                                                tmp_path: Path) -> None:
    """SmolLM2 chooses poorly, but every call it makes must be well-formed, gated, and run or refused."""
    import json
    import os
    import subprocess
    import sys

    root = tmp_path / "work"
    root.mkdir()
    (root / "report.txt").write_text("quarterly numbers\n")
    servers = "servers:\n  git: {enabled: false}\n  system: {enabled: false}\n  apps: {enabled: false}\n" \
              f"  browser: {{enabled: false}}\n  filesystem:\n    roots: [{root}]\n"
    write_user_config(isolated_home, llm_config(llm, extra=servers + "agent:\n  constrained: true\n  max_steps: 3\n"))
    out = subprocess.run([sys.executable, "-m", "llmos", "run", "--json", f"List the files in {root}"],
                         capture_output=True, text=True, timeout=300, env=dict(os.environ), stdin=subprocess.DEVNULL)
    assert out.returncode in (0, 4), out.stderr  # 4: it picked something destructive and it was refused
    result = json.loads(out.stdout)
    assert result["provider"] == "local" and result["model"] == MODEL_ALIAS
    audit = isolated_home / "state" / "llm-os" / "audit.jsonl"
    records = [json.loads(line) for line in audit.read_text().splitlines()] if audit.exists() else []
    assert len(records) == len(result["tool_calls"])
    for call, record in zip(result["tool_calls"], records, strict=False):
        assert call["tool"].startswith("filesystem.")  # the schema's enum held it to offered tools
        assert call["decision"] in ("allow", "refused") and record["decision"] == call["decision"]
        if call["decision"] == "refused":
            assert not call["ok"]
    assert result["text"] or result["step_limit_hit"]
    assert (root / "report.txt").exists()  # nothing destructive ran without a yes
