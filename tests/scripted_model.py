"""A scripted model on loopback: replies queued in the OpenAI-compatible or Ollama wire format.

No local model in reach makes tool calls, so the agent's tests script the model's side — the adapters,
host, gate and servers are all real."""

from __future__ import annotations

import json
from typing import Any

from tests.replay_server import Reply, ReplayServer, ndjson, sse

_BASE = {"id": "chatcmpl-s", "object": "chat.completion.chunk", "created": 1, "model": "scripted"}


def _chunk(delta: dict, finish: str | None = None) -> dict:
    return {**_BASE, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def openai_text(text: str) -> Reply:
    return Reply(chunks=sse([_chunk({"role": "assistant", "content": text}), _chunk({}, "stop"),
                             {**_BASE, "choices": [], "usage": {"prompt_tokens": 50, "completion_tokens": 5,
                                                                "total_tokens": 55}}, "[DONE]"]),
                 headers={"content-type": "text/event-stream"})


def openai_tool_calls(*calls: tuple[str, dict[str, Any] | str]) -> Reply:
    """Streamed tool calls, the arguments split in two fragments as real servers do."""
    events: list[Any] = [_chunk({"role": "assistant", "content": None})]
    for index, (name, arguments) in enumerate(calls):
        text = arguments if isinstance(arguments, str) else json.dumps(arguments)
        half = len(text) // 2
        events.append(_chunk({"tool_calls": [{"index": index, "id": f"call_{index}", "type": "function",
                                              "function": {"name": name, "arguments": text[:half]}}]}))
        events.append(_chunk({"tool_calls": [{"index": index, "function": {"arguments": text[half:]}}]}))
    events += [_chunk({}, "tool_calls"), "[DONE]"]
    return Reply(chunks=sse(events), headers={"content-type": "text/event-stream"})


def ollama_tool_call(name: str, arguments: dict[str, Any]) -> Reply:
    return Reply(chunks=ndjson([
        {"model": "scripted", "created_at": "2026-11-22T00:00:00Z", "message": {
            "role": "assistant", "content": "", "tool_calls": [{"function": {"name": name, "arguments": arguments}}]},
         "done": False},
        {"model": "scripted", "created_at": "2026-11-22T00:00:01Z", "message": {"role": "assistant", "content": ""},
         "done": True, "done_reason": "stop", "prompt_eval_count": 80, "eval_count": 12}]),
        headers={"content-type": "application/x-ndjson"})


def ollama_text(text: str) -> Reply:
    return Reply(chunks=ndjson([
        {"model": "scripted", "created_at": "2026-11-22T00:00:00Z", "message": {"role": "assistant", "content": text},
         "done": False},
        {"model": "scripted", "created_at": "2026-11-22T00:00:01Z", "message": {"role": "assistant", "content": ""},
         "done": True, "done_reason": "stop", "prompt_eval_count": 90, "eval_count": 6}]),
        headers={"content-type": "application/x-ndjson"})


class ScriptedModel:
    """Queue replies with ``say``; the last one repeats when the script runs out."""

    def __init__(self, server: ReplayServer, wire: str = "openai"):
        self.server = server
        self.wire = wire
        self.path = "/v1/chat/completions" if wire == "openai" else "/api/chat"

    def say(self, *replies: Reply) -> None:
        for reply in replies:
            self.server.add("POST", self.path, reply)

    def requests(self) -> list[dict[str, Any]]:
        return [r.json() for r in self.server.requests if r.path == self.path]

    def config(self, extra: str = "") -> str:
        kind, url = (("openai-compatible", self.server.url + "/v1") if self.wire == "openai"
                     else ("ollama", self.server.url))
        return (f"providers:\n  ollama: {{enabled: false}}\n  embedded: {{enabled: false}}\n"
                f"  claude: {{enabled: false}}\n  openai: {{enabled: false}}\n"
                f"  scripted:\n    type: {kind}\n    base_url: {url}\n"
                f"    models: {{default: scripted}}\n{extra}")
