"""One request in, one answer out — what `llmos run` does, tools included."""

from __future__ import annotations

import asyncio
import json
import sys

from llmos.errors import ExitStatus
from llmos.llm.messages import ChatRequest, ChatResult, Message
from llmos.runtime import build_router
from llmos.ui.stream import answer_stream, notice


def ask(text: str, *, provider: str | None = None, model: str | None = None, stream: bool = True,
        json_output: bool = False, tools: bool = True, yes: bool = False, allow: list[str] | None = None,
        dry_run: bool = False, continue_session: str | None = None) -> int:
    """Answer ``text``; return the exit status (4 when an action was refused)."""
    config, router = build_router({"router.default_provider": provider, "router.model": model})
    if not tools:
        result = asyncio.run(_chat_only(router, text, stream and config.performance.streaming, json_output))
        _report(result, json_output, [], False)
        return ExitStatus.OK
    return asyncio.run(_with_tools(config, router, text, provider, json_output, yes, allow or [], dry_run, stream,
                                   continue_session))


async def _chat_only(router, text: str, stream: bool, json_output: bool) -> ChatResult:
    request = ChatRequest(messages=[Message("user", text)], stream=stream)
    try:
        if json_output:
            return await router.chat(request)
        with answer_stream() as out:
            return await router.chat(request, on_text=out.write)
    finally:
        await router.aclose()


async def _with_tools(config, router, text: str, provider: str | None, json_output: bool, yes: bool,
                      allow: list[str], dry_run: bool, stream: bool, continue_session: str | None) -> int:
    from llmos.agent.confirm import NonInteractive, PreApproved, TerminalConfirmer
    from llmos.agent.setup import build_agent
    from llmos.agent.loop import QuietEvents
    from llmos.ui.activity import CliEvents

    interactive = sys.stdin.isatty() and sys.stderr.isatty()
    confirmer = PreApproved(TerminalConfirmer() if interactive else NonInteractive(), yes=yes, allowed=set(allow))
    events = QuietEvents() if json_output else CliEvents()
    agent = build_agent(config, router, confirmer, events, dry_run=dry_run, stream=stream)
    session = open_session(config, continue_session)
    try:
        # The picker's survey (GPU probe, Ollama's model list) overlaps the MCP servers' start-up.
        await asyncio.gather(agent.host.ready(), router.prepare(text, provider, tools=True))
        for name, reason in agent.host.down().items():
            notice(f"llmos: the {name} server is unavailable: {reason}")
        turn = await agent.turn(session, text, provider=provider)
    finally:
        if isinstance(events, CliEvents):
            events.close_stream()
        await agent.host.aclose()
        await router.aclose()
    if turn.last is None and not json_output:
        print(turn.text)  # answered without a model call (e.g. asking which file "it" means)
    elif agent.settings.constrained and not json_output and turn.text:
        print(turn.text)
    _report(turn.last, json_output, turn.runs, turn.step_limit_hit, text=turn.text, resolved=turn.resolved)
    if turn.refused:
        if not json_output:
            notice("llmos: an action was not run because it was refused (exit status 4)")
        return ExitStatus.REFUSED
    return ExitStatus.OK


def open_session(config, continue_session: str | None):
    """A new saved session, or (``--continue``) the newest one / the one whose id starts with the value."""
    from llmos.conversation.session import ChatSession
    from llmos.conversation.store import SessionStore, find_session

    reserve = config.get("context.reserve_tokens", 1024)
    if continue_session is None:
        return ChatSession(store=SessionStore(), reserve_tokens=reserve)
    info = find_session(continue_session or None)
    session = ChatSession.resume(SessionStore(info.id))
    session.reserve_tokens = reserve
    return session


def _report(result: ChatResult | None, json_output: bool, runs: list, step_limit: bool,
            text: str | None = None, resolved: list[str] | None = None) -> None:
    if json_output:
        out = result_json(result) if result else {"text": text, "provider": None, "model": None, "usage": None}
        if text is not None:
            out["text"] = text
        out["tool_calls"] = [{"tool": r.tool.qualified if r.tool else r.call.name, "arguments": r.call.arguments,
                              "decision": r.decision, "by": r.by, "ok": r.ok} for r in runs]
        out["step_limit_hit"] = step_limit
        out["resolved"] = resolved or []
        json.dump(out, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    elif result is not None and result.fallback_from:
        notice(f"answered by {result.provider} ({result.model}) — fallback after {', '.join(result.fallback_from)}"
               " failed")


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
