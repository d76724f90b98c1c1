"""The one internal format every provider adapter converts to and from.

Tool schemas use MCP's shape (name, description, input_schema) so MCP tools pass straight through.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    input_schema: dict[str, Any]


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]
    malformed: str | None = None  # the raw argument text when it was not a JSON object


@dataclass
class Message:
    role: Role
    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None  # set on role="tool": the call this result answers
    name: str | None = None  # tool name on role="tool" (Ollama wants it)
    # role="tool": the structured result the content was written from (references read it; providers do not)
    data: dict[str, Any] | None = None


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    estimated: bool = False  # True when the provider did not report usage and we counted ourselves


@dataclass
class ChatRequest:
    messages: list[Message]
    model: str = ""  # empty: the router fills in the provider's model for the task tier
    tools: list[ToolSpec] = field(default_factory=list)
    stream: bool = True
    max_tokens: int | None = None
    temperature: float | None = None
    json_schema: dict[str, Any] | None = None  # constrain the answer to this schema where supported
    num_ctx: int | None = None  # context window to request (Ollama); the conversation budget
    # "none": the tools stay in the prompt (its evaluated prefix is reused) but this answer may not call one;
    # "auto": calls allowed; None: the provider's own default
    tool_choice: str | None = None


# Stream events: an adapter yields these, in order, ending with exactly one Done.


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ToolCallEvent:
    call: ToolCall  # complete: adapters accumulate streamed argument deltas before emitting


@dataclass(frozen=True)
class Done:
    usage: Usage
    finish_reason: str = "stop"


StreamEvent = TextDelta | ToolCallEvent | Done


@dataclass
class ChatResult:
    text: str
    tool_calls: list[ToolCall]
    usage: Usage
    provider: str
    model: str
    latency_s: float
    ttft_s: float | None
    finish_reason: str = "stop"
    fallback_from: list[str] = field(default_factory=list)  # providers that failed before this one served


def new_call_id() -> str:
    """An id for a tool call the model did not give one (calls recovered from text, engine calls)."""
    import uuid

    return f"call_{uuid.uuid4().hex[:12]}"
