"""Assembling llmos for one process: configuration, usage store, router."""

from __future__ import annotations

import logging
from typing import Any

from llmos import paths
from llmos.config import Config, load_config
from llmos.llm.router import Router
from llmos.usage.store import UsageStore

log = logging.getLogger(__name__)


def open_usage_store() -> UsageStore | None:
    """The usage database, or None (with a warning) when it cannot be opened: a request still works."""
    try:
        return UsageStore(paths.usage_db())
    except Exception as exc:
        log.warning("usage records disabled: %s", exc)
        return None


def load_with_warnings(flags: dict[str, Any] | None = None) -> Config:
    config = load_config(flags)
    for warning in config.warnings:
        from llmos.ui.stream import notice

        notice(f"llmos: config warning: {warning}")
    return config


def build_router(flags: dict[str, Any] | None = None) -> tuple[Config, Router]:
    config = load_with_warnings(flags)
    return config, Router(config, open_usage_store())
