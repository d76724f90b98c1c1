"""Files from the web, saved into the Downloads folder: streamed into a hidden temporary file beside the
target, so a failed download leaves no half file, and never over an existing file unless asked."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import unquote, urlsplit

from pydantic import Field

from llmos.servers.browser.models import Download
from llmos.servers.browser.pages import UrlArg, normalize
from llmos.servers.browser.policy import Policy
from llmos.servers.browser.readable import media_type
from llmos.servers.common import DESTRUCTIVE, WEB_ACTION, ToolError, sentence
from llmos.servers.tooling import Tool, facts

# Overwriting a file is destructive, but a download still reaches out to the open web.
DESTRUCTIVE_WEB = DESTRUCTIVE.model_copy(update={"open_world_hint": True})
NameArg = Annotated[str | None, Field(description="File name to save as (default: from the server or URL)")]


def file_name(response: Any, url: str) -> str:
    from email.message import Message

    message = Message()  # parses Content-Disposition including RFC 2231 filename*=UTF-8''…
    message["content-disposition"] = response.headers.get("content-disposition", "")
    return message.get_filename() or unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])


def safe_name(name: str) -> str:
    """A plain file name: no directories, no control characters, not hidden, at most ~200 bytes."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*').strip().lstrip(".").strip()
    if len(name.encode()) > 200:
        stem, ext = os.path.splitext(name)
        ext = ext[:16]
        name = stem.encode()[:200 - len(ext.encode())].decode(errors="ignore") + ext
    return name or "download"


def place_new(tmp: str, target: Path) -> None:
    """Move ``tmp`` to ``target`` only if ``target`` does not exist (FileExistsError otherwise)."""
    try:
        os.link(tmp, target)  # atomic "create only if absent", unlike rename
    except FileExistsError:
        raise
    except OSError:  # a filesystem without hard links (FAT, some FUSE): check, then rename
        if target.exists():
            raise FileExistsError(str(target)) from None
        os.rename(tmp, target)


def downloads_dir(policy: Policy) -> Path:
    if policy.download_dir:
        return Path(os.path.expanduser(str(policy.download_dir)))
    import platformdirs

    return Path(platformdirs.user_downloads_dir())


def _temporary(directory: Path, target: Path) -> tuple[int, str]:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        return tempfile.mkstemp(dir=directory, prefix=f".{target.name[:50]}.", suffix=".part")
    except OSError as exc:
        raise ToolError(sentence(exc, f"Cannot save into {directory}")) from exc


def _save(policy: Policy, response: Any, final: str, target: Path, overwrite: bool) -> tuple[int, bool]:
    """Stream the body to ``target``; (bytes saved, whether a file was replaced)."""
    limit = policy.max_download_bytes
    fd, tmp = _temporary(target.parent, target)
    try:
        with os.fdopen(fd, "wb") as out:
            total, truncated = policy.read(response, final, limit, out.write, None)
        if truncated:
            raise ToolError(f"{final} is larger than the {limit:,}-byte download limit "
                            "(servers.browser.max_download_bytes); nothing was saved.")
        os.chmod(tmp, 0o644)
        existed = target.exists()
        if overwrite:
            os.replace(tmp, target)
        else:
            place_new(tmp, target)
        return total, existed
    except FileExistsError as exc:
        raise ToolError(f"{target} appeared while downloading; it was left untouched.") from exc
    except OSError as exc:
        raise ToolError(sentence(exc, f"Cannot save {target}")) from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def download_to(policy: Policy, url: str, filename: str | None, overwrite: bool) -> Download:
    directory = downloads_dir(policy)
    url = normalize(url)
    with policy.open(url) as (response, final, _):
        target = directory / safe_name(filename or file_name(response, final))
        if target.exists() and not overwrite:
            raise ToolError(f"{target} already exists, so nothing was downloaded. Pick another filename, or use "
                            "download_overwrite to replace it.")
        size = response.headers.get("content-length", "")
        if size.isdigit() and int(size) > policy.max_download_bytes:
            raise ToolError(f"{final} is {int(size):,} bytes, over the {policy.max_download_bytes:,}-byte "
                            "download limit (servers.browser.max_download_bytes).")
        total, existed = _save(policy, response, final, target, overwrite)
        return Download(url=url, final_url=final, path=str(target), bytes=total,
                        content_type=media_type(response), overwritten=existed)


def download(ctx: Policy, url: UrlArg, filename: NameArg = None) -> Download:
    """Download a file from the web into the Downloads folder; refuses if a file of that name exists."""
    return download_to(ctx, url, filename, overwrite=False)


def download_overwrite(ctx: Policy, url: UrlArg, filename: NameArg = None) -> Download:
    """Download a file into the Downloads folder, replacing any existing file of the same name."""
    return download_to(ctx, url, filename, overwrite=True)


TOOLS = [
    Tool(download, WEB_ACTION, facts(urls=["url"], network=True)),
    Tool(download_overwrite, DESTRUCTIVE_WEB, facts(urls=["url"], network=True)),
]
