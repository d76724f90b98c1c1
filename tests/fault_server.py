"""Faulty provider streams, in each adapter's wire format, served by the loopback ReplayServer.

`Wire(kind)` builds the same answer as OpenAI SSE, Anthropic named SSE or Ollama NDJSON; `faulty(kind, fault)`
turns it into a reply that is cut, garbled or stalled in one particular way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.replay_server import Reply, ndjson, sse

SSE = {"content-type": "text/event-stream"}
NDJSON = {"content-type": "application/x-ndjson"}
_OPENAI = {"id": "chatcmpl-f", "object": "chat.completion.chunk", "created": 1, "model": "m"}


@dataclass(frozen=True)
class Wire:
    kind: str  # openai | anthropic | ollama

    @property
    def path(self) -> str:
        return {"openai": "/v1/chat/completions", "anthropic": "/v1/messages", "ollama": "/api/chat"}[self.kind]

    @property
    def headers(self) -> dict[str, str]:
        return NDJSON if self.kind == "ollama" else SSE

    def provider_config(self, name: str, url: str, key_env: str = "FAULT_TEST_KEY", extra: str = "") -> str:
        kind = {"openai": "openai-compatible", "anthropic": "anthropic", "ollama": "ollama"}[self.kind]
        base = url + "/v1" if self.kind == "openai" else url
        return (f"  {name}:\n    type: {kind}\n    base_url: {base}\n    api_key_env: {key_env}\n"
                f"    models: {{default: m}}\n{extra}")

    def head(self) -> list[bytes]:
        """What comes before any text."""
        if self.kind == "openai":
            return sse([{**_OPENAI, "choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]}])
        if self.kind == "anthropic":
            return sse([{"type": "message_start", "message": {
                "id": "msg_f", "type": "message", "role": "assistant", "model": "m", "content": [],
                "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 1}}},
                {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}],
                named=True)
        return []

    def text(self, piece: Any) -> bytes:
        """One piece of text (``piece`` may be of the wrong type, on purpose)."""
        if self.kind == "openai":
            return sse([{**_OPENAI, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}])[0]
        if self.kind == "anthropic":
            return sse([{"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}}],
                       named=True)[0]
        return ndjson([{"model": "m", "created_at": "2026-12-01T00:00:00Z",
                        "message": {"role": "assistant", "content": piece}, "done": False}])[0]

    def tail(self, prompt_tokens: Any = 10, output_tokens: Any = 3) -> list[bytes]:
        """What ends a complete answer (with its token counts, which may be of the wrong type)."""
        if self.kind == "openai":
            return sse([{**_OPENAI, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
                        {**_OPENAI, "choices": [], "usage": {"prompt_tokens": prompt_tokens,
                                                             "completion_tokens": output_tokens}}, "[DONE]"])
        if self.kind == "anthropic":
            return sse([{"type": "content_block_stop", "index": 0},
                        {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                         "usage": {"output_tokens": output_tokens}},
                        {"type": "message_stop"}], named=True)
        return ndjson([{"model": "m", "created_at": "2026-12-01T00:00:01Z",
                        "message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop",
                        "prompt_eval_count": prompt_tokens, "eval_count": output_tokens}])

    def whole(self, text: str) -> Reply:
        return Reply(chunks=[*self.head(), self.text(text), *self.tail()], headers=self.headers)

    def garbage_line(self, payload: str) -> bytes:
        if self.kind == "ollama":
            return payload.encode() + b"\n"
        if self.kind == "anthropic":
            return f"event: content_block_delta\ndata: {payload}\n\n".encode()
        return f"data: {payload}\n\n".encode()

    def keep_alive(self) -> bytes:
        """What a server sends to keep a connection open without saying anything."""
        if self.kind == "ollama":  # an empty, not-done line: a model "thinking" forever
            return ndjson([{"model": "m", "created_at": "2026-12-01T00:00:00Z",
                            "message": {"role": "assistant", "content": ""}, "done": False}])[0]
        return b": keep-alive\n\n"


def lone_surrogate(wire: Wire) -> bytes:
    """A text piece holding an unpaired surrogate, escaped as JSON allows but Unicode does not."""
    return wire.text("a\udc00b")  # json.dumps escapes it as \udc00, which every JSON parser decodes


def faulty(wire: Wire, fault: str) -> Reply:
    """The reply for one named fault."""
    h = wire.headers
    hello = [*wire.head(), wire.text("Hello, ")]
    replies = {
        "cut_after_text": Reply(chunks=hello, headers=h, cut=True),
        "cut_before_text": Reply(chunks=wire.head(), headers=h, cut=True),
        "ends_early_after_text": Reply(chunks=hello, headers=h),
        "ends_empty": Reply(chunks=[], headers=h),
        "invalid_json": Reply(chunks=[*wire.head(), wire.garbage_line("{not json")], headers=h),
        "wrong_typed_delta": Reply(chunks=[*wire.head(), wire.text(5), *wire.tail()], headers=h),
        "delta_not_an_object": Reply(chunks=[*wire.head(), wire.garbage_line(_not_an_object(wire)), *wire.tail()],
                                     headers=h),
        "html_page": Reply(chunks=[b"<!DOCTYPE html><html><body><h1>Sign in to the Wi-Fi</h1></body></html>"],
                           headers={"content-type": "text/html"}),
        "html_error_502": Reply(502, [b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"],
                                headers={"content-type": "text/html"}),
        "lone_surrogate": Reply(chunks=[*wire.head(), lone_surrogate(wire), *wire.tail()], headers=h),
        "string_token_counts": Reply(chunks=[*hello, *wire.tail("12", "3")], headers=h),
        "stall_before_headers": Reply(chunks=[*hello, *wire.tail()], headers=h, before_headers_s=30),
        "stall_before_text": Reply(chunks=wire.head(), headers=h, stall_s=30),
        "stall_after_text": Reply(chunks=hello, headers=h, stall_s=30),
        "keep_alive_trickle": Reply(chunks=hello, headers=h, stall_s=30, trickle=wire.keep_alive(),
                                    trickle_every_s=0.2),
    }
    return replies[fault]


def _not_an_object(wire: Wire) -> str:
    if wire.kind == "openai":
        return json.dumps({**_OPENAI, "choices": [{"index": 0, "delta": "Hello", "finish_reason": None}]})
    if wire.kind == "anthropic":
        return json.dumps({"type": "content_block_delta", "index": 0, "delta": "Hello"})
    return json.dumps({"model": "m", "created_at": "2026-12-01T00:00:00Z", "message": "Hello", "done": False})
