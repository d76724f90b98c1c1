"""One request in, one answer out — what `llmos run` does."""

from __future__ import annotations

import asyncio
import json
import sys

from llmos.llm.messages import ChatRequest, ChatResult, Message
from llmos.runtime import build_router
from llmos.ui.stream import answer_stream, notice


def ask(text: str, *, provider: str | None = None, model: str | None = None, stream: bool = True,
        json_output: bool = False) -> ChatResult:
    flags = {"router.default_provider": provider, "router.model": model}
    _config, router = build_router(flags)
    request = ChatRequest(messages=[Message("user", text)], stream=stream)

    async def go() -> ChatResult:
        try:
            if json_output:
                return await router.chat(request)
            with answer_stream() as out:
                return await router.chat(request, on_text=out.write)
        finally:
            await router.aclose()

    result = asyncio.run(go())
    if json_output:
        json.dump(result_json(result), sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    elif result.fallback_from:
        notice(f"answered by {result.provider} ({result.model}) — fallback after {', '.join(result.fallback_from)}"
               " failed")
    return result


def result_json(result: ChatResult) -> dict:
    return {
        "text": result.text,
        "provider": result.provider,
        "model": result.model,
        "usage": {"input_tokens": result.usage.input_tokens, "output_tokens": result.usage.output_tokens,
                  "estimated": result.usage.estimated},
        "latency_s": round(result.latency_s, 4),
        "ttft_s": None if result.ttft_s is None else round(result.ttft_s, 4),
        "finish_reason": result.finish_reason,
        "fallback_from": result.fallback_from,
    }
