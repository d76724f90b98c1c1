"""What every filesystem tool is given: the sandbox, the undo journal, the limits, and path helpers."""

from __future__ import annotations

import os
import stat as stat_module
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from llmos.paths import display
from llmos.servers.common import ToolError
from llmos.servers.filesystem import safe_io
from llmos.servers.sandbox import Sandbox, not_found
from llmos.servers.undo import UndoJournal

MAX_READ_BYTES = 256 * 1024  # one read_file call
MAX_SEARCH_FILE_BYTES = 10 * 1024 * 1024  # a bigger file is skipped by search_content
MAX_SEARCH_TOTAL_BYTES = 256 * 1024 * 1024  # search_content stops after reading this much
MAX_WALK_ENTRIES = 200_000  # any walk (search, find_largest, disk_usage) stops after this many entries
MAX_WRITE_BYTES = 10 * 1024 * 1024  # create_file, write_file, append_file content
MAX_COPY_BYTES = 4 * 1024 * 1024 * 1024  # copy, in total
MAX_COPY_FILES = 100_000
MAX_BACKUP_BYTES = 1024 * 1024 * 1024  # what an overwrite or a replacing move keeps as a backup for undo


def walk_limit(settings: dict) -> int:
    """servers.filesystem.walk_limit: how many entries one walk may visit."""
    value = settings.get("walk_limit", MAX_WALK_ENTRIES)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        from llmos.errors import ConfigError

        raise ConfigError(f"servers.filesystem.walk_limit: expected a whole number of at least 1, got {value!r}")
    return value


@dataclass
class Fs:
    sandbox: Sandbox
    journal: UndoJournal
    walk_limit: int = MAX_WALK_ENTRIES

    def existing(self, raw: str, write: bool = False, follow: bool = True) -> Path:
        path = self.sandbox.resolve(raw, write=write, follow=follow)
        if not path.exists() and not path.is_symlink():
            raise not_found(path)
        return path

    def writable_new(self, raw: str) -> Path:
        """A path for an additive tool to create: allowed, and not one that makes code run later."""
        target = self.sandbox.resolve(raw, write=True)
        if self.sandbox.runs_code_later(target):
            raise ToolError(f"{display(target)} is a place where a file makes code run later (start-up files, "
                            "autostart, PATH folders, git or llmos config…); creating it needs the person's "
                            "yes: use write_file, which asks first.")
        return target


def check_backup_size(path: Path) -> None:
    """Refuse to replace something too big to keep a backup of (undo could not bring it back)."""
    from llmos.servers.sandbox import measure

    files, size = measure(path, MAX_COPY_FILES + 1)
    if size > MAX_BACKUP_BYTES or files > MAX_COPY_FILES:
        raise ToolError(f"{display(path)} is {size:,} bytes in {files:,} files; llmos keeps backups of at most "
                        f"{MAX_BACKUP_BYTES:,} bytes, so it will not replace it (undo could not bring it back).")


def lstat(path: Path) -> os.stat_result:
    try:
        return path.lstat()
    except OSError as exc:
        raise ToolError(f"Cannot read {display(path)}: {(exc.strerror or str(exc)).lower()}.") from exc


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).astimezone().isoformat(timespec="seconds")


def kind(st: os.stat_result) -> Literal["file", "directory", "symlink", "other"]:
    if stat_module.S_ISLNK(st.st_mode):
        return "symlink"
    if stat_module.S_ISDIR(st.st_mode):
        return "directory"
    return "file" if stat_module.S_ISREG(st.st_mode) else "other"


@dataclass
class Walk:
    """A walk below a folder that never follows symlinks, never enters or yields a secret, yields only
    regular files, and stops after ``limit`` entries (``truncated`` then says so)."""

    fs: Fs
    root: Path
    hidden: bool
    limit: int
    truncated: bool = False
    special: int = field(default=0)  # FIFOs, sockets, devices and symlinks passed over

    def files(self) -> Iterator[tuple[Path, int, os.stat_result]]:
        """(path, folder descriptor, lstat) of each regular file; open it with ``dir_fd`` and its name."""
        seen = 0
        sandbox = self.fs.sandbox
        mounts = safe_io.mount_points()  # a file bind-mounted over a name may be a credential (safe_io)
        for top, dirs, names, dir_fd in os.fwalk(self.root, follow_symlinks=False):
            folder = Path(top)
            dirs[:] = [d for d in dirs if self._enter(folder, d, dir_fd)]
            for name in names:
                seen += 1
                if seen > self.limit:
                    self.truncated = True
                    return
                if not self.hidden and name.startswith("."):
                    continue
                try:
                    st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
                except OSError:
                    continue
                path = folder / name
                if not stat_module.S_ISREG(st.st_mode) or str(path) in mounts:
                    self.special += 1
                    continue
                if not sandbox.is_secret(path, st):
                    yield path, dir_fd, st

    def _enter(self, folder: Path, name: str, dir_fd: int) -> bool:
        if not self.hidden and name.startswith("."):
            return False
        try:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except OSError:
            return False
        return stat_module.S_ISDIR(st.st_mode) and not self.fs.sandbox.is_secret(folder / name, st)

    @property
    def note(self) -> str | None:
        if self.truncated:
            return (f"Stopped after {self.limit:,} entries; results are partial. Search a smaller folder for "
                    "complete results.")
        return None
