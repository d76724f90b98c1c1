"""The curated GGUF catalog (llmos/data/gguf-catalog.yaml): what `llmos models pull NAME` downloads.

Entries become ``ModelSpec``s for the picker, so a model can be sized before it is on disk. A damaged
catalog is a bug in the package, reported with the entry and key at fault.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, fields
from importlib import resources
from typing import Any

from llmos.picker.estimate import Arch, ModelSpec

CATALOG_FILE = "gguf-catalog.yaml"
TOOL_FORMATS = ("hermes", "llama3-json", "none")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_ARCH_KEYS = tuple(f.name for f in fields(Arch))


class CatalogError(ValueError):
    """The packaged catalog is malformed (names the entry and key)."""


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    title: str
    repo: str  # Hugging Face repo id
    file: str  # file name inside the repo
    quant: str
    size_bytes: int
    size_exact: bool  # False: an approximation, for estimates and disk checks only
    sha256: str | None  # None: not pinned; the hub's LFS sha256 is checked at download time
    license: str
    context_length: int
    tool_format: str
    params: int
    arch: Arch
    recommend: bool = False

    @property
    def pinned(self) -> bool:
        return self.sha256 is not None

    @property
    def tools(self) -> bool:
        return self.tool_format != "none"

    def spec(self) -> ModelSpec:
        caps = ("completion", "tools") if self.tools else ("completion",)
        return ModelSpec(self.name, self.arch, self.params, self.quant, self.size_bytes, caps, source="catalog")

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "repo": self.repo, "file": self.file, "quant": self.quant,
                "size_bytes": self.size_bytes, "size_exact": self.size_exact, "sha256": self.sha256,
                "pinned": self.pinned, "license": self.license, "context_length": self.context_length,
                "tool_format": self.tool_format, "parameters": self.params, "recommend": self.recommend}


def _arch(name: str, raw: Any, context_length: int) -> Arch:
    from llmos.picker.catalog import lookup

    if isinstance(raw, str):
        known = lookup(raw)
        if known is None:
            raise CatalogError(f"{CATALOG_FILE}: models.{name}.arch: {raw!r} is not in llmos/picker/catalog.py")
        return known.arch
    if not isinstance(raw, dict):
        raise CatalogError(f"{CATALOG_FILE}: models.{name}.arch: expected a picker catalog name or a mapping")
    unknown = set(raw) - set(_ARCH_KEYS)
    if unknown:
        raise CatalogError(f"{CATALOG_FILE}: models.{name}.arch: unknown keys {', '.join(sorted(unknown))}")
    try:
        return Arch(**{"context_length": context_length, **raw})
    except TypeError as exc:
        raise CatalogError(f"{CATALOG_FILE}: models.{name}.arch: {exc}") from exc


def _entry(name: str, raw: Any) -> CatalogEntry:
    if not isinstance(raw, dict):
        raise CatalogError(f"{CATALOG_FILE}: models.{name}: expected a mapping")

    def need(key: str, kind: type) -> Any:
        value = raw.get(key)
        if not isinstance(value, kind) or isinstance(value, bool) is not (kind is bool):
            raise CatalogError(f"{CATALOG_FILE}: models.{name}.{key}: expected {kind.__name__}, got {value!r}")
        return value

    sha = raw.get("sha256")
    if sha is not None and (not isinstance(sha, str) or not _SHA256.fullmatch(sha)):
        raise CatalogError(f"{CATALOG_FILE}: models.{name}.sha256: expected 64 lowercase hex digits or null")
    tool_format = need("tool_format", str)
    if tool_format not in TOOL_FORMATS:
        raise CatalogError(f"{CATALOG_FILE}: models.{name}.tool_format: one of {', '.join(TOOL_FORMATS)}")
    ctx = need("context_length", int)
    return CatalogEntry(name=name, title=need("title", str), repo=need("repo", str), file=need("file", str),
                        quant=need("quant", str), size_bytes=need("size_bytes", int),
                        size_exact=need("size_exact", bool), sha256=sha, license=need("license", str),
                        context_length=ctx, tool_format=tool_format, params=need("params", int),
                        arch=_arch(name, raw.get("arch"), ctx), recommend=bool(raw.get("recommend", False)))


def parse(text: str) -> dict[str, CatalogEntry]:
    import yaml

    data = yaml.safe_load(text)
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, dict):
        raise CatalogError(f"{CATALOG_FILE}: expected a top-level `models:` mapping")
    return {str(name): _entry(str(name), raw) for name, raw in models.items()}


@functools.cache
def load() -> dict[str, CatalogEntry]:
    """The packaged catalog, parsed once per process."""
    text = resources.files("llmos.data").joinpath(CATALOG_FILE).read_text(encoding="utf-8")
    return parse(text)


def get(name: str) -> CatalogEntry | None:
    """A catalog entry by name (case-insensitive), or by its file name on the hub."""
    key = name.strip().lower()
    entries = load()
    if key in entries:
        return entries[key]
    return next((e for e in entries.values() if e.file.lower() == key), None)


def recommended() -> list[CatalogEntry]:
    return [e for e in load().values() if e.recommend]
