"""One request in, one answer out — what `llmos run` does, tools included."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

from llmos.errors import ExitStatus, NoProviderAvailable
from llmos.llm.messages import ChatRequest, ChatResult, Message
from llmos.llm.router import IncompleteAnswer, Router
from llmos.runtime import Options, confirmer_for, open_agent, open_router, open_session
from llmos.terminal import Terminal, current
from llmos.ui.stream import answer_stream


def ask(text: str, options: Options, *, tools: bool = True, terminal: Terminal | None = None) -> int:
    """Answer ``text``; return the exit status (4 when an action was refused or skipped)."""
    terminal = terminal or current()
    config, router = open_router(options, terminal)
    if not config.performance.streaming:  # performance.streaming / preferences.always_stream: the default
        options = replace(options, stream=False)
    runs: list = []  # the calls made, kept for an answer that is cut short
    try:
        if not tools:
            result = asyncio.run(_chat_only(router, text, options, terminal))
            _report(terminal, result, options.json, [], False)
            return ExitStatus.OK
        return asyncio.run(_with_tools(config, router, text, options, terminal, runs))
    except IncompleteAnswer as cut:
        if not options.json:
            raise  # the text is on the screen already; entry prints the one-line reason
        # A script reading --json gets one object still: what was answered, marked incomplete, and why.
        _report(terminal, None, True, runs, False, text=cut.text, cut=cut)
        terminal.notice(f"llmos: {cut}")
        return cut.exit_status
    except NoProviderAvailable as exc:  # first run: no local model yet → offer the picker's (ui/first_run.py)
        if not any(p.enabled and p.type == "embedded" for p in config.providers().values()):
            raise  # the engine is turned off: a model for it is no answer
        from llmos.ui.first_run import after_no_provider

        return after_no_provider(exc, interactive=terminal.interactive, err=terminal.stderr)


async def _chat_only(router: Router, text: str, options: Options, terminal: Terminal) -> ChatResult:
    request = ChatRequest(messages=[Message("user", text)], stream=options.stream)
    try:
        if options.json:
            return await router.chat(request)
        with answer_stream(terminal) as out:
            return await router.chat(request, on_text=out.write)
    finally:
        await router.aclose()


class _Collecting:
    """--json's events: nothing shown while it runs; the calls are kept (for an answer cut short)."""

    def __init__(self, runs: list) -> None:
        self.runs = runs

    def on_text(self, text: str) -> None: ...
    def on_tool_start(self, tool: Any, call: Any) -> None: ...
    def on_warning(self, message: str) -> None: ...
    def on_resolution(self, text: str) -> None: ...

    def on_tool_end(self, run: Any) -> None:
        self.runs.append(run)


async def _with_tools(config: Any, router: Router, text: str, options: Options, terminal: Terminal,
                      runs: list) -> int:
    from llmos.ui.activity import CliEvents

    events = _Collecting(runs) if options.json else CliEvents(terminal)
    agent = open_agent(config, router, options, confirmer_for(options, terminal), events)
    session = open_session(config, options.continue_session)
    try:
        await agent.host.ready()
        for name, reason in agent.host.down().items():
            terminal.notice(f"llmos: the {name} server is unavailable: {reason}")
        for warning in agent.host.warnings:
            terminal.notice(f"llmos: {warning}")
        turn = await agent.turn(session, text, provider=options.provider)
    finally:
        if isinstance(events, CliEvents):
            events.close_stream()
        await agent.host.aclose()
        await router.aclose()
    if not options.json and (turn.last is None or (agent.settings.constrained and turn.text)):
        terminal.write(turn.text + "\n")  # answered without streaming (a question back, or constrained mode)
    _report(terminal, turn.last, options.json, turn.runs, turn.step_limit_hit, text=turn.text,
            resolved=turn.resolved)
    status = turn.exit_status
    if status is ExitStatus.REFUSED and not options.json:
        terminal.notice("llmos: an action was not run: it was refused, denied or skipped by --dry-run "
                        "(exit status 4)")
    return status


def _report(terminal: Terminal, result: ChatResult | None, json_output: bool, runs: list, step_limit: bool,
            text: str | None = None, resolved: list[str] | None = None, cut: IncompleteAnswer | None = None) -> None:
    if json_output:
        out = result_json(result) if result else {"text": text, "provider": None, "model": None, "usage": None}
        if cut is not None:
            out.update(provider=cut.provider, incomplete=True, reason=str(cut))
        if text is not None:
            out["text"] = text
        out["tool_calls"] = [{"tool": r.tool.qualified if r.tool else r.call.name, "arguments": r.call.arguments,
                              "decision": r.decision, "by": r.by, "ok": r.ok} for r in runs]
        out["step_limit_hit"] = step_limit
        out["resolved"] = resolved or []
        terminal.write(json.dumps(out, ensure_ascii=False) + "\n")
    elif result is not None and result.fallback_from:
        terminal.notice(f"answered by {result.provider} ({result.model}) — fallback after "
                        f"{', '.join(result.fallback_from)} failed")


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
