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
does not know yet fails closed. Files a repository includes are read whatever their `includeIf` condition
says (repository.py), since a condition false now may be true for a git process started later.

Three rules hold whatever the keys: only NETWORK_COMMANDS may use a transport (a read-only tool never starts
a fetch — a partial clone's lazy fetch would run the remote's upload-pack); signing and verifying (gpg,
gpgsm, ssh-keygen) happen only where the person's own config asks for them; and every patch is made with
DIFF_OPTIONS, so no diff driver's program sees a file.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from pathlib import Path

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

# The only git commands that may reach another repository. Every other command runs with no transport at
# all: a read-only tool must not start one behind the person's back (a partial clone's lazy fetch runs the
# remote's upload-pack program, or connects to the repository's promisor host, from a mere `git show`).
NETWORK_COMMANDS = frozenset({"clone", "fetch", "pull", "push"})
# Commands that may show a patch, and the options that keep diff drivers' programs (textconv, command,
# diff.external) out of it, whatever the repository's attributes name.
DIFF_COMMANDS = frozenset({"diff", "show", "log"})
DIFF_OPTIONS = ("--no-textconv", "--no-ext-diff")
# Known transports, each turned off for local commands (the person's own `protocol.*.allow` included).
_ALL_PROTOCOLS = (*ALLOWED_PROTOCOLS, "http", "ext", "fd")
# Added last for NETWORK_COMMANDS (runner.py), so nothing a repository says comes after it.
TRANSPORTS: tuple[tuple[str, str], ...] = tuple((f"protocol.{name}.allow", "always") for name in ALLOWED_PROTOCOLS)

# Always in force, whatever the repository says.
STATIC: tuple[tuple[str, str], ...] = (
    ("core.fsmonitor", "false"),
    ("core.pager", "cat"),
    ("core.editor", "true"),
    ("sequence.editor", "true"),
    ("protocol.allow", "never"),
    *((f"protocol.{name}.allow", "never") for name in _ALL_PROTOCOLS),
    # Submodules are other repositories, with URLs and configs nobody here vetted: never fetched on the side.
    ("submodule.recurse", "false"),
    ("fetch.recurseSubmodules", "false"),
    ("push.recurseSubmodules", "no"),
    # A patch of a submodule is its commit ids, never its files' lines (their secrets are not checked here).
    ("diff.submodule", "short"),
    # No background work after a command: automatic gc and maintenance (which run hooks such as
    # pre-auto-gc, repacks and, for maintenance, fetches), a detached gc outliving the tool call, or gc in a
    # local remote after a push.
    ("gc.auto", "0"),
    ("gc.autoDetach", "false"),
    ("maintenance.auto", "false"),
    ("receive.autogc", "false"),
    ("fetch.writeCommitGraph", "false"),
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
    ("diff", "*", "textconv"): "",  # fails rather than runs, where DIFF_OPTIONS do not reach
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
    ("protocol", "*", "allow"): "never",  # network commands get TRANSPORTS after these
    # Signing and verifying run gpg / ssh-keygen / gpgsm (and gpg-agent's pinentry) with the person's keys:
    # only the person's own config may ask for that.
    ("commit", "", "gpgsign"): None,
    ("tag", "", "gpgsign"): None,
    ("tag", "", "forcesignannotated"): None,
    ("push", "", "gpgsign"): None,
    ("log", "", "showsignature"): None,
    ("merge", "", "verifysignatures"): None,
    ("pull", "", "verifysignatures"): None,
    # A lazy fetch from a promisor remote (and any fetch or push git starts on its own) runs these on this
    # machine for a local remote; the command line names them for llmos's own pulls and pushes (remote.py).
    ("remote", "*", "uploadpack"): "git-upload-pack",
    ("remote", "*", "receivepack"): "git-receive-pack",
    # Writes a cookie jar wherever the repository says (~/.bashrc…) with what a server sends.
    ("http", "", "savecookies"): "false",
    ("http", "*", "savecookies"): "false",
}
_DEFAULTS = {"core.sshcommand": "ssh", "gpg.program": "gpg", "gpg.openpgp.program": "gpg",
             "gpg.x509.program": "gpgsm", "gpg.ssh.program": "ssh-keygen", "commit.gpgsign": "false",
             "tag.gpgsign": "false", "tag.forcesignannotated": "false", "push.gpgsign": "false",
             "log.showsignature": "false", "merge.verifysignatures": "false", "pull.verifysignatures": "false"}
# Lists that an empty value resets; the person's own entries are then added back.
_LISTS = {("credential", "", "helper"), ("credential", "*", "helper")}
# Name a program and have no harmless value that -c could give.
_REFUSED = {("core", "", "gitproxy"), ("remote", "*", "vcs"), ("hook", "*", "command")}
# Read only by commands llmos never runs (send-email, web--browse, help, difftool, mergetool, aliases,
# gui), or ignored by git itself outside the person's own files (uploadpack.packObjectsHook).
_INERT_SECTIONS = {"sendemail", "browser", "web", "man", "help", "difftool", "mergetool", "alias",
                   "instaweb", "gui", "guitool", "citool", "imap", "interactive"}
_INERT = {("uploadpack", "", "packobjectshook")}
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
    origin: str = ""  # the file it is in, as git names it (relative to where git ran), if known


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
    """`git config --list -z --show-origin [--show-scope]`: records of `[scope NUL] origin NUL key LF value NUL`."""
    tokens, entries = iter(out.split("\0")), []
    for token in tokens:
        if not token:
            continue
        where = scope or token
        origin = next(tokens, "") if not scope else token
        record = next(tokens, "")
        key, newline, value = record.partition("\n")
        entries.append(Entry(where, key, value if newline else None, origin.removeprefix("file:")))
    return entries


def included_files(entries: list[Entry], cwd: str, home: str) -> list[str]:
    """The files untrusted ``entries`` include — `include.path` and every `includeIf.<condition>.path`,
    whatever the condition: one that does not hold now (another branch, another folder, a remote's own
    repository) may hold for a git process llmos starts later, so their settings are overridden in advance."""
    found = []
    for e in entries:
        lowered = e.key.lower()
        if e.scope in TRUSTED_SCOPES or not e.value or not (
                lowered == "include.path" or (lowered.startswith("includeif.") and lowered.endswith(".path"))):
            continue
        value = e.value
        if value.startswith("~/"):
            value = home + value[1:]
        elif not value.startswith("/"):  # relative to the file holding the directive
            value = str(Path(cwd, e.origin or ".").parent / value)
        found.append(value)
    return found


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
