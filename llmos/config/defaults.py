"""The documented defaults (llmos/data/llm-config.yaml): the one place a default value is written."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

from llmos.config.layers import Layer, parse_yaml_layer


def default_config_text() -> str:
    return resources.files("llmos.data").joinpath("llm-config.yaml").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def default_layer() -> Layer:
    """Parsed once per process; merging deep-copies it, so it is never changed."""
    return parse_yaml_layer("default", default_config_text(), "built-in defaults")


def documented() -> dict[str, Any]:
    return default_layer().data
