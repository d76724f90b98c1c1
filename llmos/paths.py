"""Where llmos keeps its files (XDG locations via platformdirs)."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import PlatformDirs

APP = "llm-os"
_dirs = PlatformDirs(APP, appauthor=False)


def system_config_dir() -> Path:
    """System-wide config; ``LLM_OS_SYSTEM_CONFIG_DIR`` relocates it for packaging and tests."""
    return Path(os.environ.get("LLM_OS_SYSTEM_CONFIG_DIR", "/etc/llm-os"))


def system_config_file() -> Path:
    return system_config_dir() / "llm-config.yaml"


def user_config_dir() -> Path:
    return Path(_dirs.user_config_dir)


def user_config_file() -> Path:
    return user_config_dir() / "llm.yaml"


def state_dir() -> Path:
    """History, audit log, undo journal: things that matter but are not user data."""
    return Path(_dirs.user_state_dir)


def data_dir() -> Path:
    return Path(_dirs.user_data_dir)


def models_dir() -> Path:
    """GGUF files llmos downloads (``llmos models pull``) or finds dropped here by hand."""
    return data_dir() / "models"


def cache_dir() -> Path:
    """Things llmos can always recompute: tool lists, model metadata."""
    return Path(_dirs.user_cache_dir)


def usage_db() -> Path:
    return state_dir() / "usage.sqlite3"


def display(path: Path | str) -> str:
    """A path as a person would write it: ~ for the home directory."""
    text = str(path)
    home = str(Path.home())
    if text == home:
        return "~"
    return "~" + text[len(home):] if text.startswith(home + os.sep) else text


def repl_history() -> Path:
    return state_dir() / "history"
