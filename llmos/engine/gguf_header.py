"""Read a few metadata values from a GGUF file's header without loading the model (milliseconds)."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any, BinaryIO

# GGUF value types → struct format; 8 is a string, 9 an array.
_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_STRING, _ARRAY = 8, 9


def _read(f: BinaryIO, fmt: str) -> Any:
    size = struct.calcsize("<" + fmt)
    data = f.read(size)
    if len(data) != size:
        raise ValueError("truncated GGUF header")
    return struct.unpack("<" + fmt, data)[0]


def _string(f: BinaryIO) -> str:
    return f.read(_read(f, "Q")).decode("utf-8", "replace")


def _value(f: BinaryIO, kind: int, keep: bool) -> Any:
    if kind in _SCALARS:
        return _read(f, _SCALARS[kind])
    if kind == _STRING:
        return _string(f)
    if kind == _ARRAY:
        item, count = _read(f, "I"), _read(f, "Q")
        if item in _SCALARS and not keep:  # skip big arrays (the vocabulary) without reading them
            f.seek(struct.calcsize("<" + _SCALARS[item]) * count, 1)
            return None
        return [_value(f, item, keep) for _ in range(count)]
    raise ValueError(f"unknown GGUF value type {kind}")


def read_metadata(path: Path, wanted: set[str] | None = None) -> dict[str, Any]:
    """Metadata keys (all, or only ``wanted``; reading stops once they are found). ValueError if not a GGUF."""
    out: dict[str, Any] = {}
    with open(path, "rb") as f:
        if f.read(4) != b"GGUF":
            raise ValueError(f"{path} is not a GGUF file")
        version = _read(f, "I")
        if version < 2:
            raise ValueError(f"{path}: GGUF version {version} is too old")
        _read(f, "Q")  # tensor count
        for _ in range(_read(f, "Q")):
            key = _string(f)
            kind = _read(f, "I")
            value = _value(f, kind, keep=wanted is None or key in wanted)
            if wanted is None or key in wanted:
                out[key] = value
                if wanted is not None and wanted <= out.keys():
                    break
    return out


def trained_context(path: Path) -> int | None:
    """``{architecture}.context_length``: the context the model was trained for."""
    arch = read_metadata(path, {"general.architecture"}).get("general.architecture")
    if not arch:
        return None
    value = read_metadata(path, {f"{arch}.context_length"}).get(f"{arch}.context_length")
    return int(value) if isinstance(value, int) else None
