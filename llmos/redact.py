"""Secrets never leave llmos in text it writes: messages, log lines, saved sessions, audit records.

Two nets. Values llmos knows are secret at run time — every configured provider's API key (read from
whatever `api_key_env` names), header values of providers and MCP servers, and any environment variable
named like a key or token — are replaced wherever they appear, even inside an error body a provider
echoed back. Text shaped like a well-known key format is masked too, known or not.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any

MASK = "****"
_MIN_SECRET = 8  # shorter values would mask ordinary words

SECRET_KEYS = re.compile(r"pass(word)?|secret|token|api[_-]?key|authorization|credential|cookie", re.I)
_SECRET_VALUES = re.compile(r"\b(sk-ant-[A-Za-z0-9_-]{8,}|sk-[A-Za-z0-9_-]{8,}|gh[pousr]_[A-Za-z0-9]{20,}|"
                            r"github_pat_[A-Za-z0-9_]{20,}|xox[abp]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|"
                            r"AIza[0-9A-Za-z_-]{30,})\b")
_SECRET_ENV = re.compile(r"(API_?KEY|TOKEN|SECRET|PASSWORD|PASSWD)$", re.I)
_known: set[str] = set()


def remember(value: Any) -> None:
    """Mask ``value`` from now on (a key read from a custom variable, a header token)."""
    if isinstance(value, str) and len(value.strip()) >= _MIN_SECRET:
        _known.add(value.strip())
        for part in value.split():  # "Bearer abc…": the token alone is the secret too
            if len(part) >= _MIN_SECRET and part.lower() not in ("bearer", "basic"):
                _known.add(part)


def remember_config(config: Any) -> None:
    """Every secret a configuration points at: provider keys (custom `api_key_env` included) and headers."""
    for provider in config.providers().values():
        remember(provider.api_key)
        _remember_secret_values(provider.headers)
    for entry in (config.get("mcpServers") or {}).values():
        if isinstance(entry, dict):
            _remember_secret_values(entry.get("headers"))
            _remember_secret_values(entry.get("env"))


def _remember_secret_values(mapping: Any) -> None:
    """Values under secret-looking names only (Authorization, X-Api-Key, GITHUB_TOKEN…): masking every header
    value would also mask words like application/json wherever they appear."""
    if isinstance(mapping, dict):
        for key, value in mapping.items():
            if SECRET_KEYS.search(str(key)):
                remember(value)


def _from_environment() -> set[str]:
    return {v for k, v in os.environ.items() if _SECRET_ENV.search(k) and len(v) >= _MIN_SECRET}


def scrub(text: str) -> str:
    """``text`` with every known secret and key-shaped string masked."""
    if not text:
        return text
    for secret in sorted(_known | _from_environment(), key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return _SECRET_VALUES.sub(MASK, text)


def redact(value: Any, key: str = "") -> Any:
    """A JSON-like value with secrets masked: whole values under secret-looking keys, secrets inside text."""
    if key and SECRET_KEYS.search(key):
        return MASK
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return scrub(value)
    return value


# Text that holds a credential: a key shaped like one, a private key block, a password assignment.
_SECRET_LOOKING = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"
                             r"|\b(password|passwd|secret|token|api[_-]?key)\s*[:=]\s*\S"
                             r"|\bmachine\s+\S+\s+login\s+\S+\s+password\b", re.I)


def looks_secret(text: str) -> bool:
    """Whether ``text`` seems to hold a credential (so it must not leave the machine unasked)."""
    return bool(_SECRET_VALUES.search(text) or _SECRET_LOOKING.search(text))


class ScrubFilter(logging.Filter):
    """Masks secrets in every log record that passes a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed log call is not ours to fix here
            return True
        record.msg, record.args = scrub(message), None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def install_log_filter() -> None:
    """Scrub every handler the root logger has now, and Python's last-resort handler (warnings, no config)."""
    handlers = [*logging.getLogger().handlers, logging.lastResort]
    for handler in handlers:
        if handler is not None and not any(isinstance(f, ScrubFilter) for f in handler.filters):
            handler.addFilter(ScrubFilter())
