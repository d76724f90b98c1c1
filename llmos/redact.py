"""Hiding secrets before anything is written or shown: values under secret-looking keys, anything shaped
like an API key, and the values of the provider key variables set in this process.

A low layer on purpose: the audit log, the session store and messages all use it, and it imports nothing
of llmos's own.
"""

from __future__ import annotations

import os
import re
from typing import Any

MASK = "****"
_SECRET_KEYS = re.compile(r"pass(word)?|secret|token|api[_-]?key|authorization|credential", re.I)
_SECRET_VALUES = re.compile(r"\b(sk-[A-Za-z0-9_-]{8,}|sk-ant-[A-Za-z0-9_-]{8,}|gh[pousr]_[A-Za-z0-9]{20,}|"
                            r"xox[abp]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16})\b")
_KEY_VARIABLES = ("ANTHROPIC_API_KEY", "OPENAI_API_KEY")


def redact(value: Any, key: str = "") -> Any:
    """``value`` with secrets masked, recursively through dicts and lists."""
    if key and _SECRET_KEYS.search(key):
        return MASK
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


# Text that holds a credential: a key shaped like one, a private key block, a password assignment.
_SECRET_LOOKING = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"
                             r"|\b(password|passwd|secret|token|api[_-]?key)\s*[:=]\s*\S"
                             r"|\bmachine\s+\S+\s+login\s+\S+\s+password\b", re.I)


def looks_secret(text: str) -> bool:
    """Whether ``text`` seems to hold a credential (so it must not leave the machine unasked)."""
    return bool(_SECRET_VALUES.search(text) or _SECRET_LOOKING.search(text))


def redact_text(text: str) -> str:
    text = _SECRET_VALUES.sub(MASK, text)
    for var in _KEY_VARIABLES:
        secret = os.environ.get(var)
        if secret and len(secret) >= 8:
            text = text.replace(secret, MASK)
    return text

