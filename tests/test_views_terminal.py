"""Views render on the Terminal entry.py creates, never on a Console of their own: every command's output
lands in the Terminal's streams and nothing reaches the process's own stdout or stderr. Checked on the
running code (commands in-process, no redirection of sys.stdout) and in the source (only terminal.py
builds a rich Console)."""

from __future__ import annotations

import ast
import io
import json
from pathlib import Path

import pytest

import llmos
from llmos.entry import run
from llmos.servers.undo import UndoJournal
from llmos.terminal import Terminal

COMMANDS = [
    (["config", "show"], "router.local_first"),
    (["config", "show", "--json"], '"router.local_first"'),
    (["config", "path"], "llm.yaml"),
    (["undo", "--list"], "made notes.txt"),
    (["undo", "--list", "--json"], '"summary": "made notes.txt"'),
    (["models", "--vram-mib", "4096"], "Models"),
    (["models", "fit", "llama3.2:3b", "--vram-mib", "4096"], "KV cache"),
    (["models", "recommend", "--vram-mib", "4096"], "Recommended"),
    (["usage"], "No requests in the last 7d."),
    (["audit"], "No tool calls recorded yet."),
    (["history"], "No saved conversations yet."),
    (["--version"], f"llmos {llmos.__version__}"),
]


@pytest.mark.parametrize(("args", "shown"), COMMANDS, ids=[" ".join(a) for a, _ in COMMANDS])
def test_a_command_prints_only_on_its_terminal(args: list[str], shown: str, isolated_home: Path,
                                               capfd: pytest.CaptureFixture[str]) -> None:
    (isolated_home / "config" / "llm-os").mkdir(parents=True)
    # No Ollama here: an address nothing listens on answers at once.
    (isolated_home / "config" / "llm-os" / "llm.yaml").write_text(
        "providers:\n  ollama: {base_url: 'http://127.0.0.1:9'}\n", encoding="utf-8")
    UndoJournal().record("create", "made notes.txt", path=str(isolated_home / "notes.txt"))
    out, err = io.StringIO(), io.StringIO()
    status = run(args, Terminal(stdin=io.StringIO(), stdout=out, stderr=err, width=120))
    assert status == 0, err.getvalue()
    assert shown in out.getvalue(), out.getvalue()
    if "--json" in args:
        json.loads(out.getvalue())  # nothing but the JSON document
    leaked = capfd.readouterr()
    assert leaked.out == "" and leaked.err == "", leaked


def test_only_the_terminal_builds_a_rich_console() -> None:
    root = Path(llmos.__file__).parent
    builders = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "Console":
                builders.append(f"{path.relative_to(root)}:{node.lineno}")
    assert builders, "the Terminal's Consoles were not found: the check is looking in the wrong place"
    assert all(b.startswith("terminal.py:") for b in builders), builders
