"""From chat messages to a generation plan, and from generated text back to answer text and tool calls.

Shared by the embedded provider and the test server, so both decode the same way:
- ``text``: a plain answer, streamed as generated.
- ``schema``: the answer held to a JSON schema by a grammar (response_format / agent.constrained), streamed.
- ``tagged`` / ``json``: tools offered, the grammar of toolcalls.py; only a reply's words are streamed.
- ``native``: tools whose schemas no grammar can express: the model writes freely in its own template's
  format and agent/repair.py reads any call out of the text.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from llmos.engine import template, toolcalls
from llmos.engine.engine import common_prefix
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


def plan(engine: Engine, messages: list[Message], tools: list[ToolSpec] | None = None,
         json_schema: dict[str, Any] | None = None, constrain_tools: bool = True) -> ChatPlan:
    """Raises ValueError for a JSON schema no grammar can express. ``constrain_tools=False`` gives the tools
    to the model's template (if it knows tools) and streams whatever the model writes, as llama-server does."""
    backend = engine.backend
    chat_template = backend.chat_template()
    tools = list(tools or [])
    grammar, mode, render_tools = None, "text", None
    if json_schema is not None:
        grammar, mode = backend.grammar_from_schema(json_schema), "schema"
    elif tools and not constrain_tools:
        render_tools = tools if template.supports_tools(chat_template) else None
    elif tools:
        tagged = template.supports_tools(chat_template)
        try:
            grammar = toolcalls.tool_grammar(tools, backend.grammar_from_schema, tagged)
            mode = "tagged" if tagged else "json"
        except ValueError:
            mode = "native"
        if not tagged:
            messages = _with_instructions(messages, toolcalls.instructions(tools))
        elif tagged:
            render_tools = [*tools, toolcalls.REPLY_TOOL] if mode == "tagged" else tools
    special = backend.special_text()
    text = template.render(chat_template, messages, render_tools, special)
    prompt = backend.tokenize(text, add_bos=not (special[0] and text.startswith(special[0])))
    stable = 0
    system = [m for m in messages[:1] if m.role == "system"]
    if system:
        head = template.render(chat_template, system, render_tools, special, add_generation_prompt=False)
        if text.startswith(head):
            stable = common_prefix(backend.tokenize(head, add_bos=not (special[0] and head.startswith(special[0]))),
                                   prompt)
    return ChatPlan(prompt, mode, grammar, stable, tools)


def _with_instructions(messages: list[Message], text: str) -> list[Message]:
    if messages and messages[0].role == "system":
        return [replace(messages[0], content=f"{messages[0].content}\n\n{text}"), *messages[1:]]
    return [Message("system", text), *messages]


class Reader:
    """Feeds on generated pieces; says what to show now, and at the end the answer text and tool calls."""

    def __init__(self, chat_plan: ChatPlan, new_id: Any):
        self.plan = chat_plan
        self._new_id = new_id
        self._parts: list[str] = []
        self._reply = toolcalls.ReplyStream()

    def feed(self, piece: str) -> str:
        self._parts.append(piece)
        if self.plan.mode in ("text", "schema"):
            return piece
        if self.plan.mode in ("tagged", "json"):
            return self._reply.feed(piece)
        return ""  # native: whether it is a call is known only at the end

    def finish(self) -> tuple[str, list[ToolCall]]:
        raw = "".join(self._parts)
        if self.plan.mode in ("text", "schema", "native"):
            # native: calls printed as text are recovered by the agent's repair layer, like any provider's
            return raw, []
        decision = toolcalls.parse(raw, self.plan.tools, self._new_id)
        return decision.text, decision.calls
