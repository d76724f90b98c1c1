"""Read a GGUF file's header — metadata and tensor table — without loading the weights.

The ``gguf`` package does this too, but it needs numpy (~45 MB) and maps every field into arrays: ~8 s for
a 0.5B model's header here. Listing models only needs the small values, so this reader keeps scalars and
short arrays, counts the long ones (the 150k-token vocabulary) without decoding them, and reads from an
mmap: ~0.1 s. Format: github.com/ggml-org/ggml docs/gguf.md (little-endian, versions 2 and 3).
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32
# Arrays longer than this are counted, not decoded (vocabularies, merges, token scores).
KEPT_ARRAY_LEN = 1024

# value type → struct format of one element (8 = string, 9 = array are handled apart)
_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_STRING, _ARRAY = 8, 9

# general.file_type → the name llama.cpp prints (LlamaFileType in gguf-py, "MOSTLY_" dropped)
FILE_TYPES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
              11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M",
              18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S",
              25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M",
              32: "BF16", 36: "TQ1_0", 37: "TQ2_0", 38: "MXFP4_MOE"}


class GgufError(ValueError):
    """Not a GGUF file, or a damaged one; the message names the file."""


@dataclass(frozen=True)
class LongArray:
    """An array too long to keep: its element type and length only."""

    type: int
    count: int


@dataclass(frozen=True)
class Tensor:
    name: str
    shape: tuple[int, ...]
    type: int
    offset: int  # from the start of the data section
    n_bytes: int  # up to the next tensor (alignment padding included: at most 31 bytes)

    @property
    def n_elements(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n


@dataclass(frozen=True)
class Header:
    path: Path
    version: int
    metadata: dict[str, Any]
    tensors: tuple[Tensor, ...]
    data_offset: int
    file_size: int

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture") or "")

    @property
    def quant(self) -> str:
        file_type = self.metadata.get("general.file_type")
        if file_type is None:
            return ""
        return FILE_TYPES.get(int(file_type), f"type {file_type}")

    @property
    def context_length(self) -> int:
        return int(self.metadata.get(f"{self.architecture}.context_length") or 0)

    @property
    def parameters(self) -> int:
        return sum(t.n_elements for t in self.tensors)

    @property
    def weights_bytes(self) -> int:
        return sum(t.n_bytes for t in self.tensors)

    @property
    def vocab_size(self) -> int:
        tokens = self.metadata.get("tokenizer.ggml.tokens")
        if isinstance(tokens, LongArray):
            return tokens.count
        return len(tokens) if isinstance(tokens, list) else 0

    @property
    def chat_template(self) -> str:
        return str(self.metadata.get("tokenizer.chat_template") or "")


class _Cursor:
    def __init__(self, buf: Any, path: Path):
        self.buf, self.pos, self.path = buf, 0, path

    def take(self, fmt: str) -> Any:
        try:
            (value,) = struct.unpack_from("<" + fmt, self.buf, self.pos)
        except struct.error as exc:
            raise GgufError(f"{self.path}: truncated GGUF header at byte {self.pos}") from exc
        self.pos += struct.calcsize(fmt)
        return value

    def string(self) -> str:
        n = self.take("Q")
        if self.pos + n > len(self.buf):
            raise GgufError(f"{self.path}: truncated GGUF header at byte {self.pos}")
        raw = self.buf[self.pos:self.pos + n]
        self.pos += n
        return bytes(raw).decode("utf-8", errors="replace")

    def skip_string(self) -> None:
        n = self.take("Q")  # not `self.pos += self.take(...)`: that adds to the position before the read
        self.pos += n

    def value(self, vtype: int) -> Any:
        if vtype in _SCALARS:
            return self.take(_SCALARS[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            return self.array()
        raise GgufError(f"{self.path}: unknown GGUF value type {vtype} at byte {self.pos}")

    def array(self) -> Any:
        etype, count = self.take("I"), self.take("Q")
        if count <= KEPT_ARRAY_LEN:
            return [self.value(etype) for _ in range(count)]
        if etype == _STRING:
            for _ in range(count):
                self.skip_string()
        elif etype in _SCALARS:
            self.pos += count * struct.calcsize(_SCALARS[etype])
        else:  # arrays of arrays: walk them
            for _ in range(count):
                self.value(etype)
        if self.pos > len(self.buf):
            raise GgufError(f"{self.path}: truncated GGUF header")
        return LongArray(etype, count)


def _with_mapped(path: Path, read: Callable[[mmap.mmap, int], T]) -> T:
    """``read(buffer, size)`` over ``path`` mapped read-only; GgufError when it is not a readable GGUF file."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            size = path.stat().st_size
            if size < 24:
                raise GgufError(f"{path}: not a GGUF file (only {size} bytes)")
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                return read(buf, size)
    except OSError as exc:
        raise GgufError(f"{path}: cannot read ({exc.strerror or exc})") from exc


def read_header(path: Path) -> Header:
    """The metadata and tensor table of ``path``; GgufError when it is not a readable GGUF file."""
    return _with_mapped(path, lambda buf, size: _parse(buf, Path(path), size))


def read_metadata(path: Path, wanted: set[str]) -> dict[str, Any]:
    """The ``wanted`` metadata values of ``path`` that it has, reading stops once all are found (milliseconds:
    the vocabulary after them is never walked). GgufError when it is not a readable GGUF file."""
    def read(buf: mmap.mmap, _size: int) -> dict[str, Any]:
        cur, _version, _tensors, n_kv = _start(buf, Path(path))
        found: dict[str, Any] = {}
        for _ in range(n_kv):
            key = cur.string()
            value = cur.value(cur.take("I"))
            if key in wanted:
                found[key] = value
                if found.keys() >= wanted:
                    break
        return found

    return _with_mapped(path, read)


def trained_context(path: Path) -> int | None:
    """``{architecture}.context_length``: the context the model was trained for (the architecture key comes
    first in every GGUF llama.cpp writes, so this reads a few hundred bytes)."""
    arch = read_metadata(path, {"general.architecture"}).get("general.architecture")
    if not arch:
        return None
    value = read_metadata(path, {f"{arch}.context_length"}).get(f"{arch}.context_length")
    return int(value) if isinstance(value, int) else None


def _start(buf: Any, path: Path) -> tuple[_Cursor, int, int, int]:
    """A cursor past the fixed header; the version, the number of tensors and of metadata entries."""
    if bytes(buf[:4]) != MAGIC:
        raise GgufError(f"{path}: not a GGUF file (starts with {bytes(buf[:4])!r})")
    cur = _Cursor(buf, path)
    cur.pos = 4
    version = cur.take("I")
    if version not in (2, 3):
        raise GgufError(f"{path}: GGUF version {version} is not supported (2 and 3 are)")
    return cur, version, cur.take("Q"), cur.take("Q")


def _parse(buf: Any, path: Path, size: int) -> Header:
    cur, version, n_tensors, n_kv = _start(buf, path)
    metadata: dict[str, Any] = {}
    for _ in range(n_kv):
        key = cur.string()
        metadata[key] = cur.value(cur.take("I"))
    raw = []
    for _ in range(n_tensors):
        name = cur.string()
        dims = tuple(cur.take("Q") for _ in range(cur.take("I")))
        raw.append((name, dims, cur.take("I"), cur.take("Q")))
    align = int(metadata.get("general.alignment") or DEFAULT_ALIGNMENT)
    data_offset = -(-cur.pos // align) * align
    # A tensor's size is the distance to the next one: no table of per-type block sizes is needed.
    ends = sorted({offset for *_, offset in raw} | {size - data_offset})
    next_of = {a: b for a, b in zip(ends, ends[1:], strict=False)}
    tensors = tuple(Tensor(n, d, t, off, next_of.get(off, 0) - off) for n, d, t, off in raw)
    return Header(path, version, metadata, tensors, data_offset, size)
