"""Calls written as code: list_directory(path="~"), [f(a=1), g(b="x")], print(default_api.f(x=1)).

Parsed with Python's ``ast`` and read with ``literal_eval`` — never evaluated. JSON words (true, false,
null) are accepted as values; anything that is not a literal (a variable, an expression) makes the call
unreadable rather than guessed.
"""

from __future__ import annotations

import ast
from typing import Any

from llmos.agent.repair.objects import RawCall

_JSON_WORDS = {"true": True, "false": False, "null": None, "none": None}


def calls_from_code(text: str, shape: str) -> list[RawCall] | None:
    """The calls when ``text`` is nothing but calls (one per line, or a list of them), else None."""
    text = text.strip().rstrip(";")
    if not text or "(" not in text:
        return None
    tree = _parse(text)
    if tree is None:
        return None
    nodes: list[ast.expr] = []
    for statement in tree.body:
        if not isinstance(statement, ast.Expr):
            return None
        value = statement.value
        nodes += value.elts if isinstance(value, (ast.List, ast.Tuple)) else [value]
    calls = [_call(node, shape) for node in nodes]
    if not calls or any(c is None for c in calls):
        return None
    return [c for c in calls if c is not None]


def _parse(text: str) -> ast.Module | None:
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) > 1:  # calls separated by newlines but joined with commas: f(a=1),\ng(b=2)
            try:
                return ast.parse("[" + text + "]")
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                return None
        return None


def _call(node: ast.expr, shape: str) -> RawCall | None:
    if isinstance(node, ast.Call) and _dotted(node.func) == "print" and len(node.args) == 1:
        node = node.args[0]  # Gemma's tool_code: print(default_api.get_weather(city="Paris"))
    if not isinstance(node, ast.Call):
        return None
    name = _dotted(node.func)
    if name is None:
        return None
    arguments: dict[str, Any] = {}
    try:
        for keyword in node.keywords:
            if keyword.arg is None:  # **kwargs
                return RawCall(name, None, shape, raw=ast.unparse(node))
            arguments[keyword.arg] = literal(keyword.value)
        positional = [literal(a) for a in node.args]
    except ValueError:
        return RawCall(name, None, shape, raw=ast.unparse(node))
    if positional:
        if len(positional) == 1 and not arguments and isinstance(positional[0], dict):
            return RawCall(name, positional[0], shape)  # f({"path": "~"})
        # Positional values are matched to parameters later, only when the schema makes it unambiguous.
        arguments["__positional__"] = positional
    return RawCall(name, arguments, shape)


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else None
    return None


def literal(node: ast.expr) -> Any:
    """A literal's value; JSON's true/false/null allowed; anything else raises ValueError."""
    if isinstance(node, ast.Name) and node.id.lower() in _JSON_WORDS:
        return _JSON_WORDS[node.id.lower()]
    if isinstance(node, ast.Dict):
        return {literal(k) if k is not None else None: literal(v) for k, v in zip(node.keys, node.values, strict=True)}
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return [literal(e) for e in node.elts]
    return ast.literal_eval(node)
