"""Tool calls in the markup model families print: <tool_call> (Hermes/Qwen, GLM), <function=…> (qwen3-coder),
[TOOL_CALLS] (Mistral), <|python_tag|> (Llama 3), <|tool_call>call:…{} (Gemma), DeepSeek's and Kimi's
special tokens, gpt-oss's "to=functions.x" headers.

Each reader returns None when its markers are absent, else the calls it could read (maybe none): when a
family's markers are present, that family's reading is the answer, so a truncated call is not rescued by
some looser reading of the same text. Values are scanned string-aware, so markers quoted inside an
argument ("use <tool_call> tags") do not end a call early.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from llmos.agent.repair import gemma, lenient
from llmos.agent.repair.objects import RawCall, calls_from_value
from llmos.agent.repair.pyform import calls_from_code

Reader = Callable[[str], "list[RawCall] | None"]


def json_calls(body: str, shape: str, at_end: bool) -> list[RawCall]:
    """Calls from the JSON values in a tagged body; a body cut off at the end of the output yields none."""
    calls: list[RawCall] = []
    for value, repaired, _span in lenient.values_in(body, stop_at_end=True):
        calls += calls_from_value(value, shape, repaired)
    if not calls and not at_end:
        parsed = lenient.loads(body)  # a slip inside a closed tag: {"a": 1</tool_call>
        if parsed is not None:
            calls = calls_from_value(parsed[0], shape, True)
    return calls


def _json_object(text: str) -> dict[str, Any] | None:
    """``text`` as a strict JSON object, or None (not JSON, or JSON of another kind)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


# ---- <tool_call> … </tool_call> (Hermes, Qwen 2.5/3, GLM bodies, qwen3-coder bodies) ------------------------

_HERMES_OPEN, _HERMES_CLOSE = "<tool_call>", "</tool_call>"


def hermes(text: str) -> list[RawCall] | None:
    if _HERMES_OPEN not in text:
        return None
    pos = text.find(_HERMES_OPEN)
    calls = qwen_xml(text[:pos], closed=True) or []  # qwen3-coder may drop the first opener
    while pos >= 0:
        body_start = pos + len(_HERMES_OPEN)
        lead = len(text[body_start:]) - len(text[body_start:].lstrip())
        first = body_start + lead
        if text[first:first + 1] in ("{", "["):
            span = lenient.scan(text, first)
            close = text.find(_HERMES_CLOSE, span.end if span.closed else first)
            end = close if close >= 0 else len(text)
            calls += json_calls(text[first:end], "hermes", at_end=close < 0)
        else:
            close = _body_close(text, first)
            end = close if close >= 0 else len(text)
            calls += _non_json_body(text[first:end], at_end=close < 0)
        if close < 0:
            break
        pos = text.find(_HERMES_OPEN, close)
    return calls


def _body_close(text: str, start: int) -> int:
    """The </tool_call> that ends a non-JSON body: one not quoted inside a <parameter>/<arg_value> value."""
    for match in re.finditer(re.escape(_HERMES_CLOSE), text[start:]):
        end = start + match.end()
        following = text[end:]
        next_call = following.find(_HERMES_OPEN)
        segment = following if next_call < 0 else following[:next_call]
        if "</parameter>" not in segment and "</arg_value>" not in segment:
            return start + match.start()
    return -1


def _non_json_body(body: str, at_end: bool) -> list[RawCall]:
    if "<function=" in body:
        return qwen_xml(body, closed=not at_end) or []
    if body.lstrip().startswith("call:"):
        return gemma.calls(body, "gemma") or []
    glm_calls = glm(body, at_end)
    if glm_calls is not None:
        return glm_calls
    return calls_from_code(body, "hermes") or []


# ---- GLM: <tool_call>name<arg_key>k</arg_key><arg_value>v</arg_value></tool_call> -------------------------

_GLM_NAME = re.compile(r"\s*([\w.\-]+)\s*(?=<arg_key>|$)")
_GLM_PAIR = re.compile(r"<arg_key>(.*?)</arg_key>\s*<arg_value>(.*?)"
                       r"(?:</arg_value>\s*(?=<arg_key>|$)|(?=<arg_key>[^<]*</arg_key>)|$)", re.S)


def glm(body: str, at_end: bool) -> list[RawCall] | None:
    name = _GLM_NAME.match(body)
    if name is None:
        return None
    if at_end:
        return []  # never closed: cut off by the token limit
    arguments = {m.group(1).strip(): m.group(2) for m in _GLM_PAIR.finditer(body, name.end())}
    return [RawCall(name.group(1), arguments, "glm", textual=True)]


# ---- qwen3-coder: <function=name><parameter=key>value</parameter></function> -------------------------------

_FUNCTION = re.compile(r"<function=([^>\s]+)>(.*?)(?:</function>\s*(?=</tool_call>|<tool_call>|<function=|$)|$)",
                       re.S)
# A value ends at </parameter> before the next parameter or the end of the call, or (close tag forgotten)
# before a parameter or </function> on a line of its own; tags quoted inside a value stay in the value.
_PARAMETER = re.compile(r"<parameter=([^>\n]+)>\n?(.*?)(?:(\n?</parameter>)\s*(?=<parameter=|</function>|$)"
                        r"|(?=\n<parameter=|\n</function>|$))", re.S)


def qwen_xml(text: str, closed: bool = True) -> list[RawCall] | None:
    if "<function=" not in text:
        return None
    calls = []
    for function in _FUNCTION.finditer(text):
        body, reached_end = function.group(2), function.end() >= len(text.rstrip())
        arguments, complete = {}, True
        for parameter in _PARAMETER.finditer(body):
            value, closed_here = parameter.group(2), parameter.group(3) is not None
            arguments[parameter.group(1).strip()] = value if closed_here else value.removesuffix("\n")
            complete = closed_here or "<parameter=" in body[parameter.end():]
        if reached_end and not closed and not complete and "</function>" not in function.group(0):
            continue  # the last value was cut off mid-way: "rm -rf /" is not "rm -rf /tmp/build"
        calls.append(RawCall(function.group(1), arguments, "qwen-xml", textual=True))
    return calls


# ---- Mistral: [TOOL_CALLS] [{…}] | [TOOL_CALLS]name[ARGS]{…} | [TOOL_CALLS]name{…} --------------------------

_MISTRAL_NAMED = re.compile(r"\s*([\w.\-]+)\s*(?:\[CALL_ID\]\s*\w+\s*)?(?:\[ARGS\])?\s*(?=[{(])")


def mistral(text: str) -> list[RawCall] | None:
    if "[TOOL_CALLS]" not in text:
        return None
    text = text.replace("\u2581", " ")
    calls: list[RawCall] = []
    pos = text.find("[TOOL_CALLS]")
    while pos >= 0:
        start = pos + len("[TOOL_CALLS]")
        found, end = _mistral_segment(text, start)
        calls += found
        pos = text.find("[TOOL_CALLS]", max(end, start))
    return calls


def _mistral_segment(text: str, start: int) -> tuple[list[RawCall], int]:
    """The calls right after one [TOOL_CALLS] marker, and where they end (quoted markers stay inside)."""
    first = start + len(text[start:]) - len(text[start:].lstrip())
    if text[first:first + 1] in ("[", "{"):
        span = lenient.scan(text, first)
        return (json_calls(text[first:span.end], "mistral", at_end=True) if span.closed else []), span.end
    named = _MISTRAL_NAMED.match(text, start)
    if named is None:
        return [], start
    if text[named.end()] == "(":
        line_end = text.find("\n", named.end())
        end = len(text) if line_end < 0 else line_end
        return calls_from_code(text[named.start(1):end], "mistral") or [], end
    span = lenient.scan(text, named.end())
    if not span.closed:
        return [], span.end  # arguments cut off
    parsed = lenient.loads(text[named.end():span.end])
    if parsed is None or not isinstance(parsed[0], dict):
        return [], span.end
    return [RawCall(named.group(1), parsed[0], "mistral", repaired=parsed[1])], span.end


# ---- Llama 3.x: <|python_tag|>{…}; Llama 4: <|python_start|>[f(a=1)]<|python_end|> -------------------------

_LLAMA_END = re.compile(r"<\|(?:eom_id|eot_id|python_end|end_of_text)\|>")


def llama(text: str) -> list[RawCall] | None:
    for tag in ("<|python_tag|>", "<|python_start|>"):
        if tag in text:
            body = _LLAMA_END.split(text.split(tag, 1)[1])[0]
            if body.lstrip()[:1] == "{":
                return json_calls(body.replace("};", "}\n"), "llama", at_end=True)
            return calls_from_code(body, "llama") or []
    return None


# ---- DeepSeek V3/V3.1 special tokens and DSML ---------------------------------------------------------------

_DS_CALL = re.compile(r"<｜tool▁call▁begin｜>(?:(\w+)<｜tool▁sep｜>([\w.\-]+)|([\w.\-]+)<｜tool▁sep｜>)")
_DS_END = "<｜tool▁call▁end｜>"


def deepseek(text: str) -> list[RawCall] | None:
    if "<｜tool▁calls▁begin｜>" not in text and "<｜tool▁call▁begin｜>" not in text:
        return None
    calls = []
    for match in _DS_CALL.finditer(text):
        name = match.group(2) or match.group(3)
        brace = text.find("{", match.end())
        if brace < 0:
            continue
        span = lenient.scan(text, brace)
        # Special tokens come only from models trained on them: a broken body is a broken generation.
        if not span.closed or _DS_END not in text[span.end:span.end + 40]:
            continue
        arguments = _json_object(text[brace:span.end])
        if arguments is not None:
            calls.append(RawCall(name, arguments, "deepseek"))
    return calls


_DSML = re.compile(r"<｜DSML｜\s?invoke name=\"([^\"]+)\"\s*(/?)>"
                   r"|<｜DSML｜\s?parameter name=\"([^\"]+)\"(?: string=\"(true|false)\")?>(.*?)</｜DSML｜\s?parameter>"
                   r"|(</｜DSML｜\s?invoke>)", re.S)


def dsml(text: str) -> list[RawCall] | None:
    if "｜DSML｜" not in text:
        return None
    calls: list[RawCall] = []
    current: RawCall | None = None
    for match in _DSML.finditer(text):
        if match.group(1):
            current = RawCall(match.group(1), {}, "dsml")
            if match.group(2):  # self-closing <invoke name="x"/>
                calls.append(current)
                current = None
        elif match.group(3) and current is not None and current.arguments is not None:
            value: object = match.group(5)
            if match.group(4) == "false":
                parsed = lenient.loads(match.group(5))
                value = parsed[0] if parsed is not None else match.group(5)
            current.arguments[match.group(3)] = value
        elif match.group(6) and current is not None:
            calls.append(current)
            current = None
    return calls


# ---- Kimi K2: <|tool_call_begin|>functions.name:0<|tool_call_argument_begin|>{…}<|tool_call_end|> -----------

_KIMI = re.compile(r"<\|tool_call_begin\|>\s*([\w.\-:]+?)(?::\d+)?\s*<\|tool_call_argument_begin\|>")


def kimi(text: str) -> list[RawCall] | None:
    if "<|tool_call_begin|>" not in text:
        return None
    calls = []
    for match in _KIMI.finditer(text):
        brace = text.find("{", match.end())
        span = lenient.scan(text, brace) if brace >= 0 else None
        if span is None or not span.closed:
            continue
        arguments = _json_object(text[brace:span.end])
        if arguments is not None:
            calls.append(RawCall(match.group(1), arguments, "kimi"))
    return calls


# ---- gpt-oss (harmony): <|start|>assistant to=functions.name<|channel|>commentary …<|message|>{…}<|call|> ----

_HARMONY = re.compile(r"to=functions\.([\w.\-]+)[^<]*(?:<\|(?:channel|constrain)\|>[^<]*)*<\|message\|>")


def harmony(text: str) -> list[RawCall] | None:
    if "to=functions." not in text and "<|channel|>" not in text:
        return None  # gpt-oss's channels present: a JSON answer on the final channel is not a call
    calls, pos = [], 0
    while match := _HARMONY.search(text, pos):
        pos = match.end()
        brace = text.find("{", match.end())
        if brace < 0 or text[match.end():brace].strip():
            continue
        span = lenient.scan(text, brace)
        if not span.closed:
            continue
        try:
            arguments = json.loads(text[brace:span.end])
        except json.JSONDecodeError:
            continue
        pos = span.end
        if isinstance(arguments, dict):
            calls.append(RawCall(match.group(1), arguments, "harmony"))
    return calls


# ---- Kimi K3: <|open|>call tool="x"<|sep|><|open|>argument key="k" type="number"<|sep|>1<|close|>argument … ----

_K3_CALL = re.compile(r"<\|open\|>call tool=\"([^\"]+)\"[^<]*<\|sep\|>(.*?)<\|close\|>call", re.S)
_K3_ARGUMENT = re.compile(r"<\|open\|>argument key=\"([^\"]+)\"(?: type=\"(\w+)\")?[^<]*<\|sep\|>"
                          r"(.*?)<\|close\|>argument", re.S)


def kimi_k3(text: str) -> list[RawCall] | None:
    if "<|open|>call " not in text and "<|open|>tools" not in text:
        return None
    calls = []
    for call in _K3_CALL.finditer(text):
        arguments: dict[str, object] = {}
        for argument in _K3_ARGUMENT.finditer(call.group(2)):
            value: object = argument.group(3)
            if argument.group(2) not in (None, "string"):
                parsed = lenient.loads(argument.group(3))
                value = parsed[0] if parsed is not None else value
            arguments[argument.group(1)] = value
        calls.append(RawCall(call.group(1), arguments, "kimi"))
    return calls


def bare_qwen_xml(text: str) -> list[RawCall] | None:
    """<function=…> without the <tool_call> opener (qwen3-coder does this); may be cut off at the end."""
    return qwen_xml(text, closed=False)


READERS: list[Reader] = [dsml, deepseek, kimi, kimi_k3, harmony, mistral, llama, gemma.tagged, hermes, bare_qwen_xml]
