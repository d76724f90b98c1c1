"""The tool loop: request → model (with tools) → gate → MCP → results → model … → answer."""

from __future__ import annotations

import asyncio
import getpass
import logging
import os
import platform
import re
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from llmos.agent import (answer_step, decisions, facts, general, grounding, loop_guard, model_view, repair,
                         retrieval)
from llmos.agent.authorize import SKIPPED, Authorizer, Invalid, Outcome, Ran, describe_outcome, exit_status
from llmos.agent.gate import Decision, Gate
from llmos.agent.host import McpHost, ToolInfo
from llmos.errors import ExitStatus
from llmos.conversation.history import RequestTooLarge
from llmos.conversation.session import TOOL_OUTPUT_MARK, ChatSession
from llmos.llm.messages import ChatRequest, ChatResult, Message, ToolCall, ToolSpec
from llmos.llm.router import IncompleteAnswer, Router

log = logging.getLogger(__name__)

# Text that reads like orders to the assistant, inside data that came from a file, page or command.
_INJECTION = re.compile(r"ignore (all |any )?(the )?(previous|prior|above|earlier) (instructions|prompts?)|"
                        r"disregard (all |any )?(the )?(previous|prior|above)|you are now|new instructions|"
                        r"system prompt|do not (tell|inform) the user|as an ai (assistant|model),? you must", re.I)

_CUT_NOTE = "[an earlier result of this request, cut to fit the context: "


@dataclass
class AgentSettings:
    max_steps: int = 8
    tool_prompt_budget: int = 900  # tokens of tool schemas offered to a small-context model
    tool_result_budget: int = 1500  # tokens of one tool result sent back to the model
    offer_all_tools: bool = False  # offer every tool whatever the context
    all_tools_context: int = 64_000  # models with at least this much context see every tool
    constrained: bool = False  # ask for one JSON decision per step instead of native tool calls
    guide_answers: bool = False  # a small model: once results answer the request, the next step answers
    concurrent_tools: int = 4  # performance.concurrent_tools: read-only calls of one step run this many at once
    stream: bool = True
    system_prompt: str | None = None  # a template overriding the built-in one


@dataclass
class ToolRun:
    call: ToolCall
    tool: ToolInfo | None
    decision: str
    by: str
    ok: bool
    text: str
    structured: dict[str, Any] | None = None
    duration_s: float = 0.0
    refused: bool = False  # an action that needed a yes, or was denied or dry-run, did not happen
    outcome: Outcome | None = None

    @property
    def name(self) -> str:
        return self.call.name

    @property
    def read_only(self) -> bool:
        return self.tool is not None and self.tool.read_only


@dataclass
class TurnResult:
    text: str
    runs: list[ToolRun] = field(default_factory=list)
    steps: int = 0
    step_limit_hit: bool = False
    last: ChatResult | None = None
    resolved: list[str] = field(default_factory=list)  # "it → ~/Downloads/ubuntu.iso"

    @property
    def refused(self) -> bool:
        return any(r.refused for r in self.runs)

    @property
    def exit_status(self) -> ExitStatus:
        return exit_status([r.outcome for r in self.runs if r.outcome is not None])


class AgentEvents(Protocol):
    def on_text(self, text: str) -> None: ...
    def on_tool_start(self, tool: ToolInfo | None, call: ToolCall) -> None: ...
    def on_tool_end(self, run: ToolRun) -> None: ...
    def on_warning(self, message: str) -> None: ...
    def on_resolution(self, text: str) -> None: ...


class QuietEvents:
    def on_text(self, text: str) -> None: ...
    def on_tool_start(self, tool: ToolInfo | None, call: ToolCall) -> None: ...
    def on_tool_end(self, run: ToolRun) -> None: ...
    def on_warning(self, message: str) -> None: ...
    def on_resolution(self, text: str) -> None: ...


def system_prompt(template: str | None = None) -> str:
    """The system prompt: the built-in template, or the user's (`agent.system_prompt`: text or a file path)."""
    if template and "\n" not in template and Path(template).expanduser().is_file():
        template = Path(template).expanduser().read_text(encoding="utf-8")
    text = template or resources.files("llmos.data").joinpath("system-prompt.md").read_text(encoding="utf-8")
    now = datetime.now().astimezone()
    # The built-in template names the day, not the minute: the system prompt and the tool schemas after it
    # are the prefix the engine saves between one-shot runs, and a clock in it would change every minute.
    values = {"now": now.strftime("%A %Y-%m-%d %H:%M %Z"), "today": now.strftime("%A %Y-%m-%d (%Z)"),
              "cwd": os.getcwd(),
              "user": getpass.getuser(), "os": f"{platform.system()} {platform.release()}",
              "home": str(Path.home())}
    return text.format_map(_Missing(values))


class _Missing(dict):
    def __missing__(self, key: str) -> str:  # a user template with an unknown {name} keeps it verbatim
        return "{" + key + "}"


class Agent:
    def __init__(self, router: Router, host: McpHost, authorizer: Authorizer,
                 settings: AgentSettings | None = None, events: AgentEvents | None = None):
        self.router, self.host, self.authorizer = router, host, authorizer
        self.settings = settings or AgentSettings()
        self.events = events or QuietEvents()
        self.recent_tools: list[str] = []
        self._referents = ""  # this turn's resolved references, shown with any confirmation
        self._seen: list[Message] = []  # the conversation so far: where an identifier may come from
        self._failures = loop_guard.Failures()

    @property
    def gate(self) -> Gate:
        return self.authorizer.gate

    async def turn(self, session: ChatSession, user_text: str, provider: str | None = None) -> TurnResult:
        """Answer one request, running tools as needed; every message of the turn is added to ``session``."""
        resolutions = session.resolve(user_text)
        session.references.observe_user_text(user_text)
        ambiguous = [r for r in resolutions if r.ambiguous]
        if ambiguous:
            # Guessing which file "it" is, before a delete or a read, is how the wrong file goes: ask instead.
            options = " or ".join(e.value for e in ambiguous[0].referents[:5])
            question = f"Which one do you mean by “{ambiguous[0].expression}”: {options}?"
            session.add(Message("user", user_text))
            session.add(Message("assistant", question))
            return TurnResult(question)
        for r in resolutions:
            if not r.ambiguous:
                self.events.on_resolution(r.describe())
        self._referents = "; ".join(r.describe() for r in resolutions if not r.ambiguous)
        self.authorizer.start_turn(any(m.role == "tool" for m in session.conversation.messages))
        session.add(Message("user", user_text))
        # The picker's survey (GPU probe, Ollama's model list) overlaps the MCP servers' start-up.
        await asyncio.gather(self.host.ready(), self.router.prepare(user_text, provider, tools=True))
        window, _counter = session.context(self.router, user_text, provider)
        # A small context gets few tools: schemas may take at most a quarter of it.
        tool_budget = min(self.settings.tool_prompt_budget, window // 4)
        offer_all = self.settings.offer_all_tools or window >= self.settings.all_tools_context
        # A small model offered tools for "who wrote Romeo and Juliet?" calls one (general.py).
        tools = [] if not offer_all and not resolutions and general.about_the_world(user_text) else \
            retrieval.select(self.host.tools, user_text, tool_budget, self.recent_tools, offer_all)
        by_name = {t.exposed: t for t in tools}
        system = system_prompt(self.settings.system_prompt)
        if self.settings.constrained:
            system += "\n\n" + decisions.instructions(tools)
        block = session.references.block()
        if block:
            system += "\n\n" + block
        tool_tokens = 0 if self.settings.constrained else sum(retrieval.schema_tokens(t) for t in tools)
        result = TurnResult("", resolved=[r.describe() for r in resolutions if not r.ambiguous])
        retried: set[str] = set()
        guard = loop_guard.LoopGuard()  # the same call 3 times in one turn ends the turn
        self._failures = failures = loop_guard.Failures()  # a failed call is not run again
        turn_start = len(session.conversation.messages)
        self._seen = session.conversation.messages
        answer_now, after_result, nudge = False, False, ""
        for step in range(1, self.settings.max_steps + 1):
            result.steps = step
            budget, counter = session.budget(self.router, user_text, provider, system, tool_tokens)
            history = await self._history(session, budget, counter, turn_start)
            if answer_now:  # the results answer the request: this step answers (answer_step.py)
                history = [*history, Message("user", nudge)]  # sent once, not kept in the session
            # Only a small model's steps are steered; others keep the provider's default.
            choice = ("none" if answer_now else "auto" if after_result else None) if self.settings.guide_answers \
                else None
            offered = failures.offered(by_name)
            request = self._request(system, history, [t for t in tools if t.exposed in offered],
                                    session.answer_tokens(window),
                                    "none" if answer_now and self.settings.constrained else choice)
            if step == 1:
                self.router.warm(user_text, provider)
                self.host.connect_deferred()  # servers known from the cache connect while the model thinks
            try:
                chat = await self.router.chat(request, text_for_routing=user_text, provider=provider,
                                              on_text=None if self.settings.constrained else self.events.on_text)
            except IncompleteAnswer as cut:  # keep what was shown, marked, so --continue reads as the person saw it
                session.add(Message("assistant", f"{cut.text.rstrip()} … [incomplete: {cut.detail}]"))
                raise
            session.learn(counter, request.messages, chat, tool_tokens)
            result.last = chat
            text, calls = self._decode(chat, {} if answer_now else {n: by_name[n] for n in offered})
            # Fitted first, so the loop guard sees repeats that differ only in arguments nobody asked for.
            calls = [self._without_unasked(c, by_name, block) for c in calls]
            text, calls = _settle(text, calls, answer_now, guard.repeated(calls), result.runs)
            if not calls:
                if not text.strip():  # say so, rather than print nothing and look broken
                    text = "(The model returned an empty answer. Try rephrasing, or another model.)"
                session.add(Message("assistant", text))
                session.references.observe_assistant_text(text)  # "Firefox uses the most CPU" → "close it"
                result.text = text
                return result
            session.add(Message("assistant", "" if self.settings.constrained else text, tool_calls=calls))
            runs = await self._run_calls(calls, by_name, retried)
            after_result = True
            answer_now = (answer_step.answer_next(runs, user_text, guard.just_repeated) if self.settings.guide_answers
                          else guard.just_repeated and all(run.ok for run in runs))
            nudge = answer_step.nudge(runs, user_text, acted=not all(r.read_only for r in runs))
            for run in runs:
                failures.record(run.call, run.ok, run.text, grounding.UNSEEN in run.text)
                answer_now = answer_now or failures.given_up
                result.runs.append(run)
                if run.tool is not None and run.ok:
                    session.references.observe_tool_call(run.tool.qualified, run.call.arguments,
                                                         facts.path_args(run.tool), facts.url_args(run.tool))
                    session.references.observe_tool_result(run.tool.qualified, run.structured)
                session.add(Message("tool", self._for_model(run), tool_call_id=run.call.id, name=run.call.name,
                                    data=run.structured if run.ok else None))
        result.step_limit_hit = True
        result.text = (f"I stopped after {self.settings.max_steps} steps without finishing "
                       "(agent.max_steps). Tell me how to continue, or ask for something smaller.")
        session.add(Message("assistant", result.text))
        return result

    # ---- one model step ----------------------------------------------------------------------------------

    async def _history(self, session: ChatSession, budget: int, counter: Any, turn_start: int) -> list[Message]:
        """The history that fits; when this request's own tool results outgrow the context, the older ones are
        cut (oldest first, the last step's kept whole) rather than blaming the person's text."""
        while True:
            try:
                return await session.window(self.router, budget, counter)
            except RequestTooLarge:
                if not _cut_oldest_result(session.conversation.messages, turn_start):
                    raise

    def _request(self, system: str, history: list[Message], tools: list[ToolInfo], answer_tokens: int,
                 tool_choice: str | None = None) -> ChatRequest:
        messages = [Message("system", system), *history]
        if self.settings.constrained:
            # The answer step is plain words, not a JSON string: measured, the 0.5B quoting the page ("FAQ")
            # closed the string with its first quote ("The result shows that the web page"). The
            # instructions (and the prefix) stay the same; decisions.decode reads a JSON answer too.
            if tool_choice == "none":
                return ChatRequest(messages, max_tokens=min(decisions.ANSWER_TOKENS, answer_tokens))
            return ChatRequest(messages, json_schema=decisions.decision_schema(tools),
                               max_tokens=min(400, answer_tokens))
        specs = [ToolSpec(t.exposed, t.description, model_view.schema(t.input_schema)) for t in tools]
        return ChatRequest(messages, tools=specs, stream=self.settings.stream, max_tokens=answer_tokens,
                           tool_choice=tool_choice)

    def _decode(self, chat: ChatResult, by_name: dict[str, ToolInfo]) -> tuple[str, list[ToolCall]]:
        if self.settings.constrained:
            return decisions.decode(chat.text, by_name)
        if chat.tool_calls:
            return chat.text, chat.tool_calls
        repaired = repair.calls_from_text(chat.text, {n: t.input_schema for n, t in by_name.items()})
        return ("" if repaired else chat.text), repaired

    def _without_unasked(self, call: ToolCall, by_name: dict[str, ToolInfo], block: str) -> ToolCall:
        """The call without optional arguments nobody asked for (grounding.unasked): the tool's default instead."""
        tool = by_name.get(call.name)
        if tool is None or call.malformed is not None or repair.validation_error(call.arguments, tool.input_schema):
            return call  # invalid arguments go back to the model with the error, as they are
        heard = "\n".join([*grounds(self._seen, system=False), block])
        kept, dropped = grounding.unasked(call.arguments, tool.input_schema, facts.path_args(tool), heard,
                                          (Path.cwd(), Path.home()))
        if not dropped:
            return call
        log.info("%s: left out %s (nothing asked for them)", call.name, ", ".join(dropped))
        return ToolCall(call.id, call.name, kept)

    # ---- running calls -----------------------------------------------------------------------------------

    async def _run_calls(self, calls: list[ToolCall], by_name: dict[str, ToolInfo], retried: set[str]) -> list[ToolRun]:
        # Independent read-only calls may run together; anything that asks or changes things runs in order.
        parallel = self.settings.concurrent_tools > 1 and len(calls) > 1 and all(
            (t := by_name.get(c.name)) is not None and t.read_only
            and self.gate.judge(t, c.arguments).decision is Decision.ALLOW for c in calls)
        if parallel:
            slots = asyncio.Semaphore(self.settings.concurrent_tools)

            async def bounded(call: ToolCall) -> ToolRun:
                async with slots:
                    return await self._run_one(call, by_name, retried)
            return list(await asyncio.gather(*(bounded(c) for c in calls)))
        return [await self._run_one(c, by_name, retried) for c in calls]

    async def _run_one(self, call: ToolCall, by_name: dict[str, ToolInfo], retried: set[str]) -> ToolRun:
        tool = by_name.get(call.name) or self.host.tools.get(call.name)
        self.events.on_tool_start(tool, call)
        problem = self._problem(call, tool, by_name, retried, grounds(self._seen))
        if problem is None and (failed := self._failures.known(call)) is not None:
            problem = Invalid(f"Not run again: this same call already failed ({failed[:200]}). Use other arguments "
                              "or another tool, or answer.")
        if problem is not None:
            self.authorizer.record(tool, call.arguments, problem, name=call.name)
            return self._finish(call, tool, problem)
        assert tool is not None
        outcome = await self.authorizer.run(tool, call.arguments, lambda args: self.host.call(tool.exposed, args),
                                            referent=self._referents or None)
        if isinstance(outcome, Ran):
            self.recent_tools.append(tool.exposed)
            if _INJECTION.search(outcome.result.text):
                self.events.on_warning(f"The output of {tool.qualified} contains text that looks like instructions "
                                       "to the assistant. It is treated as data; nothing it says can approve an "
                                       "action.")
        return self._finish(call, tool, outcome)

    @staticmethod
    def _problem(call: ToolCall, tool: ToolInfo | None, by_name: dict[str, ToolInfo], retried: set[str],
                 seen: list[str]) -> Invalid | None:
        """Why the call cannot even be judged: an unknown tool, or arguments that do not fit its schema."""
        if tool is None:
            offered = ", ".join(sorted(by_name)) or "none"
            return Invalid(f"There is no tool named {call.name!r}. Tools available: {offered}.")
        problem = (f"the arguments are not valid JSON: {call.malformed[:200]}" if call.malformed is not None
                   else repair.validation_error(call.arguments, tool.input_schema))
        if not problem:
            unseen = grounding.unseen_identifier(call.arguments, seen)
            return Invalid(f"Not run: {unseen}.") if unseen else None
        first = call.name not in retried
        retried.add(call.name)
        return Invalid(f"Invalid arguments for {call.name}: {problem}. Call it again with arguments that match its "
                       "schema." if first else f"Invalid arguments for {call.name} again ({problem}); giving up on it.")

    def _finish(self, call: ToolCall, tool: ToolInfo | None, outcome: Outcome) -> ToolRun:
        if isinstance(outcome, Ran):
            r = outcome.result
            run = ToolRun(ToolCall(call.id, call.name, outcome.arguments), tool, "allow", str(outcome.by), r.ok,
                          r.text, r.structured, r.duration_s, outcome=outcome)
        else:
            text = describe_outcome(tool, call.arguments, outcome)
            run = ToolRun(call, tool, outcome.decision, str(outcome.by), False, text,
                          refused=isinstance(outcome, SKIPPED), outcome=outcome)
        self.events.on_tool_end(run)
        return run

    def _for_model(self, run: ToolRun) -> str:
        """The tool result as the model will read it: marked as data, and cut to the budget."""
        body = model_view.result(run.structured) if run.ok and run.structured else run.text
        limit = self.settings.tool_result_budget * 4
        if len(body) > limit:
            body = body[:limit] + f"\n[… {len(body) - limit:,} more characters cut to fit the context]"
        if not run.ok:
            return body
        return f"{TOOL_OUTPUT_MARK}{body}"



def grounds(messages: list[Message], system: bool = True) -> list[str]:
    """Where an identifier may come from: the person's words and tools' results — not errors and refusals,
    which echo the number they refused. Measured: after "Not run: pid 12345 appears nowhere…", the 0.5B's
    next invented call kill_process(pid=12345) counted as grounded by that very message, and ran.
    ``system=False``: not the system prompt either (it names the user and the working directory: an
    optional ``author="root"`` is not asked for by it)."""
    return [m.content for m in messages if m.role == "user" or (system and m.role == "system")
            or (m.role == "tool" and m.content.startswith((TOOL_OUTPUT_MARK, _CUT_NOTE)))]


def _cut_oldest_result(messages: list[Message], turn_start: int) -> bool:
    """Shorten the oldest whole tool result of this turn that is not among the last step's; False if none."""
    last_call = max((i for i in range(turn_start, len(messages)) if messages[i].tool_calls), default=len(messages))
    for i in range(turn_start, last_call):
        m = messages[i]
        if m.role == "tool" and not m.content.startswith(_CUT_NOTE) and len(m.content) > 300:
            messages[i] = Message("tool", f"{_CUT_NOTE}{m.content[:200]} …]", tool_call_id=m.tool_call_id,
                                  name=m.name)
            return True
    return False


def _settle(text: str, calls: list[ToolCall], answer_now: bool, stop: str | None,
            runs: list[Any]) -> tuple[str, list[ToolCall]]:
    """What a step's output comes to: on the answer step no call is run (a provider that ignored tool_choice
    gets the last result's digest as its answer); a call repeated to the loop guard's limit ends the turn and
    says so, counted even on the answer step."""
    if answer_now and (calls or not text.strip()):
        text, calls = (text if text.strip() else answer_step.fallback(runs)), []
    if stop:
        text, calls = (f"{stop}\n\n{text}" if text.strip() else stop), []
    return text, calls
