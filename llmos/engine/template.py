"""Prompts in the model's own format: the Jinja chat template stored in the GGUF, rendered in a sandbox.

The template sees what Hugging Face's ``apply_chat_template`` gives it (messages, tools, bos/eos tokens,
add_generation_prompt). A model without a template, or one whose template fails, gets ChatML, which most
small instruct models were trained on.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from typing import Any

from llmos.llm.messages import Message, ToolSpec

CHATML = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + "
          "'<|im_end|>\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")


class TemplateError(Exception):
    pass


def supports_tools(template: str) -> bool:
    """The template writes the tool schemas itself (Qwen 2.5, Llama 3.1+, Hermes…)."""
    return "tools" in template and "tool_call" in template


def wire_messages(messages: list[Message]) -> list[dict[str, Any]]:
    """Messages in the dict shape chat templates expect (OpenAI's, with arguments as objects)."""
    out: list[dict[str, Any]] = []
    for m in messages:
        item: dict[str, Any] = {"role": m.role, "content": m.content or ""}
        if m.tool_calls:
            item["tool_calls"] = [{"id": c.id, "type": "function",
                                   "function": {"name": c.name, "arguments": c.arguments}} for c in m.tool_calls]
        if m.role == "tool":
            item["tool_call_id"] = m.tool_call_id
            item["name"] = m.name or ""
        out.append(item)
    return out


def wire_tools(tools: list[ToolSpec]) -> list[dict[str, Any]]:
    return [{"type": "function", "function": {"name": t.name, "description": t.description,
                                              "parameters": t.input_schema}} for t in tools]


def render(template: str, messages: list[Message], tools: list[ToolSpec] | None = None,
           special: tuple[str, str] = ("", ""), add_generation_prompt: bool = True) -> str:
    compiled = _compile(template or CHATML)
    values = {"messages": wire_messages(messages), "bos_token": special[0], "eos_token": special[1],
              "add_generation_prompt": add_generation_prompt}
    if tools:
        values["tools"] = wire_tools(tools)
    try:
        return str(compiled.render(**values))
    except Exception as exc:  # the template raised (e.g. "system role not supported") or broke
        if template and template != CHATML:
            return render(CHATML, messages, tools, special, add_generation_prompt)
        raise TemplateError(f"the chat template failed: {exc}") from exc


@lru_cache(maxsize=8)
def _compile(template: str) -> Any:
    env = _environment()
    try:
        return env.from_string(template)
    except Exception:  # a syntax this Jinja does not know
        return env.from_string(CHATML)


def _environment() -> Any:
    try:  # cyllama ships a sandboxed Jinja; plain jinja2 serves another backend
        from cyllama._vendor.jinja2 import ext
        from cyllama._vendor.jinja2.exceptions import TemplateError as JinjaError
        from cyllama._vendor.jinja2.sandbox import ImmutableSandboxedEnvironment
    except ImportError:
        from jinja2 import ext  # type: ignore[no-redef]
        from jinja2.exceptions import TemplateError as JinjaError  # type: ignore[no-redef]
        from jinja2.sandbox import ImmutableSandboxedEnvironment  # type: ignore[no-redef]

    def raise_exception(message: str) -> str:
        raise JinjaError(message)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[ext.loopcontrols])
    env.filters["tojson"] = lambda value, indent=None, **_kw: json.dumps(value, ensure_ascii=False, indent=indent)
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    return env
