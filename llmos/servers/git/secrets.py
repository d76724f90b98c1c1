"""Credentials in a repository: the filesystem server's deny-list, applied to what git shows and stages.

The rules are the filesystem server's own (`Sandbox.is_secret`: a secret folder, a name like `.env`, `id_rsa`,
`*.pem` in NFC/NFD or any case, or the same file — device and inode — as a credential), plus its rule that a
file with several names or mounted over its name is never opened for its content (`safe_io`). A secret's
name may appear in a git tool's answer; its content never does:

- a patch (git_diff, git_show) leaves every secret file out with exclude pathspecs built from the listing,
  and the patch text is checked again afterwards, file by file, for secret names and private-key text;
- git_add never stages a secret (exclude pathspecs, then a check of the index), and git_commit refuses while
  one is staged or `all` would stage one; git_stash_push refuses while a change it would record is one.

A name git prints that is not UTF-8 cannot be matched by spelling, so it is withheld too.
"""

from __future__ import annotations

import codecs
import os
import re
import stat as stat_module
from collections.abc import Iterable
from pathlib import Path

from llmos.servers.filesystem.safe_io import PRIVATE_KEY_MARKERS, mount_points, other_names
from llmos.servers.git.runner import lines
from llmos.servers.sandbox import Sandbox

_MARKERS = tuple(m.decode() for m in PRIVATE_KEY_MARKERS)
_DIFF_STARTS = ("diff --git ", "diff --cc ", "diff --combined ")
_HEADER_PREFIXES = (*_DIFF_STARTS, "--- ", "+++ ", "rename from ", "rename to ", "copy from ", "copy to ")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_GLOB_SPECIAL = re.compile(r"([*?\[\\])")


class Withholding:
    """Which paths of one repository (relative to its root, as git prints them) are secrets."""

    def __init__(self, sandbox: Sandbox, root: str) -> None:
        self.sandbox, self.root = sandbox, root
        self._mounts: frozenset[str] | None = None

    def is_secret(self, rel: str) -> bool:
        if "\ufffd" in rel:  # not UTF-8: an exclusion by spelling would miss it
            return True
        if any(self.sandbox.is_secret_name(part) for part in rel.split("/") if part):
            return True
        path = Path(self.root, rel)
        try:
            st = path.lstat()
        except OSError:  # only in history, or deleted: its name and folder are all there is
            return self.sandbox.is_secret(Path(os.path.realpath(path.parent)) / path.name)
        if stat_module.S_ISLNK(st.st_mode):  # a link into a credential folder
            return self.sandbox.is_secret(Path(os.path.realpath(path)))
        if self.sandbox.is_secret(path, st) or other_names(st):
            return True
        if self._mounts is None:
            self._mounts = mount_points()
        return str(path) in self._mounts

    def secrets(self, groups: Iterable[list[str]]) -> list[str]:
        """Every name of every change that has a secret side: a rename from `.env` withholds both names."""
        found: list[str] = []
        for names in groups:
            if any(self.is_secret(n) for n in names):
                found += [n for n in names if n not in found]
        return found

    def section_is_secret(self, section: str) -> bool:
        """The post-check of one file's part of a patch: a secret name in its headers, or private-key text."""
        if any(marker in section for marker in _MARKERS):
            return True
        for line in section.split("\n"):
            if line.startswith(("@@", "Binary files ")):
                break
            if line.startswith(_HEADER_PREFIXES):
                for name in header_names(line):
                    if any(self.sandbox.is_secret_name(piece) for piece in re.split(r"[/ \t]", name) if piece):
                        return True
        return False

    def filter_patch(self, text: str) -> tuple[str, int]:
        """``text`` without the parts about secret files, and how many parts were left out."""
        kept, dropped = [], 0
        for section in re.split(r"(?m)^(?=diff --(?:git|cc|combined) )", text):
            if section.startswith(_DIFF_STARTS) and self.section_is_secret(section):
                dropped += 1
            else:
                kept.append(section)
        return "".join(kept), dropped


def header_names(line: str) -> list[str]:
    """The file names a patch header line holds, unquoted (git quotes unusual names C-style)."""
    rest = next((line[len(p):] for p in _HEADER_PREFIXES if line.startswith(p)), line)
    quoted = _QUOTED.findall(rest)
    if quoted:
        return [unquote(q) for q in quoted]
    return [rest]


def unquote(text: str) -> str:
    raw = codecs.escape_decode(text.encode("utf-8"))[0]
    return raw.decode("utf-8", "replace")


def exclusions(names: Iterable[str]) -> list[str]:
    """Pathspecs that leave ``names`` out; a name with an undecodable part is left out by a glob."""
    specs = []
    for name in names:
        if "\ufffd" in name:
            pattern = "*".join(_GLOB_SPECIAL.sub(r"\\\1", part) for part in re.split("\ufffd+", name))
            specs.append(f":(exclude,glob){pattern}")
        else:
            specs.append(f":(exclude,literal){name}")
    return specs


def change_groups(out: str) -> list[list[str]]:
    """`--name-status -z` output as the names of each change: [path], or [old, new] for renames and copies."""
    tokens, groups = iter(lines(out)), []
    for code in tokens:
        count = 2 if code.strip()[:1] in ("R", "C") else 1
        groups.append([next(tokens, "") for _ in range(count)])
    return groups


def withheld_note(count: int) -> str:
    return (f"{count} secret file(s) withheld: credentials (by name, folder or identity) are never shown; "
            "their names may be listed, their content is not.") if count else ""
