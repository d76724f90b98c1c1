"""`llmos models pull NAME` for GGUF catalog models: download from Hugging Face through huggingface_hub.

huggingface_hub resolves the URL (HF_ENDPOINT), sends the token (HF_TOKEN or `hf auth login`), honours
HF_HUB_OFFLINE, follows the hub's redirects and retries a dropped connection with a Range request. What
llmos adds: the file lands in $XDG_DATA_HOME/llm-os/models/ under its own name, through a ``.part`` file
that survives an interrupted run (the next pull resumes it: huggingface_hub 1.x/2.x discards its own
partial files), a free-space check before the first byte, and a sha256 check after the last — against
the catalog's pinned value, else the LFS sha256 the hub reports — with the partial file removed on a
mismatch.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from llmos.errors import LlmosError, UsageError
from llmos.models.catalog import CatalogEntry

HASH_CHUNK = 4 * 1024 * 1024
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


class PullError(LlmosError):
    """A GGUF download failed; the message says why and what to do."""


class NoSpaceError(PullError):
    pass


class ChecksumError(PullError):
    pass


class Progress(Protocol):
    """Where download progress goes (the CLI's rich bar; tests record it)."""

    def start(self, description: str, total: int | None, completed: int) -> None: ...
    def advance(self, n: int) -> None: ...
    def status(self, text: str) -> None: ...
    def finish(self) -> None: ...


class Silent:
    def start(self, description: str, total: int | None, completed: int) -> None: ...
    def advance(self, n: int) -> None: ...
    def status(self, text: str) -> None: ...
    def finish(self) -> None: ...


@dataclass(frozen=True)
class PullResult:
    entry: CatalogEntry
    path: Path
    size_bytes: int
    sha256: str
    downloaded: bool  # False: it was already on disk
    resumed_from: int = 0  # bytes of a partial file from an earlier run that were kept


def gb(n: int) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e8 else f"{n / 1e6:.0f} MB"


def offline() -> bool:
    """HF_HUB_OFFLINE as huggingface_hub reads it (checked at call time, so tests and the shell agree)."""
    value = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    return value.strip().upper() in ("1", "ON", "YES", "TRUE")


def _hash_into(digest: Any, path: Path, n: int) -> None:
    with path.open("rb") as f:
        while n > 0 and (chunk := f.read(min(HASH_CHUNK, n))):
            digest.update(chunk)
            n -= len(chunk)


def sha256_of(path: Path, on_chunk: Callable[[int], None] | None = None) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(HASH_CHUNK):
            digest.update(chunk)
            if on_chunk:
                on_chunk(len(chunk))
    return digest.hexdigest()


def resolve(name: str) -> CatalogEntry:
    from llmos.models import catalog

    entry = catalog.get(name)
    if entry is None:
        known = ", ".join(sorted(catalog.load()))
        raise UsageError(f"unknown GGUF model {name!r} (the catalog has: {known}; Ollama tags have a ':', "
                         "e.g. llama3.2:3b)")
    return entry


def pull(name: str, *, progress: Progress | None = None, dest_dir: Path | None = None) -> PullResult:
    """Download the catalog model ``name`` (or return the copy already in the models folder)."""
    return pull_entry(resolve(name), progress=progress, dest_dir=dest_dir)


def pull_entry(entry: CatalogEntry, *, progress: Progress | None = None, dest_dir: Path | None = None) -> PullResult:
    from llmos import paths

    progress = progress or Silent()
    dest_dir = dest_dir or paths.models_dir()
    dest = dest_dir / entry.file
    done = _already_there(entry, dest) or _elsewhere(entry, dest_dir)
    if done is not None:
        return done
    if offline():
        raise PullError(f"HF_HUB_OFFLINE is set, so {entry.name} cannot be downloaded: unset it to download, "
                        f"or copy {entry.file} into {paths.display(dest_dir)}")
    meta = _metadata(entry)
    expected_sha = _expected_sha(entry, meta)
    size = meta.size or (entry.size_bytes if entry.size_exact else None)
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PullError(f"cannot create {paths.display(dest_dir)}: {exc.strerror or exc}") from exc
    part = dest_dir / f"{entry.file}.{(expected_sha or 'unknown')[:12]}.part"
    _drop_stale_parts(dest_dir, entry.file, keep=part)
    have = part.stat().st_size if part.exists() else 0
    if size is not None and have > size:
        part.unlink()
        have = 0
    _check_space(dest_dir, (size or entry.size_bytes) - have, entry)
    got = _download(meta, part, have, size, entry, progress)
    if expected_sha is not None and got != expected_sha:
        part.unlink(missing_ok=True)
        raise ChecksumError(f"{entry.file}: checksum mismatch (expected sha256 {expected_sha}, got {got}); "
                            "the partial file was removed — run the pull again")
    os.replace(part, dest)
    dest.with_name(dest.name + ".sha256").write_text(f"{got}  {dest.name}\n", encoding="utf-8")
    progress.finish()
    return PullResult(entry, dest, dest.stat().st_size, got, True, have)


def _already_there(entry: CatalogEntry, dest: Path) -> PullResult | None:
    """The file from an earlier pull: its recorded sha256 (written after verification) must match."""
    record = dest.with_name(dest.name + ".sha256")
    if not dest.is_file() or not record.is_file():
        return None
    recorded = record.read_text(encoding="utf-8").split()[:1]
    if not recorded or (entry.sha256 is not None and recorded[0] != entry.sha256):
        return None
    return PullResult(entry, dest, dest.stat().st_size, recorded[0], False)


def _elsewhere(entry: CatalogEntry, dest_dir: Path) -> PullResult | None:
    """The catalog's file already in the Hugging Face cache or LM Studio's folder: used there, not copied.
    (Its sha256 is not recomputed here: the tool that downloaded it checked it.)"""
    from llmos.models.discover import discover

    for m in discover():
        if m.name == entry.name and m.can_chat and dest_dir not in m.path.parents:
            return PullResult(entry, m.path, m.size_bytes, "", False)
    return None


def _drop_stale_parts(folder: Path, file: str, keep: Path) -> None:
    """A partial download of another revision of the file cannot be resumed into this one."""
    for old in folder.glob(f"{file}.*.part"):
        if old != keep:
            old.unlink(missing_ok=True)


def _check_space(folder: Path, needed: int, entry: CatalogEntry) -> None:
    from llmos import paths

    free = shutil.disk_usage(folder).free
    if needed > free:
        raise NoSpaceError(f"not enough disk space for {entry.name}: it needs {gb(needed)} more and "
                           f"{paths.display(folder)} has {gb(free)} free — free some space, then pull again")


@dataclass(frozen=True)
class _Meta:
    url: str  # where the bytes are (after the hub's redirect)
    headers: dict[str, str]
    size: int | None
    etag: str | None


def _metadata(entry: CatalogEntry) -> _Meta:
    """HEAD the file on the hub (HF_ENDPOINT, token and offline mode as huggingface_hub applies them)."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.utils import build_hf_headers

    endpoint = os.environ.get("HF_ENDPOINT") or None
    url = hf_hub_url(entry.repo, entry.file, endpoint=endpoint)
    try:
        # No retries on the HEAD: an unreachable hub is said at once (the body download retries on its own).
        meta = get_hf_file_metadata(url, endpoint=endpoint, retry_on_errors=False)
    except Exception as exc:
        raise PullError(f"{entry.name}: {describe_hub_error(exc, entry, url)}") from exc
    headers = build_hf_headers()
    location = meta.location or url
    if urlsplit(location).netloc != urlsplit(url).netloc:
        headers.pop("authorization", None)  # a signed CDN URL must not receive the hub token
    return _Meta(location, headers, meta.size, meta.etag)


def _expected_sha(entry: CatalogEntry, meta: _Meta) -> str | None:
    from huggingface_hub.file_download import REGEX_SHA256

    hub_sha = meta.etag if meta.etag and REGEX_SHA256.fullmatch(meta.etag) else None
    if entry.sha256 and hub_sha and hub_sha != entry.sha256:
        raise ChecksumError(f"{entry.name}: the hub's {entry.file} is not the file the catalog pins (hub sha256 "
                            f"{hub_sha}, catalog {entry.sha256}); nothing was downloaded")
    return entry.sha256 or hub_sha


def describe_hub_error(exc: BaseException, entry: CatalogEntry, url: str) -> str:
    """One line for a failed hub request, saying what to do."""
    from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, OfflineModeIsEnabled, RepositoryNotFoundError

    if isinstance(exc, OfflineModeIsEnabled):
        return "HF_HUB_OFFLINE is set: unset it to download"
    if isinstance(exc, GatedRepoError):
        return f"{entry.repo} is gated: accept its licence on the hub, then set HF_TOKEN or run `hf auth login`"
    if isinstance(exc, RepositoryNotFoundError):
        return f"{entry.repo} was not found (or is private: set HF_TOKEN or run `hf auth login`)"
    if isinstance(exc, HfHubHTTPError):
        status = exc.response.status_code if exc.response is not None else "?"
        return f"the hub answered HTTP {status} for {url}"
    if _network_error(exc):
        return f"cannot reach {urlsplit(url).netloc} ({exc}); check the network or HF_ENDPOINT"
    return f"{type(exc).__name__}: {exc}"


def _network_error(exc: BaseException) -> bool:
    # httpx2's (huggingface_hub 2.x) or httpx's classes, by name: which client the hub library uses varies.
    names = {c.__name__ for c in type(exc).__mro__}
    return isinstance(exc, ConnectionError) or bool(names & {"ConnectError", "TimeoutException", "NetworkError"})


class _Bar:
    """What huggingface_hub's http_get expects of a tqdm class, forwarding to a Progress."""

    def __init__(self, progress: Progress, total: int | None = None, initial: int = 0, desc: str = "",
                 **_: Any) -> None:
        self.progress = progress
        progress.start(desc, total, initial)

    def __enter__(self) -> _Bar:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def update(self, n: int | float = 1) -> None:
        self.progress.advance(int(n))


class _Hashing:
    """The file http_get writes to, hashing the bytes on their way to disk (no second read of gigabytes).
    A rewind (a server that ignored the Range request) spoils the running hash: then the file is hashed."""

    def __init__(self, out: Any, digest: Any):
        self.out, self.digest, self.spoiled = out, digest, False

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return int(self.out.write(data))

    def tell(self) -> int:
        return int(self.out.tell())

    def seek(self, *args: Any) -> int:
        self.spoiled = True
        return int(self.out.seek(*args))

    def truncate(self, *args: Any) -> int:
        self.spoiled = True
        return int(self.out.truncate(*args))

    def flush(self) -> None:
        self.out.flush()


def _download(meta: _Meta, part: Path, have: int, size: int | None, entry: CatalogEntry,
              progress: Progress) -> str:
    """Append the missing bytes to ``part``; the sha256 of the whole file."""
    from functools import partial

    from huggingface_hub.file_download import http_get

    from llmos import paths

    digest = hashlib.sha256()
    if have:
        progress.status("checking the partial download…")
        _hash_into(digest, part, have)
    hub_log = logging.getLogger("huggingface_hub.file_download")
    retries = _RetryNotice(progress)
    hub_log.addFilter(retries)
    try:
        with part.open("ab") as raw:
            out = _Hashing(raw, digest)
            http_get(meta.url, out, resume_size=have, headers=meta.headers, expected_size=size,  # type: ignore[arg-type]
                     displayed_filename=entry.file, tqdm_class=partial(_Bar, progress))  # type: ignore[arg-type]
        if not out.spoiled:
            return digest.hexdigest()
        progress.status("verifying sha256…")
        return sha256_of(part)
    except OSError as exc:
        if exc.errno in _NO_SPACE:
            written = part.stat().st_size if part.exists() else 0
            raise NoSpaceError(f"no space left on the disk of {paths.display(part.parent)} after {gb(written)} of "
                               f"{entry.name}: free some space and pull again to resume from there (or delete "
                               f"{paths.display(part)})") from exc
        if type(exc) is OSError and "Consistency check failed" in str(exc):
            part.unlink(missing_ok=True)
            raise PullError(f"{entry.file}: the download ended early (size differs from the hub's); the partial "
                            "file was removed — pull again") from exc
        raise PullError(f"{entry.name}: {describe_hub_error(exc, entry, meta.url)} — pull again to resume") from exc
    except Exception as exc:
        raise PullError(f"{entry.name}: {describe_hub_error(exc, entry, meta.url)} — pull again to resume") from exc
    except KeyboardInterrupt:
        kept = part.stat().st_size if part.exists() else 0
        progress.status(f"interrupted with {gb(kept)} downloaded: `llmos models pull {entry.name}` resumes")
        raise
    finally:
        hub_log.removeFilter(retries)


class _RetryNotice(logging.Filter):
    """huggingface_hub logs a dropped connection as a two-line warning; say it in one line on the bar."""

    def __init__(self, progress: Progress):
        super().__init__()
        self.progress = progress

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if "Trying to resume download" in text:
            self.progress.status("the connection dropped; resuming…")
            return False
        return "Max retries exceeded" not in text  # the error that follows says it
