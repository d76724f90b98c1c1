"""Creating and editing the user's configuration file."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess

from llmos import paths
from llmos.errors import ConfigError, UsageError

USER_TEMPLATE = """\
# llmos user configuration — overrides /etc/llm-os/llm-config.yaml and the built-in defaults.
# Only what you set here changes; `llmos config show` prints the merged result with origins.
# The full list of keys, with comments, is in the built-in defaults (etc/llm-os/llm-config.yaml).
#
# router:
#   default_provider: claude          # tried first; the others follow if it fails (--provider pins one)
#   local_first: true
#   fallback_chain: [ollama, claude, openai]
#
# The LLM-OS integration guide's keys work too (preferences.default_provider, models.ollama.default, …).
#
# providers:
#   ollama:
#     models:
#       default: qwen2.5:3b
#   my-server:                       # any OpenAI-compatible server
#     type: openai-compatible
#     base_url: http://127.0.0.1:8080/v1
#     models:
#       default: my-model
"""


def ensure_user_config() -> str:
    target = paths.user_config_file()
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(USER_TEMPLATE, encoding="utf-8")
    return str(target)


def edit_user_config() -> None:
    from llmos.config import load_config

    target = ensure_user_config()
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or _first_available("sensible-editor", "nano", "vi")
    if not editor:
        raise UsageError(f"no editor found: set $EDITOR, or edit {target} directly")
    status = subprocess.call([*shlex.split(editor), target])
    if status != 0:
        raise UsageError(f"the editor exited with status {status}; {target} is as the editor left it")
    try:
        load_config()
    except ConfigError as exc:
        raise ConfigError(f"{exc}\nThe file was saved; run `llmos config edit` again to fix it.") from None
    print(f"{target}: configuration is valid")


def _first_available(*names: str) -> str | None:
    return next((n for n in names if shutil.which(n)), None)
