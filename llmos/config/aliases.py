"""Keys of the LLM-OS integration guide's files, translated to llmos's own keys within one layer.

The guide writes ``providers.X.default_model``, top-level ``models.X.tier``, ``preferences.default_provider``
and ``preferences.always_stream``; llmos keeps one internal key for each meaning. Translating inside the
layer keeps "later layer wins" exact, and the layer remembers what was written, so ``config show`` can
say which key set which value, from which line.
"""

from __future__ import annotations

from typing import Any

# preferences.X -> the internal key it sets (a user's preference beats the same layer's section value)
_PREFERENCE_KEYS = {"default_provider": "router.default_provider", "always_stream": "performance.streaming"}
# Tier names people use for "the strongest model", mapped onto llmos's tier for complex requests.
_STRONGEST = ("best",)
REASONING_TIER = "reasoning"


def translate(data: dict[str, Any], lines: dict[str, int]) -> tuple[dict[str, str], list[str]]:
    """Rewrite ``data`` (and ``lines``) in place; return {internal key: key as written} and warnings."""
    renamed: dict[str, str] = {}
    warnings: list[str] = []
    providers = data.get("providers")
    if isinstance(providers, dict):
        for name, entry in providers.items():
            if isinstance(entry, dict):
                _default_model(name, entry, lines, renamed, warnings)
    models = data.get("models")
    if isinstance(models, dict):
        _top_level_models(data, models, lines, renamed)
    if isinstance(data.get("providers"), dict):
        for name, entry in data["providers"].items():
            if isinstance(entry, dict) and isinstance(entry.get("models"), dict):
                _strongest_tier(f"providers.{name}.models", entry["models"], lines, renamed)
    prefs = data.get("preferences")
    if isinstance(prefs, dict):
        for key, internal in _PREFERENCE_KEYS.items():
            if key in prefs:
                _move(data, f"preferences.{key}", internal, prefs.pop(key), lines, renamed)
        if not prefs:
            del data["preferences"]
    return renamed, warnings


def _default_model(name: str, entry: dict[str, Any], lines: dict[str, int], renamed: dict[str, str],
                   warnings: list[str]) -> None:
    if "default_model" not in entry:
        return
    written = f"providers.{name}.default_model"
    value = entry.pop("default_model")
    models = entry.get("models")
    if isinstance(models, dict) and "default" in models:
        if models["default"] != value:
            warnings.append(f"{written} ({value!r}) differs from providers.{name}.models.default "
                            f"({models['default']!r}) in the same file; models.default is used")
        else:  # the same model written twice: say both keys set it
            internal = f"providers.{name}.models.default"
            renamed[internal] = f"{internal} and {written}"
        return
    _move_within(entry, "models", "default", value)
    _note(written, f"providers.{name}.models.default", lines, renamed)


def _top_level_models(data: dict[str, Any], models: dict[str, Any], lines: dict[str, int],
                      renamed: dict[str, str]) -> None:
    """``models.ollama.default: x`` is ``providers.ollama.models.default: x``, and wins over it."""
    for provider, tiers in list(models.items()):
        if not isinstance(tiers, dict):
            continue  # left for the schema to report
        for tier, model in tiers.items():
            entry = data.setdefault("providers", {}).setdefault(provider, {})
            if not isinstance(entry, dict):
                continue
            _move_within(entry, "models", tier, model)
            _note(f"models.{provider}.{tier}", f"providers.{provider}.models.{tier}", lines, renamed)
        del models[provider]
    if not models:
        del data["models"]


def _strongest_tier(prefix: str, models: dict[str, Any], lines: dict[str, int], renamed: dict[str, str]) -> None:
    """``best`` stays a tier of its own and also fills the reasoning tier, unless the file defines one."""
    if REASONING_TIER in models:
        return
    for name in _STRONGEST:
        if name in models:
            models[REASONING_TIER] = models[name]
            _note(f"{prefix}.{name}", f"{prefix}.{REASONING_TIER}", lines, renamed)
            return


def _move(data: dict[str, Any], written: str, internal: str, value: Any, lines: dict[str, int],
          renamed: dict[str, str]) -> None:
    *parents, leaf = internal.split(".")
    node = data
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[leaf] = value
    _note(written, internal, lines, renamed)


def _move_within(entry: dict[str, Any], section: str, key: str, value: Any) -> None:
    if not isinstance(entry.get(section), dict):
        entry[section] = {}
    entry[section][key] = value


def _note(written: str, internal: str, lines: dict[str, int], renamed: dict[str, str]) -> None:
    if written in lines:
        lines[internal] = lines[written]
        lines.setdefault(internal.rsplit(".", 1)[0], lines[written])
    renamed[internal] = renamed.get(written, written)
