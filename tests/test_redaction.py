"""The redaction helper learns every configured secret at run time and masks it wherever llmos writes text."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from llmos.config import load_config
from llmos.redact import MASK, ScrubFilter, redact, remember_config, scrub
from tests.conftest import write_user_config


def test_configured_secrets_are_masked_and_ordinary_header_values_are_not(isolated_home: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_ODD_VAR", "qq-not-a-known-key-shape-111")
    write_user_config(isolated_home, (
        "providers:\n  box:\n    type: openai-compatible\n    base_url: http://127.0.0.1:9/v1\n"
        "    api_key_env: MY_ODD_VAR\n    headers: {Content-Type: application/json, X-Api-Key: hdr-secret-222}\n"
        "mcpServers:\n  remote:\n    type: http\n    url: http://127.0.0.1:9/mcp\n"
        "    headers: {Authorization: 'Bearer tok-secret-333'}\n"
        "  local:\n    command: srv\n    env: {SERVICE_TOKEN: env-secret-444, MODE: production-mode}\n"))
    remember_config(load_config())
    text = ("key qq-not-a-known-key-shape-111, header hdr-secret-222, bearer tok-secret-333, env env-secret-444; "
            "sent as application/json in production-mode")
    masked = scrub(text)
    for secret in ("qq-not-a-known-key-shape-111", "hdr-secret-222", "tok-secret-333", "env-secret-444"):
        assert secret not in masked
    assert "application/json" in masked and "production-mode" in masked
    assert redact({"api_key": "anything", "nested": ["sk-abcdefghijklmnop"]}) == {"api_key": MASK, "nested": [MASK]}


def test_log_records_are_scrubbed_including_tracebacks() -> None:
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "failed with %s", ("sk-abcdefghijklmnop",), None)
    try:
        raise RuntimeError("echo sk-zyxwvutsrqponmlk")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    ScrubFilter().filter(record)
    assert "sk-abcdefghijklmnop" not in record.getMessage()
    assert record.exc_text and "sk-zyxwvutsrqponmlk" not in record.exc_text
