"""What ``auto`` means where the config allows it: ``agent.constrained: auto``.

Constrained mode (one JSON decision per step, grammar-enforced) is what makes tiny models usable; larger
models do better with native tool calls. auto is therefore constrained for the embedded engine and for
small local models: a model name that says at most 1.5B parameters (``qwen2.5:0.5b``, ``SmolLM2-135M``,
``deepseek-r1:1.5b``), or a context window of 2048 tokens or less. Cloud models never are. It is decided
once per run (agent/setup.py), for the provider that will answer first and the model of its default tier.
"""

from __future__ import annotations

import re

from llmos.config.model import ProviderConfig

SMALL_MODEL_PARAMS = 1.5e9
SMALL_CONTEXT = 2048
_PARAMS = re.compile(r"(?<![a-z0-9.])(\d+(?:\.\d+)?)([bm])(?![a-z0-9])", re.I)


def parameter_count(model: str) -> float | None:
    """Parameters as the model's name states them (``7b``, ``0.5B``, ``135M``), or None."""
    match = _PARAMS.search(model)
    if not match:
        return None
    return float(match.group(1)) * (1e9 if match.group(2).lower() == "b" else 1e6)


def constrained(setting: bool | str, provider: ProviderConfig | None, model: str, window: int | None) -> bool:
    if setting != "auto":
        return setting is True
    if provider is None:
        return False
    if provider.type == "embedded":
        return True
    if not provider.is_local:
        return False
    params = parameter_count(model)
    return (params is not None and params <= SMALL_MODEL_PARAMS) or (window is not None and window <= SMALL_CONTEXT)
