"""End to end through the real CLI, with nothing but llmos's own engine: Qwen2.5-Coder-0.5B (from PyPI via
scripts/test-models), 1 thread, in a throwaway home. Kept to two runs: each costs tens of seconds on CI.
Both run in-process (llmos.entry.run: the same typer CLI, config, engine, gate), so the second finds the model
loaded and the shared part of its prompt already read, as a shell session does; the console script itself is
tested as a process in test_cli."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import llm_server
from tests.conftest import write_user_config
from tests.inprocess import Completed, llmos

QWEN = llm_server.MODELS / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"


@pytest.fixture
def folder(tmp_path: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    if not QWEN.is_file():
        pytest.fail(f"{QWEN} is missing: run scripts/test-models", pytrace=False)
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("buy milk\n")
    (work / "budget.csv").write_text("rent,900\n")
    servers = "".join(f"  {n}: {{enabled: false}}\n" for n in ("git", "system", "apps", "browser"))
    write_user_config(isolated_home, f"""\
providers:
  ollama: {{enabled: false}}
  claude: {{enabled: false}}
  openai: {{enabled: false}}
  embedded:
    model: {QWEN}
    threads: 1
    n_ctx: 4096
servers:
{servers}  filesystem:
    roots: [{work}]
agent:
  max_steps: 4
""")
    monkeypatch.chdir(work)
    return work


def llmos_run(folder: Path, *args: str) -> Completed:
    assert Path.cwd() == folder
    return llmos("run", *args)  # nobody at the keyboard, as with stdin from /dev/null


def test_list_the_files_lists_them_and_names_them(folder: Path) -> None:
    out = llmos_run(folder, "--json", "list the files in this folder")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["provider"] == "embedded"
    assert result["tool_calls"] and result["tool_calls"][0]["tool"] == "filesystem.list_directory"
    assert result["tool_calls"][0]["ok"]
    assert "notes.txt" in result["text"] or "budget.csv" in result["text"], result["text"]


def test_delete_off_a_terminal_is_refused_and_the_file_stays(folder: Path) -> None:
    out = llmos_run(folder, "delete notes.txt")
    assert out.returncode == 4, (out.returncode, out.stdout, out.stderr)
    assert (folder / "notes.txt").read_text() == "buy milk\n"
    assert (folder / "budget.csv").exists()
