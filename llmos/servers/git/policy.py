"""What a repository may make git run: nothing.

A repository's own configuration (.git/config, config.worktree, files it includes, submodules' configs) is
written by whoever made the repository, so every key there that names a program is overridden before git
runs: git reads the "command" scope (GIT_CONFIG_COUNT, passed on to every git process git itself starts,
including the receive-pack of a local remote) after the repository's, so the override wins. Keys of the
same kinds in the system and global files are the person's (or the administrator's) and are kept: that is
why GIT_CONFIG_NOSYSTEM is not set — /etc/gitconfig is root's, and root needs no trick to run code.

Keys are handled in three ways, as data below: neutralised (overridden with a value that runs nothing,
or the person's own value of that key), inert (read only by git commands llmos never runs), or refused
(names a program and has no harmless value: the tool call fails with a message naming the key). A key that
merely looks like it names a program and is in none of the tables is refused too, so a key this table
does not know yet fails closed.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass

from llmos.servers.common import ToolError

# Where hooks are looked for when they are off: not a directory, so no hook is ever found.
HOOKS_OFF = "/dev/null"
# The transports a URL may use. `ext::` runs a command, `fd::` and remote helpers (`foo::`) run programs
# found on PATH; plain http is left out too (nothing should travel unencrypted).
ALLOWED_PROTOCOLS = ("https", "ssh", "git", "file")
# Scopes whose values are the person's, not the repository's.
TRUSTED_SCOPES = frozenset({"system", "global", "command"})
# git's own three-way file merge, standing in for a repository's custom merge driver.
MERGE_FILE = "git merge-file --marker-size=%L %A %O %B"

# Always in force, whatever the repository says.
STATIC: tuple[tuple[str, str], ...] = (
    ("core.fsmonitor", "false"),
    ("core.pager", "cat"),
    ("core.editor", "true"),
    ("sequence.editor", "true"),
    ("protocol.allow", "never"),
    *((f"protocol.{name}.allow", "always") for name in ALLOWED_PROTOCOLS),
    ("protocol.ext.allow", "never"),
    ("protocol.fd.allow", "never"),
    # Submodules are other repositories, with URLs and configs nobody here vetted: never fetched on the side.
    ("submodule.recurse", "false"),
    ("fetch.recurseSubmodules", "false"),
    ("push.recurseSubmodules", "no"),
)
HOOKS = (("core.hooksPath", HOOKS_OFF),)

# (section, subsection, variable) -> harmless value. Subsection "*" is any subsection, "" none; variable
# "*" any variable. Values of None mean: the person's own value of the key if they have one, else the
# value given in _DEFAULTS.
_NEUTRAL: dict[tuple[str, str, str], str | None] = {
    ("core", "", "fsmonitor"): "false",
    ("core", "", "hookspath"): HOOKS_OFF,
    ("core", "", "sshcommand"): None,
    ("core", "", "askpass"): "",
    ("core", "", "editor"): "true",
    ("core", "", "pager"): "cat",
    ("core", "", "alternaterefscommand"): "",
    ("sequence", "", "editor"): "true",
    ("pager", "", "*"): "false",
    ("diff", "", "external"): "",  # every patch llmos asks for also passes --no-ext-diff
    ("diff", "*", "command"): "",
    ("diff", "*", "textconv"): "cat",
    ("filter", "*", "clean"): "",
    ("filter", "*", "smudge"): "",
    ("filter", "*", "process"): "",
    ("filter", "*", "required"): "false",
    ("merge", "*", "driver"): MERGE_FILE,
    ("gpg", "", "program"): None,
    ("gpg", "*", "program"): None,
    ("gpg", "ssh", "defaultkeycommand"): "",
    ("submodule", "*", "update"): "checkout",
    ("protocol", "", "allow"): "never",
    ("protocol", "*", "allow"): "never",  # "always" for ALLOWED_PROTOCOLS, see _neutralise
}
_DEFAULTS = {"core.sshcommand": "ssh", "gpg.program": "gpg", "gpg.openpgp.program": "gpg",
             "gpg.x509.program": "gpgsm", "gpg.ssh.program": "ssh-keygen"}
# Lists that an empty value resets; the person's own entries are then added back.
_LISTS = {("credential", "", "helper"), ("credential", "*", "helper")}
# Name a program and have no harmless value that -c could give.
_REFUSED = {("core", "", "gitproxy"), ("remote", "*", "vcs"), ("hook", "*", "command")}
# Read only by commands llmos never runs (send-email, web--browse, help, difftool, mergetool, aliases,
# gui), or ignored by git itself outside the person's own files (uploadpack.packObjectsHook).
_INERT_SECTIONS = {"sendemail", "browser", "web", "man", "help", "difftool", "mergetool", "alias",
                   "instaweb", "gui", "guitool", "citool"}
# remote.<name>.uploadpack/receivepack run on the remote's machine; for a remote on this one, pull and push
# name the program on their command line instead (see remote.py), which git prefers to these keys.
_INERT = {("uploadpack", "", "packobjectshook"), ("remote", "*", "uploadpack"), ("remote", "*", "receivepack")}
# Variable names that suggest a program; an unknown key ending in one of them is refused.
_SUSPECT = ("command", "cmd", "program", "driver", "helper", "hook", "editor", "pager", "textconv",
            "askpass", "process", "clean", "smudge", "external", "proxy", "exec", "script", "tool")
_NOT_PROGRAMS = {("http", "", "proxy"), ("http", "*", "proxy"), ("remote", "*", "proxy"),
                 ("https", "", "proxy"), ("core", "", "untrackedcache"), ("merge", "", "tool"),
                 ("diff", "", "tool"), ("diff", "", "guitool"), ("merge", "", "guitool")}


@dataclass(frozen=True)
class Entry:
    scope: str
    key: str  # as git prints it: section and variable lower-case, subsection as written
    value: str | None  # None for a bare boolean key ("[core] fsmonitor")


def split(key: str) -> tuple[str, str, str]:
    section, _, rest = key.partition(".")
    sub, _, variable = rest.rpartition(".")
    return section.lower(), sub, variable.lower()


def _lookup(table: Container[tuple[str, str, str]], section: str, sub: str,
            variable: str) -> tuple[str, str, str] | None:
    for probe in ((section, sub, variable), (section, "*" if sub else "", variable),
                  (section, "*" if sub else "", "*")):
        if probe in table:
            return probe
    return None


def parse_listing(out: str, scope: str | None = None) -> list[Entry]:
    """`git config --list -z [--show-scope]`: records of `[scope NUL] key LF value NUL`."""
    tokens, entries = iter(out.split("\0")), []
    for token in tokens:
        if not token:
            continue
        where = scope or token
        record = token if scope else next(tokens, "")
        key, newline, value = record.partition("\n")
        entries.append(Entry(where, key, value if newline else None))
    return entries


def overrides(entries: list[Entry], where: str) -> list[tuple[str, str]]:
    """The command-scope settings that stop the untrusted ``entries`` from running anything; ``where``
    names the repository in a refusal."""
    trusted: dict[str, list[str]] = {}
    for e in entries:
        if e.scope in TRUSTED_SCOPES and e.value is not None:
            trusted.setdefault(e.key.lower(), []).append(e.value)
    result: list[tuple[str, str]] = []
    done: set[str] = set()
    for e in entries:
        if e.scope in TRUSTED_SCOPES or e.key in done:
            continue
        done.add(e.key)
        result += _neutralise(e.key, trusted.get(e.key.lower(), []), where)
    return result


def _neutralise(key: str, mine: list[str], where: str) -> list[tuple[str, str]]:
    section, sub, variable = split(key)
    if _lookup(_LISTS, section, sub, variable):
        return [(key, "")] + [(key, value) for value in mine]
    probe = _lookup(_NEUTRAL, section, sub, variable)
    if probe is not None:
        value = _NEUTRAL[probe]
        if section == "protocol" and sub:
            value = "always" if sub.lower() in ALLOWED_PROTOCOLS else "never"
        if value is None:
            value = mine[-1] if mine else _DEFAULTS.get(key.lower(), _DEFAULTS.get(f"{section}.{variable}", ""))
        return [(key, value)]
    if section in _INERT_SECTIONS or _lookup(_INERT, section, sub, variable):
        return []
    if _lookup(_REFUSED, section, sub, variable) or (
            variable.endswith(_SUSPECT) and not _lookup(_NOT_PROGRAMS, section, sub, variable)):
        raise ToolError(f"{where} sets {key}, which can make git run a program; llmos does not run programs "
                        "a repository names. Remove that setting (git config --unset), or, if you trust "
                        "this repository, list it in servers.git.allow_hooks (its hooks and settings then run).")
    return []
