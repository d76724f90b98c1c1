"""The `llmos` command as a person or a script runs it: real exit codes, in-process through llmos.entry
(tests/inprocess.py); the console script itself and shell completion run as real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from llmos import __version__
from tests.conftest import llm_config, write_user_config
from tests.inprocess import llmos
from tests.llm_server import MODEL_ALIAS, LLMServer, free_port


def llmos_process(*args: str, env: dict[str, str] | None = None, timeout: float = 120
                  ) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "llmos", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def test_version_and_help() -> None:
    out = llmos_process("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"llmos {__version__}"
    help_text = llmos_process("--help").stdout
    for command in ("run", "config", "usage", "doctor"):
        assert command in help_text
    assert "Exit codes" in llmos("run", "--help").stdout


def test_no_provider_gives_one_paragraph_and_exit_3(isolated_home: Path) -> None:
    write_user_config(isolated_home, f"providers:\n  ollama:\n    base_url: http://127.0.0.1:{free_port()}\n")
    out = llmos("run", "what", "is", "my", "ip")
    assert out.returncode == 3
    assert "Traceback" not in out.stderr
    assert "No LLM provider could answer" in out.stderr and "ollama serve" in out.stderr
    assert out.stdout == ""


def test_malformed_config_exits_2_naming_the_file(isolated_home: Path) -> None:
    path = write_user_config(isolated_home, "router:\n  max_retries: [\n")
    out = llmos("run", "hi")
    assert out.returncode == 2 and str(path) in out.stderr and "Traceback" not in out.stderr


def test_empty_request_is_a_usage_error() -> None:
    out = llmos("run")
    assert out.returncode == 2 and "nothing to ask" in out.stderr


def test_unknown_option_is_a_usage_error() -> None:
    assert llmos("run", "--frobnicate", "x").returncode == 2


@pytest.mark.llm
def test_run_streams_plain_text_when_piped(llm: LLMServer, isolated_home: Path) -> None:
    write_user_config(isolated_home, llm_config(llm))
    out = llmos("run", "Say", "hello", "in", "one", "word")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() and "\x1b[" not in out.stdout  # plain text, no escape codes in a pipe


@pytest.mark.llm
def test_run_json_reports_text_provider_model_usage_latency(llm: LLMServer, isolated_home: Path) -> None:
    write_user_config(isolated_home, llm_config(llm))
    out = llmos("run", "--json", "--no-stream", "-", stdin="Name a fruit.")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["provider"] == "local" and result["model"] == MODEL_ALIAS and result["text"]
    assert result["usage"]["input_tokens"] > 0 and result["usage"]["output_tokens"] > 0
    assert not result["usage"]["estimated"] and result["latency_s"] > 0

    usage = llmos("usage", "--json")
    rows = json.loads(usage.stdout)["rows"]
    assert [(r["provider"], r["model"], r["requests"], r["failures"]) for r in rows] == [
        ("local", MODEL_ALIAS, 1, 0)]
    assert rows[0]["input_tokens"] == result["usage"]["input_tokens"]
    table = llmos("usage", env={"COLUMNS": "160"})
    assert table.returncode == 0 and "local" in table.stdout and MODEL_ALIAS in table.stdout
    assert "█" in table.stdout  # the inline bar of the busiest row


@pytest.mark.llm
def test_run_reports_a_fallback_on_stderr(llm: LLMServer, isolated_home: Path) -> None:
    dead = f"  dead:\n    type: openai-compatible\n    base_url: http://127.0.0.1:{free_port()}/v1\n" \
           "    models: {default: x}\n"
    write_user_config(isolated_home, llm_config(llm).replace("  local:\n", dead + "  local:\n"))
    out = llmos("run", "hi")
    assert out.returncode == 0, out.stderr
    assert "answered by local" in out.stderr and "dead" in out.stderr


@pytest.mark.llm
def test_model_flag_is_honoured(llm: LLMServer, isolated_home: Path) -> None:
    write_user_config(isolated_home, llm_config(llm))
    out = llmos("run", "--json", "--provider", "local", "--model", MODEL_ALIAS, "hi")
    assert json.loads(out.stdout)["model"] == MODEL_ALIAS


def test_config_show_prints_origins_and_masks_secrets(isolated_home: Path) -> None:
    path = write_user_config(isolated_home, """\
router:
  max_retries: 4
providers:
  box:
    type: openai-compatible
    base_url: http://127.0.0.1:9/v1
    api_key_env: BOX_KEY
    headers: {Authorization: Bearer very-secret-token}
""")
    out = llmos("config", "show", "--json", env={"BOX_KEY": "sk-should-never-print", "LLMOS_ROUTER__HEALTH_TTL_S": "9"})
    assert out.returncode == 0, out.stderr
    shown = json.loads(out.stdout)
    assert (shown["router.max_retries"]["value"], shown["router.max_retries"]["origin"]) == (4, f"user ({path}:2)")
    assert shown["router.health_ttl_s"]["origin"].startswith("env")
    assert shown["router.local_first"]["origin"] == "default"
    assert shown["providers.box.api_key_env"]["value"] == "BOX_KEY (set)"
    assert shown["providers.box.headers.Authorization"]["value"] == "****"
    assert "very-secret" not in out.stdout and "sk-should-never-print" not in out.stdout
    table = llmos("config", "show", env={"COLUMNS": "200"})
    assert "router.max_retries" in table.stdout and "very-secret" not in table.stdout


def test_config_path_lists_files_in_precedence_order(isolated_home: Path) -> None:
    out = llmos("config", "path")
    lines = [line.split("\t") for line in out.stdout.splitlines()]
    assert [line[0] for line in lines] == ["system", "user"]
    assert lines[1][1] == str(isolated_home / "config" / "llm-os" / "llm.yaml") and lines[1][2] == "absent"


def test_config_edit_creates_a_commented_file_and_checks_it(isolated_home: Path, tmp_path: Path) -> None:
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nprintf 'router:\\n  max_retries: 1\\n' >> \"$1\"\n")
    editor.chmod(0o755)
    out = llmos("config", "edit", env={"EDITOR": str(editor)})
    assert out.returncode == 0, out.stderr
    text = (isolated_home / "config" / "llm-os" / "llm.yaml").read_text()
    assert text.startswith("# llmos user configuration") and "max_retries: 1" in text

    bad = tmp_path / "bad.sh"
    bad.write_text("#!/bin/sh\nprintf 'router: [\\n' >> \"$1\"\n")
    bad.chmod(0o755)
    out = llmos("config", "edit", env={"EDITOR": str(bad)})
    assert out.returncode == 2 and "invalid YAML" in out.stderr and "llmos config edit" in out.stderr


def test_usage_with_no_records_and_bad_period() -> None:
    out = llmos("usage", "--since", "3d")
    assert out.returncode == 0 and "No requests" in out.stdout
    assert llmos("usage", "--since", "soon").returncode == 2


@pytest.mark.llm
def test_doctor_table_and_exit_codes(llm: LLMServer, isolated_home: Path) -> None:
    write_user_config(isolated_home, llm_config(llm))
    out = llmos("doctor", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    checks = {c["name"]: c for c in report["providers"]}
    assert checks["local"]["ok"] and MODEL_ALIAS in checks["local"]["models"]
    assert report["machine"]["machine"]["gpus"] == [] or "gpus" in json.dumps(report["machine"])

    write_user_config(isolated_home, f"providers:\n  ollama:\n    base_url: http://127.0.0.1:{free_port()}\n")
    out = llmos("doctor", env={"COLUMNS": "200"})
    assert out.returncode == 3
    assert "ollama serve" in out.stdout and "ANTHROPIC_API_KEY" in out.stdout


def test_shell_completion_answers_for_commands_and_subcommands() -> None:
    script = llmos_process("--show-completion")
    assert script.returncode == 0 and "_llmos_completion" in script.stdout
    commands = llmos_process(env={"_LLMOS_COMPLETE": "complete_bash", "COMP_WORDS": "llmos con", "COMP_CWORD": "1"})
    assert commands.stdout.split() == ["config"]
    sub = llmos_process(env={"_LLMOS_COMPLETE": "complete_bash", "COMP_WORDS": "llmos models f", "COMP_CWORD": "2"})
    assert sub.stdout.split() == ["fit"]
