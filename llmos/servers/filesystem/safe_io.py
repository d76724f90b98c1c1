"""Opening files so that what was checked is what gets used.

A path is checked (roots, secrets) and then opened; between the two, someone could swap a folder or the file
for a symlink to ~/.ssh/id_rsa, or for a FIFO that blocks forever. So files are opened by walking from ``/``
one component at a time with ``O_NOFOLLOW`` (``openat``-style, through ``dir_fd``), non-blocking, and the
open descriptor is then checked with ``fstat``: a regular file, not a secret by identity (device and inode —
hard links and bind mounts included), and not a file with other names. Each folder on the way is checked the
same way.

Why a file with several names (hard links, st_nlink > 1) is never read, copied, searched or overwritten: its
other names cannot be found without walking every folder of its filesystem, inside the roots and outside
them, and a link made after any such walk would not be known. One of those names may be `.env`, `id_rsa` or
`~/.bashrc`; the content is the same whichever name is used. So the only rule that holds is not to open
such a file for its content; it is still listed, and may be moved or deleted (that removes one name only).
The check is on the open descriptor, so a link made between the check and the read cannot slip past it.
A file bind-mounted over another name (``mount --bind .env notes.txt``) keeps one name, so files that are
mount points are refused the same way.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat as stat_module
from collections.abc import Iterator
from pathlib import Path

from llmos.paths import display
from llmos.servers.common import ToolError
from llmos.servers.sandbox import Sandbox

# O_PATH: a folder one may pass through but not list (mode --x) is still walked.
_DIR_FLAGS = getattr(os, "O_PATH", os.O_RDONLY) | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
# Text that only a private key holds: refused whatever the file is called (a copy, a hard link, a renamed key).
PRIVATE_KEY_MARKERS = (b"PRIVATE KEY-----", b"PuTTY-User-Key-File", b"OPENSSH PRIVATE KEY")


def other_names(st: os.stat_result) -> int:
    """How many other names (hard links) the regular file ``st`` describes has."""
    return st.st_nlink - 1 if stat_module.S_ISREG(st.st_mode) else 0


def mount_points() -> frozenset[str]:
    """Where something is mounted, in this process's view (/proc/self/mountinfo; empty where there is none)."""
    try:
        with open("/proc/self/mountinfo", "rb") as f:
            lines = f.read().splitlines()
    except OSError:
        return frozenset()
    found = set()
    for line in lines:
        fields = line.split(b" ")
        if len(fields) > 4:  # octal escapes (\040 for a space) as the kernel writes them
            found.add(fields[4].decode("unicode_escape").encode("latin-1").decode("utf-8", "surrogateescape"))
    return frozenset(found)


def mounted_refusal(path: Path) -> ToolError:
    return ToolError(f"{display(path)} is another file mounted over this name (a bind mount); llmos does not "
                     "read, copy or change it.")


def linked_refusal(path: Path, st: os.stat_result) -> ToolError:
    return ToolError(f"{display(path)} has {st.st_nlink} names (hard links); llmos cannot tell whether another of "
                     "them is a credential or a start-up file, so it does not read, copy or change this file. "
                     "Make a plain copy yourself if it is safe (cp), or remove the other names.")


def kind_of(st: os.stat_result) -> str:
    mode = st.st_mode
    for test, name in ((stat_module.S_ISFIFO, "a named pipe (FIFO)"), (stat_module.S_ISSOCK, "a socket"),
                       (stat_module.S_ISCHR, "a character device"), (stat_module.S_ISBLK, "a block device"),
                       (stat_module.S_ISDIR, "a folder"), (stat_module.S_ISLNK, "a symbolic link")):
        if test(mode):
            return name
    return "a file"


def _refused(path: Path, exc: OSError) -> ToolError:
    if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
        return ToolError(f"{display(path)} changed into a symbolic link while llmos was using it; refusing it.")
    if exc.errno in (errno.ENXIO, errno.EOPNOTSUPP):  # a socket, or a FIFO nobody reads
        try:
            what = kind_of(path.lstat())
        except OSError:
            what = "a special file"
        return ToolError(f"{display(path)} is {what}, not a regular file; llmos does not open it.")
    if exc.errno == errno.ENOENT:
        return ToolError(f"No such file or folder: {display(path)}")
    return ToolError(f"Cannot open {display(path)}: {(exc.strerror or str(exc)).lower()}.")


@contextlib.contextmanager
def open_folder(sandbox: Sandbox, folder: Path) -> Iterator[int]:
    """A descriptor for ``folder`` (absolute, already resolved), reached without following any symlink."""
    fd = os.open("/", _DIR_FLAGS)
    try:
        for part in folder.parts[1:]:
            try:
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                raise _refused(folder, exc) from None
            os.close(fd)
            fd = child
            if sandbox.is_secret_identity(os.fstat(fd)):  # a bind mount of a secret folder
                raise ToolError(f"{display(folder)} holds credentials; llmos does not read or change it.")
        yield fd
    finally:
        os.close(fd)


@contextlib.contextmanager
def open_file(sandbox: Sandbox, path: Path, flags: int, mode: int = 0o666) -> Iterator[int]:
    """A descriptor for the regular file ``path``, opened without following symlinks or blocking; refuses
    special files and secrets by identity."""
    with open_folder(sandbox, path.parent) as parent:
        try:
            fd = os.open(path.name, flags | _FILE_FLAGS, mode, dir_fd=parent)
        except OSError as exc:
            raise _refused(path, exc) from None
    try:
        st = os.fstat(fd)
        if not stat_module.S_ISREG(st.st_mode):
            raise ToolError(f"{display(path)} is {kind_of(st)}, not a regular file; llmos does not open it.")
        if sandbox.is_secret_identity(st):
            raise ToolError(f"{display(path)} is the same file as a credential (a hard link); "
                            "llmos does not read or change it.")
        if other_names(st):
            raise linked_refusal(path, st)
        if str(path) in mount_points():
            raise mounted_refusal(path)
        yield fd
    finally:
        os.close(fd)


def read_capped(sandbox: Sandbox, path: Path, offset: int, limit: int) -> tuple[bytes, int]:
    """Up to ``limit`` bytes of ``path`` from ``offset``, and the file's size."""
    with open_file(sandbox, path, os.O_RDONLY) as fd:
        size = os.fstat(fd).st_size
        data = os.pread(fd, limit, offset)
    if any(marker in data for marker in PRIVATE_KEY_MARKERS):
        raise ToolError(f"{display(path)} holds a private key; llmos does not read it.")
    return data, size


def read_at_dir(sandbox: Sandbox, dir_fd: int, name: str, limit: int) -> bytes | None:
    """A whole file (at most ``limit`` bytes), opened from a walk's folder descriptor; None if it is not a
    plain, readable, non-secret regular file within the limit."""
    try:
        fd = os.open(name, os.O_RDONLY | _FILE_FLAGS, dir_fd=dir_fd)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat_module.S_ISREG(st.st_mode) or st.st_size > limit or other_names(st) or \
                sandbox.is_secret_identity(st):
            return None
        data = os.pread(fd, limit + 1, 0)
    except OSError:
        return None
    finally:
        os.close(fd)
    if len(data) > limit or any(marker in data for marker in PRIVATE_KEY_MARKERS):
        return None
    return data


def write_new(sandbox: Sandbox, path: Path, data: bytes) -> None:
    """Create ``path`` with ``data``; it must not exist (not even as a dangling symlink)."""
    try:
        with open_file(sandbox, path, os.O_WRONLY | os.O_CREAT | os.O_EXCL) as fd:
            _write_all(fd, data)
    except ToolError:
        raise
    except FileExistsError:
        raise ToolError(f"{display(path)} already exists; use write_file to replace it.") from None


def write_over(sandbox: Sandbox, path: Path, data: bytes, append: bool = False) -> None:
    """Replace (or add to) the content of the existing regular file ``path``, in place."""
    with open_file(sandbox, path, os.O_WRONLY | (os.O_APPEND if append else os.O_TRUNC)) as fd:
        _write_all(fd, data)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    os.fsync(fd)


def copy_file(sandbox: Sandbox, source: Path, destination: Path, limit: int) -> int:
    """Copy one regular file (refusing special files and secrets, never following a symlink) to a new
    ``destination``; returns the bytes copied."""
    with open_file(sandbox, source, os.O_RDONLY) as src:
        st = os.fstat(src)
        if st.st_size > limit:
            raise ToolError(f"{display(source)} is {st.st_size:,} bytes; llmos copies at most {limit:,}.")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        dst = os.open(destination, flags, stat_module.S_IMODE(st.st_mode))
        try:
            copied = 0
            while block := os.read(src, 1 << 20):
                copied += len(block)
                if copied > limit:
                    raise ToolError(f"{display(source)} grew past {limit:,} bytes while copying.")
                _write_all(dst, block)
            os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))
        finally:
            os.close(dst)
    return copied
