"""The layers of docs/architecture.md, checked: no module imports from a layer above its own, and the
top-level parts of llmos import each other without cycles. Every import counts — at the top of a
module, inside a function, under TYPE_CHECKING — because a lazy upward import is still a cycle in
the design."""

from __future__ import annotations

import ast
from pathlib import Path

import llmos

ROOT = Path(llmos.__file__).parent

# Top to bottom; a part may import its own layer and any layer below.
LAYERS: list[set[str]] = [
    {"__main__", "entry", "cli", "repl", "oneshot", "ui"},
    {"runtime"},
    {"agent"},
    {"conversation", "llm", "picker", "models", "engine", "health"},
    {"servers"},
    {"config", "usage", "paths", "errors", "terminal", "redact", "jsonl", "damaged", "json_cache", "data", "units",
     "__init__"},
]


def _part(module: str) -> str:
    """llmos.agent.loop → agent; llmos → __init__."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _layer(part: str) -> int:
    for index, layer in enumerate(LAYERS):
        if part in layer:
            return index
    raise AssertionError(f"llmos.{part} is in no layer: add it to docs/architecture.md and LAYERS")


def _name(path: Path) -> str:
    return "llmos." + ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _imports(path: Path, module: str = "") -> list[tuple[int, str]]:
    """(line, imported llmos module) for every import in ``path`` (the module ``module``)."""
    module = module or _name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "llmos"]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base
                                                                                                else []))
            if base == "llmos":  # `from llmos import paths`: a module is a part; `__version__` is llmos's
                found += [(node.lineno, f"llmos.{a.name}" if _is_module(a.name) else "llmos") for a in node.names]
            elif base.startswith("llmos."):
                found.append((node.lineno, base))
    return found


def _is_module(name: str) -> bool:
    return (ROOT / f"{name}.py").exists() or (ROOT / name / "__init__.py").exists()


def _modules() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if "__pycache__" not in p.parts)


def _upward(path: Path, module: str = "") -> list[str]:
    module = module or _name(path)
    own = _part(module)
    return [f"{path}:{line}: {module} imports {imported} (a higher layer)"
            for line, imported in _imports(path, module) if _layer(_part(imported)) < _layer(own)]


def test_no_module_imports_from_a_layer_above_its_own() -> None:
    upward = [problem for path in _modules() for problem in _upward(path)]
    assert not upward, "\n".join(upward)


def test_the_parts_of_llmos_import_each_other_without_cycles() -> None:
    graph: dict[str, set[str]] = {}
    for path in _modules():
        own = "llmos." + ".".join(path.relative_to(ROOT).with_suffix("").parts)
        own = own.removesuffix(".__init__")
        graph.setdefault(own, set()).update(m for _line, m in _imports(path))
    for cycle in (("llmos.entry", "llmos.cli"), ("llmos.repl.app", "llmos.repl.commands"),
                  ("llmos.conversation.store", "llmos.agent.audit")):
        a, b = cycle
        assert not (_reaches(graph, a, b) and _reaches(graph, b, a)), f"{a} and {b} import each other"


def _reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node == goal and node != start:
            return True
        if node in seen:
            continue
        seen.add(node)
        todo += [m for m in graph.get(node, ()) if m in graph or m == goal]
    return False


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    """The checker itself: an agent module importing the shell, even lazily, is reported."""
    module = tmp_path / "loop.py"
    module.write_text("def f():\n    from llmos.repl.app import Repl\n    from ..ui import activity\n")
    assert [p.split(": ", 1)[1] for p in _upward(module, "llmos.agent.loop")] == [
        "llmos.agent.loop imports llmos.repl.app (a higher layer)",
        "llmos.agent.loop imports llmos.ui (a higher layer)"]
