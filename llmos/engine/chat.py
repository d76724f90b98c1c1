"""From chat messages to a generation plan, and from generated text back to answer text and tool calls.

Shared by the embedded provider and the test server, so both decode the same way:
- ``text``: a plain answer, streamed as generated.
- ``schema``: the answer held to a JSON schema by a grammar (response_format / agent.constrained), streamed.
- ``tagged`` / ``json``: tools offered, the grammar of toolcalls.py; only a reply's words are streamed.
- ``reply``: tools known but only the reply allowed (after a tool result): plain words, streamed; if the model
  starts to write a call, the reply grammar holds it to a reply (toolcalls.REPLY_TOOL).
- ``native``: tools whose schemas no grammar can express: the model writes freely in its own template's
  format and agent/repair.py reads any call out of the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from llmos.engine import template, toolcalls
from llmos.engine.engine import common_prefix, starts_like_call
from llmos.llm.messages import Message, ToolCall, ToolSpec

if TYPE_CHECKING:
    from llmos.engine.engine import Engine


@dataclass
class ChatPlan:
    prompt: list[int]
    mode: str
    grammar: str | None = None
    stable_prefix: int = 0  # system prompt and tool schemas: the part worth keeping between runs
    tools: list[ToolSpec] = field(default_factory=list)
    lazy_grammar: bool = False  # "reply": plain words unless the answer starts like a call (engine.Generation)


def plan(engine: Engine, messages: list[Message], tools: list[ToolSpec] | None = None,
         json_schema: dict[str, Any] | None = None, constrain_tools: bool = True,
         tool_format: str = "tagged", tool_choice: str | None = None) -> ChatPlan:
    """Raises ValueError for a JSON schema no grammar can express. ``constrain_tools=False`` gives the tools
    to the model's template (if it knows tools) and streams whatever the model writes, as llama-server does.
    ``tool_format``: "tagged" (the template's own tool block; the grammar forces its ``<tool_call>`` block) or
    "json" (tools listed briefly in the system prompt). Measured on Qwen2.5-Coder-0.5B (benchmarks/README.md):
    "json" chose the first tool better (9/10 against 7/10) but after a listing went on to an unrequested
    write, where "tagged" answered; templates without tools always get "json". ``tool_choice``: "none" allows
    only the reply, "auto" any offered call, None the default below (after a tool result, only the reply)."""
    backend = engine.backend
    chat_template = backend.chat_template()
    tools = list(tools or [])
    grammar, mode, render_tools = None, "text", None
    if json_schema is not None:
        grammar, mode = backend.grammar_from_schema(json_schema), "schema"
    elif tools and not constrain_tools:
        render_tools = tools if template.supports_tools(chat_template) else None
    elif tools:
        tagged = tool_format == "tagged" and template.supports_tools(chat_template)
        # By default, after a tool result the grammar allows only the reply. Measured with Qwen2.5-Coder-0.5B:
        # offered the tools again it lists the same folder until the context is full, or goes on to another
        # tool it was not asked for (read a file, delete a folder) instead of saying what it found. llmos's
        # agent decides per step instead (agent/answer_step.py: a lookup made for an action may be followed
        # by the action) and says so with tool_choice.
        reply_only = tool_choice == "none" or (tool_choice is None and messages[-1].role == "tool")
        offered = [] if reply_only else tools
        try:
            grammar = toolcalls.tool_grammar(offered, backend.grammar_from_schema, tagged)
            mode = "tagged" if tagged else "json"
        except ValueError:
            mode = "native"  # the model writes freely; the repair layer reads any call it prints
        # The prompt is the same with or without the grammar, so the evaluated prefix is reused.
        if tagged:
            render_tools = [toolcalls.REPLY_TOOL, *tools]
        else:
            messages = _with_instructions(messages, toolcalls.instructions(tools))
    replayed: list[list[int]] = []
    if mode in ("tagged", "json"):
        messages = [_as_written(engine, m, replayed) for m in messages]
    special = backend.special_text()
    text = template.render(chat_template, messages, render_tools, special)
    prompt: list[int] = []
    for i, segment in enumerate(_SLOT.split(text)):
        if i % 2:
            prompt += replayed[int(segment)]
        elif segment:
            prompt += backend.tokenize(segment, add_bos=not prompt and not (special[0] and text.startswith(special[0])))
    text = _SLOT.sub("", text)
    stable = 0
    system = [m for m in messages[:1] if m.role == "system"]
    if system:
        head = template.render(chat_template, system, render_tools, special, add_generation_prompt=False)
        if text.startswith(head):
            stable = common_prefix(backend.tokenize(head, add_bos=not (special[0] and head.startswith(special[0]))),
                                   prompt)
    if mode in ("tagged", "json") and reply_only:
        # Only the reply is allowed: its words are written freely, and the reply grammar holds the answer
        # only if the model starts to write a call anyway.
        return ChatPlan(prompt, "reply", grammar, stable, tools, lazy_grammar=True)
    return ChatPlan(prompt, mode, grammar, stable, tools)


def written_key(text: str, calls: list[ToolCall]) -> str:
    return "calls:" + ",".join(c.id for c in calls) if calls else "text:" + text


_SLOT = re.compile("\x00(\\d+)\x00")


def _as_written(engine: Engine, message: Message, replayed: list[list[int]]) -> Message:
    """An earlier answer as the model wrote it under the grammar: a slot for its tokens (still in the KV cache)."""
    if message.role != "assistant":
        return message
    tokens = engine.written.get(written_key(message.content, message.tool_calls))
    if tokens is None:
        return message
    replayed.append(tokens)
    return Message("assistant", f"\x00{len(replayed) - 1}\x00")


def _with_instructions(messages: list[Message], text: str) -> list[Message]:
    if messages and messages[0].role == "system":
        return [replace(messages[0], content=f"{messages[0].content}\n\n{text}"), *messages[1:]]
    return [Message("system", text), *messages]


_CALL_STARTS = ("<tool_call>", "{", "[", "```")


class Reader:
    """Feeds on generated pieces; says what to show now, and at the end the answer text and tool calls."""

    def __init__(self, chat_plan: ChatPlan, new_id: Any):
        self.plan = chat_plan
        self._new_id = new_id
        self._parts: list[str] = []
        self._reply = toolcalls.ReplyStream()
        self.raw: str | None = None  # the constrained output, once finished
        self._holding = False  # native: the answer looks like a call, so nothing of it is shown
        self._shown = 0

    def feed(self, piece: str) -> str:
        self._parts.append(piece)
        mode = self.plan.mode
        if mode == "reply":
            start = "".join(self._parts).lstrip()
            if not start:
                return ""
            # the engine's own test: an answer that began like a call was written under the reply grammar
            mode = "tagged" if starts_like_call(start) else "text"
            if mode == "text" and not "".join(self._parts[:-1]).strip():
                piece = start  # the first words, without the whitespace held back before them
        if mode in ("text", "schema"):
            return piece
        if mode in ("tagged", "json"):
            return self._reply.feed(piece)
        return self._native()

    def _native(self) -> str:
        """Words are shown as they come, unless the answer starts like a call written as text."""
        if self._holding:
            return ""
        text = "".join(self._parts)
        start = text.lstrip()
        if start.startswith(_CALL_STARTS) or (len(start) < 12 and any(c.startswith(start) for c in _CALL_STARTS)):
            self._holding = start.startswith(_CALL_STARTS)
            return ""
        shown, self._shown = self._shown, len(text)
        return text[shown:]

    def finish(self) -> tuple[str, list[ToolCall]]:
        raw = "".join(self._parts)
        if self.plan.mode == "reply" and not starts_like_call(raw):
            self.raw = raw  # the tokens as written, so the next prompt shares them
            return raw.strip(), []
        if self.plan.mode in ("text", "schema", "native"):
            # native: calls printed as text are recovered by the agent's repair layer, like any provider's
            return raw, []
        decision = toolcalls.parse(raw, self.plan.tools, self._new_id)
        self.raw = raw
        return decision.text, decision.calls
