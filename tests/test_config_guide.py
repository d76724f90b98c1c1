"""The LLM-OS integration guide's two files, verbatim, as the system and user layers (issue 11)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from llmos.config import load_config
from llmos.llm.classify import Task
from llmos.llm.router import Router
from tests.conftest import write_user_config

GUIDE = Path(__file__).parent / "data" / "integration-guide"

# Every key of the two files: (key as written, internal key, value, layer, line in that file).
SYSTEM_KEYS = [
    ("providers.ollama.enabled", "providers.ollama.enabled", True, 3),
    ("providers.ollama.base_url", "providers.ollama.base_url", "http://localhost:11434", 4),
    ("providers.ollama.models.fast", "providers.ollama.models.fast", "llama3.2:1b", 6),
    ("providers.ollama.models.reasoning", "providers.ollama.models.reasoning", "deepseek-r1:1.5b", 6),
    ("providers.claude.enabled", "providers.claude.enabled", True, 8),
    ("providers.claude.models.fast", "providers.claude.models.fast", "claude-3-5-haiku-latest", 10),
    # default_model and models.default name the same model: both keys are reported as setting it.
    ("providers.claude.models.default and providers.claude.default_model", "providers.claude.models.default",
     "claude-3-5-haiku-latest", 10),
    ("providers.claude.models.best", "providers.claude.models.best", "claude-3-5-sonnet-latest", 10),
    ("providers.claude.models.best", "providers.claude.models.reasoning", "claude-3-5-sonnet-latest", 10),
    ("providers.openai.enabled", "providers.openai.enabled", True, 12),
    ("providers.openai.default_model", "providers.openai.models.default", "gpt-4o-mini", 13),
    ("router.fallback_provider", "router.fallback_provider", "claude", 16),
    ("router.local_first", "router.local_first", True, 17),
    ("router.cost_optimization", "router.cost_optimization", True, 18),
    ("router.max_retries", "router.max_retries", 3, 19),
    ("context.max_tokens", "context.max_tokens", 8000, 21),
    ("context.keep_messages", "context.keep_messages", 50, 22),
    ("performance.timeout", "performance.timeout", 30, 25),
    ("performance.concurrent_tools", "performance.concurrent_tools", 3, 26),
]
USER_KEYS = [
    ("preferences.default_provider", "router.default_provider", "claude", 2),
    ("preferences.always_stream", "performance.streaming", True, 3),
    ("preferences.verbose_output", "preferences.verbose_output", False, 4),
    ("models.ollama.default", "providers.ollama.models.default", "qwen2.5:7b", 7),
]
# Keys the user file overrides: shown with the system file's origin as the overridden one.
OVERRIDDEN = {"router.default_provider": 15, "performance.streaming": 24, "providers.ollama.models.default": 6}


@pytest.fixture
def guide_files(isolated_home: Path) -> tuple[Path, Path]:
    """The guide's files copied byte for byte where LLM_OS_SYSTEM_CONFIG_DIR and XDG_CONFIG_HOME point."""
    system = isolated_home / "etc" / "llm-config.yaml"
    shutil.copyfile(GUIDE / "llm-config.yaml", system)
    user = write_user_config(isolated_home, (GUIDE / "llm.yaml").read_text(encoding="utf-8"))
    return system, user


def config_show_json() -> dict:
    out = subprocess.run([sys.executable, "-m", "llmos", "config", "show", "--json"], capture_output=True,
                         text=True, timeout=60, env=dict(os.environ))
    assert out.returncode == 0, out.stderr
    assert "unknown key" not in out.stderr and "warning" not in out.stderr
    return json.loads(out.stdout)


def test_guide_files_load_without_warnings(guide_files: tuple[Path, Path]) -> None:
    config = load_config(environ={})
    assert config.warnings == []


def test_config_show_json_says_value_internal_key_and_file_line_of_every_key(guide_files: tuple[Path, Path]) -> None:
    system, user = guide_files
    shown = config_show_json()
    for layer, path, keys in (("system", system, SYSTEM_KEYS), ("user", user, USER_KEYS)):
        for written, internal, value, line in keys:
            entry = shown[internal]
            assert entry["value"] == value, internal
            assert (entry["layer"], entry["file"], entry["line"]) == (layer, str(path), line), internal
            assert entry["key"] == (None if written == internal else written), internal
    for internal, line in OVERRIDDEN.items():
        newest, *_, oldest = shown[internal]["overridden"]  # newest first
        assert (newest["file"], newest["line"]) == (str(system), line)
        assert oldest["layer"] == "default"
    assert shown["providers.ollama.models.default"]["overridden"][0]["key"] == \
        "providers.ollama.models.default and providers.ollama.default_model"


def test_config_show_table_dims_the_overridden_origin(guide_files: tuple[Path, Path]) -> None:
    system, user = guide_files
    out = subprocess.run([sys.executable, "-m", "llmos", "config", "show"], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "COLUMNS": "250"})
    assert out.returncode == 0, out.stderr
    line = next(row for row in out.stdout.splitlines() if row.startswith("router.default_provider "))
    assert f"user {user}:2 (preferences.default_provider)" in line
    assert f"over system {system}:15" in line
    assert "over default" in line


def test_every_key_has_its_meaning_in_the_typed_views(guide_files: tuple[Path, Path]) -> None:
    config = load_config(environ={})
    providers = config.providers()
    assert providers["ollama"].model_for("default") == "qwen2.5:7b"  # models.<provider>.<tier> from the user
    assert providers["ollama"].model_for("reasoning") == "deepseek-r1:1.5b"  # its own reasoning tier stays
    assert providers["claude"].model_for("reasoning") == "claude-3-5-sonnet-latest"  # best → reasoning
    assert providers["claude"].model_for("best") == "claude-3-5-sonnet-latest"  # and usable by its own name
    assert providers["openai"].model_for("default") == "gpt-4o-mini"  # default_model
    assert providers["openai"].timeout == 30  # performance.timeout: openai sets none of its own
    assert providers["ollama"].timeout == 300  # the documented ollama entry sets its own
    assert config.router.default_provider == "claude" and config.router.fallback_provider == "claude"
    assert not config.router.pinned and config.router.max_retries == 3
    assert (config.context.max_tokens, config.context.keep_messages) == (8000, 50)
    assert config.performance.streaming is True and config.performance.concurrent_tools == 3
    assert config.router.verbose is False


def test_router_order_is_the_users_provider_then_the_fallback_then_the_rest(guide_files: tuple[Path, Path]) -> None:
    router = Router(load_config(environ={}))
    for task in Task:
        assert router.order(task) == ["claude", "ollama", "embedded", "openai"]


def test_system_default_with_its_fallback_when_the_user_sets_none(isolated_home: Path) -> None:
    shutil.copyfile(GUIDE / "llm-config.yaml", isolated_home / "etc" / "llm-config.yaml")
    assert Router(load_config(environ={})).order(Task.SIMPLE) == ["ollama", "claude", "embedded", "openai"]


def test_a_tier_of_any_name_is_usable(isolated_home: Path) -> None:
    write_user_config(isolated_home, "providers:\n  claude:\n    models: {cheap: claude-haiku-4-5}\n")
    config = load_config(environ={})
    assert config.warnings == []
    assert config.providers()["claude"].model_for("cheap") == "claude-haiku-4-5"


def test_a_provider_named_after_its_kind_needs_no_type(isolated_home: Path) -> None:
    write_user_config(isolated_home, "providers:\n  anthropic:\n    default_model: claude-haiku-4-5\n")
    provider = load_config(environ={}).providers()["anthropic"]
    assert provider.type == "anthropic" and provider.model_for("fast") == "claude-haiku-4-5"


def test_readme_shows_the_same_two_files() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    for name in ("llm-config.yaml", "llm.yaml"):
        assert "```yaml\n" + (GUIDE / name).read_text(encoding="utf-8") + "```" in readme, name
