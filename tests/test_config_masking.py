"""Secrets are masked by the key that holds them, in `config show` and `config show --json`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from llmos.ui.config_view import is_secret, shown_value
from tests.conftest import write_user_config

SECRETS = ("sk-live-0123456789", "Bearer mcp-header-token-42", "ghp_githubtoken99", "hunter2-password",
           "x-api-key-value-7", "cookie-session-value", "url-password-55")

CONFIG = """\
context:
  max_tokens: 8000
  reserve_tokens: 512
providers:
  box:
    type: openai-compatible
    base_url: http://127.0.0.1:9/v1
    api_key: sk-live-0123456789
    api_key_env: BOX_KEY
    headers: {Authorization: "Bearer mcp-header-token-42", X-Api-Key: x-api-key-value-7, X-Trace: visible-trace}
mcpServers:
  github:
    command: github-mcp
    env: {GITHUB_TOKEN: ghp_githubtoken99, LOG_LEVEL: debug}
  remote:
    type: http
    url: "https://bot:url-password-55@mcp.example.com/mcp"
    headers: {Cookie: cookie-session-value}
servers:
  browser:
    password: hunter2-password
"""


def show(*args: str) -> subprocess.CompletedProcess:
    out = subprocess.run([sys.executable, "-m", "llmos", "config", "show", *args], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "COLUMNS": "250", "BOX_KEY": "sk-env-should-not-print"})
    assert out.returncode == 0, out.stderr
    return out


def test_json_masks_every_secret_and_prints_numbers(isolated_home: Path) -> None:
    write_user_config(isolated_home, CONFIG)
    out = show("--json")
    shown = json.loads(out.stdout)
    for secret in (*SECRETS, "sk-env-should-not-print"):
        assert secret not in out.stdout and secret not in out.stderr
    assert shown["context.max_tokens"]["value"] == 8000
    assert shown["context.reserve_tokens"]["value"] == 512
    assert shown["providers.box.api_key"]["value"] == "****"
    assert shown["providers.box.headers.Authorization"]["value"] == "****"
    assert shown["providers.box.headers.X-Api-Key"]["value"] == "****"
    assert shown["providers.box.headers.X-Trace"]["value"] == "visible-trace"
    assert shown["mcpServers.github.env.GITHUB_TOKEN"]["value"] == "****"
    assert shown["mcpServers.github.env.LOG_LEVEL"]["value"] == "debug"
    assert shown["mcpServers.remote.url"]["value"] == "https://bot:****@mcp.example.com/mcp"
    assert shown["providers.box.api_key_env"]["value"] == "BOX_KEY (set)"
    assert shown["agent.max_steps"]["value"] == 8


def test_table_masks_the_same_keys(isolated_home: Path) -> None:
    write_user_config(isolated_home, CONFIG)
    out = show()
    for secret in SECRETS:
        assert secret not in out.stdout and secret not in out.stderr
    rows = {line.split()[0]: line for line in out.stdout.splitlines() if line.strip()}
    assert rows["context.max_tokens"].split()[1] == "8000"
    assert rows["context.reserve_tokens"].split()[1] == "512"
    assert rows["providers.box.headers.Authorization"].split()[1] == "****"


def test_secret_keys_are_recognised_by_key_not_by_substring() -> None:
    for key in ("providers.x.api_key", "a.private_key", "headers.Authorization", "headers.proxy-authorization",
                "env.GITHUB_TOKEN", "x.token", "x.password", "x.client_secret", "headers.X-Api-Key"):
        assert is_secret(key), key
    for key in ("context.max_tokens", "context.reserve_tokens", "agent.tool_prompt_budget",
                "providers.x.api_key_env", "router.keep_alive", "x.tokenizer", "x.keyboard"):
        assert not is_secret(key), key
    assert shown_value("context.max_tokens", 1000) == 1000
