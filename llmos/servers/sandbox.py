"""Where the filesystem server may look and write, what it never reads, and what it never changes unasked.

Every path is resolved (``~``, ``..``, symlinks, relative to the working directory) before it is checked,
so a check is about the real target, never about how the path was spelled. Deny checks (secrets,
protected and code-later paths) compare NFC-normalised, case-folded spellings: over-matching a deny list
is safe, and case-insensitive filesystems (or an NFD name from macOS) cannot slip past it.
"""

from __future__ import annotations

import difflib
import fnmatch
import os
import stat as stat_module
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from mcp.server.mcpserver.exceptions import ToolError

from llmos import paths as llmos_paths
from llmos.paths import display

# ---- the lists, as data ----------------------------------------------------------------------------------

# Never written without an explicit config allow (servers.filesystem.allow_write).
DEFAULT_PROTECTED = ("~/.ssh", "~/.gnupg", "/etc", "/")
# Never read, listed, searched or copied (servers.filesystem.secret adds more): credentials that a read could
# put in a cloud model's prompt, and from there anywhere.
DEFAULT_SECRET = (
    "~/.ssh", "~/.gnupg", "~/.aws", "~/.password-store", "~/.netrc", "~/.git-credentials",
    "~/.config/gh/hosts.yml", "~/.docker/config.json", "~/.config/gcloud", "~/.azure", "~/.kube/config",
    "~/.local/share/keyrings", "~/.pki", "~/.vault-token", "~/.config/op", "~/.pypirc", "~/.pgpass",
)
# Secret by name, wherever they are (servers.filesystem.secret_patterns adds more). Matched against the
# case-folded name; `id_*` without a dot catches private keys (id_rsa, id_work) but not id_map.py.
DEFAULT_SECRET_PATTERNS = (
    ".netrc", "_netrc", ".git-credentials", ".env", ".env.*", "*.pem", "*.key", "*.p12", "*.pfx",
    "id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*", "id_xmss*",
    "cookies", "cookies-journal", "cookies.sqlite", "login data", "login data-journal", "logins.json",
    "key3.db", "key4.db", "signons.sqlite", "*.keyring", "*.kdbx",
)
_SECRET_PATTERN_NO_DOT = "id_*"  # id_<anything without a dot>, except public keys
# Endings some default pattern has: any other lower-case dotted name skips the pattern matching (fast path).
_SUSPECT_SUFFIXES = (".pem", ".key", ".p12", ".pfx", ".keyring", ".kdbx", ".sqlite", ".db", ".json")
# Writing here makes code run later (a shell start-up file, an autostart entry, a PATH folder, git config…),
# so the additive tools refuse them and only the tools that ask may change them (servers.filesystem.code_later
# adds more). Home-relative; XDG variables are added below.
DEFAULT_CODE_LATER = (
    "~/.bashrc", "~/.bash_profile", "~/.bash_login", "~/.bash_logout", "~/.profile", "~/.zshrc", "~/.zshenv",
    "~/.zprofile", "~/.zlogin", "~/.zlogout", "~/.cshrc", "~/.tcshrc", "~/.kshrc", "~/.mkshrc", "~/.config/fish",
    "~/.xprofile", "~/.xinitrc", "~/.xsession", "~/.xsessionrc", "~/.pam_environment", "~/.config/environment.d",
    "~/.gitconfig", "~/.config/git", "~/.config/autostart", "~/.local/share/applications", "~/.config/systemd",
    "~/.local/share/systemd", "~/.ssh", "~/.local/bin", "~/bin", "~/.local/lib", "~/.cargo/bin", "~/go/bin",
    "~/.mozilla", "~/.config/google-chrome", "~/.config/chromium", "~/.config/BraveSoftware",
    "~/.config/microsoft-edge", "~/.config/vivaldi", "~/.config/opera", "~/snap/firefox", "~/snap/chromium",
    "~/.vimrc", "~/.vim", "~/.config/nvim", "~/.emacs", "~/.emacs.d", "~/.config/emacs", "~/.tmux.conf",
    "~/.config/tmux", "~/.screenrc", "~/.direnvrc", "~/.config/direnv", "~/.pythonrc", "~/.npmrc",
    "/etc", "/var/spool/cron",
)
# Names that run code later wherever they are: a repository's hooks and config, direnv's .envrc.
_CODE_LATER_COMPONENTS = (".git",)
_CODE_LATER_NAMES = (".envrc",)
_XDG_CODE_LATER = {"XDG_CONFIG_HOME": ("autostart", "systemd", "environment.d", "git", "fish", "nvim"),
                   "XDG_DATA_HOME": ("applications", "systemd")}
# "/" protects only itself (nobody means to write the root directory); the rest protect their subtree.
_EXACT_ONLY = {Path("/")}
# How much of a secret folder is walked to learn its files' identities (device, inode).
_IDENTITY_WALK_LIMIT = 5000
_IDENTITY_TTL_S = 5.0
MEASURE_LIMIT = 200_000  # entries measure() visits before it stops counting (its result is then a lower bound)


def norm(text: str) -> str:
    """The spelling deny checks compare: NFC, case-folded."""
    return unicodedata.normalize("NFC", text).casefold()


def identity(st: os.stat_result) -> tuple[int, int]:
    return st.st_dev, st.st_ino


@dataclass
class Sandbox:
    roots: list[Path]
    protected: list[Path] = field(default_factory=list)
    secret: list[Path] = field(default_factory=list)
    allow_write: list[Path] = field(default_factory=list)
    secret_patterns: list[str] = field(default_factory=lambda: list(DEFAULT_SECRET_PATTERNS))
    code_later: list[Path] = field(default_factory=list)
    _identities: set[tuple[int, int]] = field(default_factory=set, repr=False)
    _identities_at: float = field(default=0.0, repr=False)
    _spellings: list[str] = field(default_factory=list, repr=False)

    @classmethod
    def from_settings(cls, settings: dict, cwd: Path | None = None) -> Sandbox:
        cwd = cwd or Path.cwd()

        def paths(key: str, default: Iterable[str], extend: bool = False) -> list[Path]:
            values = settings.get(key, [] if extend else list(default))
            if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
                from llmos.errors import ConfigError

                raise ConfigError(f"servers.filesystem.{key}: expected a list of paths")
            values = [*default, *values] if extend else values
            return [_real(Path(os.path.expanduser(v)) if v != "." else cwd) for v in values]

        patterns = settings.get("secret_patterns", [])
        if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
            from llmos.errors import ConfigError

            raise ConfigError("servers.filesystem.secret_patterns: expected a list of name patterns")
        # Secrets and code-later paths only grow from config: a setting can add to them, never remove.
        return cls(roots=paths("roots", ["~", "."]),
                   protected=paths("protected", DEFAULT_PROTECTED),
                   secret=paths("secret", DEFAULT_SECRET, extend=True),
                   allow_write=paths("allow_write", []),
                   secret_patterns=[*DEFAULT_SECRET_PATTERNS, *(norm(p) for p in patterns)],
                   code_later=paths("code_later", default_code_later(), extend=True))

    # ---- resolving a path the model gave ---------------------------------------------------------------

    def resolve(self, raw: str, *, write: bool = False, follow: bool = True) -> Path:
        """The real path ``raw`` names, or a ToolError saying why it may not be used. With ``follow=False``
        the last component is kept as named (a symlink stays the link), its folder resolved."""
        if not raw or not raw.strip():
            raise ToolError("No path was given.")
        if any(ord(c) < 32 for c in raw):
            raise ToolError("The path contains control characters; refusing it.")
        if raw.startswith("~") and not (raw == "~" or raw.startswith("~/")):
            raise ToolError(f"{raw}: paths in other users' home directories are not allowed.")
        path = self._check(raw, write, follow)
        # Look-alike characters (fullwidth ／, other compatibility forms) must not smuggle a path past the
        # check: the normalised spelling has to pass too.
        normalised = unicodedata.normalize("NFKC", raw)
        if normalised != raw:
            try:
                self._check(normalised, write, follow)
            except ToolError as exc:
                raise ToolError(f"{raw}: refused — it looks like {normalised!r}, which is not allowed "
                                f"({exc}).") from None
        return path

    def _check(self, raw: str, write: bool, follow: bool) -> Path:
        path = _real(Path(os.path.expanduser(raw))) if follow else _real_parent(Path(os.path.expanduser(raw)))
        if not any(_within(path, root) for root in self.roots):
            allowed = ", ".join(display(r) for r in self.roots)
            raise ToolError(f"{display(path)} is outside the folders llmos may use ({allowed}).")
        if self.is_secret(path):
            raise ToolError(f"{display(path)} holds credentials; llmos does not read or change it.")
        if write and self._protected(path):
            raise ToolError(f"{display(path)} is protected; llmos will not change it "
                            "(allow it with servers.filesystem.allow_write in the config).")
        return path

    def _protected(self, path: Path) -> bool:
        if any(_within(path, a) for a in self.allow_write):
            return False
        return any(_norm_within(path, p, exact=p in _EXACT_ONLY) for p in self.protected)

    # ---- secrets ---------------------------------------------------------------------------------------

    def is_secret(self, path: Path, st: os.stat_result | None = None) -> bool:
        """True for a credential: inside a secret folder, named like one, or the same file (device and inode:
        a hard link, a bind mount) as one. ``path`` is absolute; ``st`` its lstat, when the caller has it."""
        if self.is_secret_name(path.name):
            return True
        folded = norm(str(path))
        if any(folded == s or folded.startswith(s + "/") for s in self._secret_spellings()):
            return True
        if st is None:
            try:
                st = path.lstat()
            except OSError:
                return False
        return self.is_secret_identity(st)

    def _secret_spellings(self) -> list[str]:
        if len(self._spellings) != len(self.secret):
            self._spellings = [norm(str(p)).rstrip("/") for p in self.secret]
        return self._spellings

    def is_secret_name(self, name: str) -> bool:
        only_defaults = len(self.secret_patterns) == len(DEFAULT_SECRET_PATTERNS)
        if only_defaults and name.isascii() and name.islower() and "." in name and \
                not name.startswith((".", "id_")) and not name.endswith(_SUSPECT_SUFFIXES):
            return False  # the common case (report.pdf, main.py) without matching every default pattern
        folded = norm(name)
        if fnmatch.fnmatchcase(folded, _SECRET_PATTERN_NO_DOT) and "." not in folded:
            return True
        return not folded.endswith(".pub") and any(fnmatch.fnmatchcase(folded, p) for p in self.secret_patterns)

    def is_secret_identity(self, st: os.stat_result) -> bool:
        """The file or folder ``st`` describes is one of the secret ones, whatever its name or path here: a hard
        link (st_nlink > 1) to a key, a bind mount of ~/.ssh."""
        return identity(st) in self._secret_identities()

    def _secret_identities(self) -> set[tuple[int, int]]:
        """(device, inode) of every existing secret file and folder, recomputed every few seconds so a key
        created meanwhile is known too."""
        now = time.monotonic()
        if now - self._identities_at > _IDENTITY_TTL_S:
            self._identities = set(_identities_below(self.secret))
            self._identities_at = now
        return self._identities

    # ---- writes that run code later --------------------------------------------------------------------

    def runs_code_later(self, path: Path) -> bool:
        """Would creating or changing ``path`` (absolute, resolved) make code run later, unasked?"""
        parts = [norm(p) for p in path.parts]
        if any(c in parts for c in _CODE_LATER_COMPONENTS) or norm(path.name) in _CODE_LATER_NAMES:
            return True
        own = (llmos_paths.user_config_dir(), llmos_paths.state_dir(), llmos_paths.cache_dir(),
               llmos_paths.data_dir())
        return any(_norm_within(path, p) for p in [*self.code_later, *(_real(o) for o in own)])

    # ---- the floor: targets no flag may pre-approve ----------------------------------------------------

    def is_floor_target(self, path: Path) -> str | None:
        """Why deleting, moving or overwriting ``path`` must always be asked by name; None if it need not."""
        path = _real_parent(Path(os.path.expanduser(path)))
        home = _real(Path.home())
        if path == Path("/"):
            return "it is the root folder /"
        if _norm_within(home, path):
            return "it is your home folder" if path == home else f"it holds your home folder {display(home)}"
        for root in self.roots:
            if _norm_within(root, path):
                what = "it is" if path == root else "it holds"
                return f"{what} {display(root)}, a folder llmos is allowed to use"
        for kind, folders in (("a credential folder", self.secret), ("a protected folder", self.protected)):
            for folder in folders:
                if folder in _EXACT_ONLY:
                    continue
                if _norm_within(path, folder):
                    return f"it is inside {kind} ({display(folder)})" if path != folder else f"it is {kind}"
                if _norm_within(folder, path):
                    return f"it holds {kind} ({display(folder)})"
        return None

    def measure(self, path: Path, limit: int = MEASURE_LIMIT) -> tuple[int, int]:
        return measure(path, limit)


def measure(path: Path, limit: int = MEASURE_LIMIT) -> tuple[int, int]:
    """(files, bytes) below ``path``, not following symlinks; stops after ``limit`` entries, so a huge tree
    gives a lower bound quickly (files == limit means "at least")."""
    try:
        st = path.lstat()
    except OSError:
        return 0, 0
    if not stat_module.S_ISDIR(st.st_mode):
        return 1, st.st_size
    files = total = 0
    for _top, _dirs, names, dir_fd in os.fwalk(path, follow_symlinks=False):
        for name in names:
            try:
                total += os.lstat(name, dir_fd=dir_fd).st_size
            except OSError:
                continue
            files += 1
            if files >= limit:
                return files, total
    return files, total


def default_code_later() -> list[str]:
    extra = [str(Path(os.environ[var]) / sub) for var, subs in _XDG_CODE_LATER.items() if os.environ.get(var)
             for sub in subs]
    return [*DEFAULT_CODE_LATER, *extra]


def runs_code_later(path: Path, settings: dict | None = None) -> bool:
    """Module-level form for callers without a Sandbox (the gate): default lists plus ``settings``."""
    return Sandbox.from_settings(settings or {}).runs_code_later(_real_parent(path))


def is_floor_target(path: Path, settings: dict | None = None) -> str | None:
    return Sandbox.from_settings(settings or {}).is_floor_target(path)


def _identities_below(folders: Iterable[Path]) -> Iterable[tuple[int, int]]:
    for folder in folders:
        try:
            st = folder.stat()
        except OSError:
            continue
        yield identity(st)
        if not stat_module.S_ISDIR(st.st_mode):
            continue
        seen = 0
        for _top, _dirs, names, dir_fd in os.fwalk(folder, follow_symlinks=False):
            for name in [*_dirs, *names]:
                try:
                    yield identity(os.stat(name, dir_fd=dir_fd, follow_symlinks=False))
                except OSError:
                    continue
                seen += 1
            if seen > _IDENTITY_WALK_LIMIT:
                break


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _real_parent(path: Path) -> Path:
    """The folder resolved, the last component kept: a symlink names the link, not its target."""
    path = Path(os.path.abspath(path))
    if path.name in ("", ".", ".."):
        return _real(path)
    return _real(path.parent) / path.name


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _norm_within(path: Path, root: Path, exact: bool = False) -> bool:
    p, r = norm(str(path)), norm(str(root))
    return p == r or (not exact and p.startswith(r.rstrip("/") + "/"))


def not_found(path: Path) -> ToolError:
    """'No such file: ~/Dowloads — did you mean ~/Downloads?'"""
    missing = path
    while not missing.parent.exists() and missing.parent != missing:
        missing = missing.parent
    try:
        names = [entry.name for entry in os.scandir(missing.parent)]
    except OSError:
        names = []
    return ToolError(f"No such file or folder: {display(path)}{_suggestion(path, missing, names)}")


def _suggestion(path: Path, missing: Path, names: list[str]) -> str:
    """Measured on Qwen2.5-Coder-0.5B: a name pattern passed as a path (move("~/images/*.jpg", …)) gets
    the files it matches, one call each; then a close spelling of the first missing part; then the very
    name in the nearest folder that exists (delete("~/.Trash/junk") for ~/junk)."""
    if any(c in path.name for c in "*?["):
        matching = sorted(n for n in names if fnmatch.fnmatch(n.lower(), path.name.lower()))
        listed = ", ".join(display(missing.parent / n) for n in matching[:8]) + (" …" if len(matching) > 8 else "")
        return (f" — {path.name} is a pattern, and this tool takes one path: call it once for each of {listed}"
                if matching else f" — {path.name} is a pattern, and this tool takes one path")
    close = difflib.get_close_matches(missing.name, names, n=1, cutoff=0.6)
    if close:
        return f" — did you mean {display(missing.parent / close[0] / path.relative_to(missing))}?"
    if path.name in names and missing.parent / path.name != path:
        return f" — did you mean {display(missing.parent / path.name)}?"
    return ""
