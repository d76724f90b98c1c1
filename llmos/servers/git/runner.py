"""Running the real `git`: never a prompt, never a pager, never a program the repository names, a timeout
that kills the whole process group (ssh included), English messages so failures can be recognised."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path

from llmos.servers import common
from llmos.servers.common import ToolError
from llmos.servers.git import policy

NO_GIT = "git is not installed (the git program was not found on PATH)."
# No prompt may ever block a tool: no editor, no terminal prompt, no askpass helper (an empty GIT_ASKPASS
# also stops git falling back to SSH_ASKPASS); the editors are `true`, so nothing waits for a person.
QUIET_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "SSH_ASKPASS_REQUIRE": "never",
             "GIT_EDITOR": "true", "GIT_SEQUENCE_EDITOR": "true", "GIT_MERGE_AUTOEDIT": "no",
             "GIT_PAGER": "cat", "PAGER": "cat", "GIT_PROTOCOL_FROM_USER": "0", "LC_ALL": "C", "LANGUAGE": "C",
             # The person's own git-lfs (a filter in their config) downloads nothing on checkout, so a
             # repository's .lfsconfig (lfs.url) cannot make a checkout reach a URL.
             "GIT_LFS_SKIP_SMUDGE": "1"}

Settings = Sequence[tuple[str, str]]
# Local commands get a limit too, so nothing (a stuck lock, a huge tree on a dead network mount) can hold a
# tool call forever; network commands get servers.git.network_timeout instead.
LOCAL_TIMEOUT_S = 300.0


def environment(settings: Settings) -> dict[str, str]:
    """The environment carrying ``settings`` as command-scope config (GIT_CONFIG_KEY_n/VALUE_n keep a key
    and its value apart even when a hostile subsection name holds an '='), after any the person set."""
    env = {**os.environ, **QUIET_ENV}
    first = env.get("GIT_CONFIG_COUNT", "0")
    first_n = int(first) if first.isdigit() else 0
    for n, (key, value) in enumerate(settings, first_n):
        env[f"GIT_CONFIG_KEY_{n}"] = key
        env[f"GIT_CONFIG_VALUE_{n}"] = value
    env["GIT_CONFIG_COUNT"] = str(first_n + len(settings))
    return env


def run(cwd: str | Path, args: Sequence[str], settings: Settings,
        timeout: float | None = None) -> tuple[int, str, str]:
    """Run git in ``cwd``: (exit status, stdout, stderr). Never raises for a failing git command; ``timeout``
    is for commands that talk to a remote."""
    if args and args[0] in policy.NETWORK_COMMANDS:  # the only commands that may use a transport
        settings = (*settings, *policy.TRANSPORTS)
    if args and args[0] in policy.DIFF_COMMANDS:  # a patch is git's own, never a program's view of a file
        args = [args[0], *policy.DIFF_OPTIONS, *args[1:]]
    try:
        # A session of its own has no controlling terminal, so not even ssh can open /dev/tty to ask.
        process = subprocess.Popen(["git", "--no-pager", *args], cwd=cwd, env=environment(settings),
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   start_new_session=True)
    except FileNotFoundError as exc:
        raise ToolError(NO_GIT) from exc
    except OSError as exc:
        raise ToolError(common.sentence(exc, "Cannot run git")) from exc
    try:
        out, err = process.communicate(timeout=LOCAL_TIMEOUT_S if timeout is None else timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        why = "it did not finish in time" if timeout is None else "the remote did not answer in time"
        raise ToolError(f"git {args[0]} gave up after {LOCAL_TIMEOUT_S if timeout is None else timeout:g} "
                        f"seconds: {why}.") from None
    except BaseException:
        _kill_group(process)
        raise
    return process.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(OSError):  # already gone
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


def clean(text: str) -> str:
    """git's message without hints and "fatal:" prefixes, on one line."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("hint:")]
    return " ".join(ln.removeprefix("fatal: ").removeprefix("error: ") for ln in lines)[:800]


def failure(args: Sequence[str], status: int, out: str, err: str) -> ToolError:
    message = clean(err) or clean(out) or f"git {args[0]} failed (exit status {status})."
    if "tell me who you are" in message or "empty ident" in message:
        message = ("git does not know who you are: set a name and e-mail first (git config --global "
                   "user.name 'Your Name'; git config --global user.email you@example.com).")
    return ToolError(message)


def lines(out: str) -> list[str]:
    """The entries of a -z (NUL-separated) listing."""
    return [item for item in out.split("\0") if item]
