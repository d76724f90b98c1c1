"""`!command` lines: run in the user's shell, destructive-looking ones confirmed first."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llmos.agent.host import ToolInfo

# Commands that delete, overwrite, move, kill, push, install or change settings.
_DESTRUCTIVE = re.compile(
    r"(^|[;&|]\s*|\bsudo\s+)(rm|rmdir|mv|dd|mkfs\S*|shred|kill|pkill|killall|chmod|chown|truncate|reboot|shutdown|"
    r"poweroff|systemctl\s+(stop|disable|mask|restart)|apt(-get)?\s+(install|remove|purge)|dnf\s+(install|remove)|"
    r"pip\s+(install|uninstall)|npm\s+(install|uninstall)|git\s+(push|reset|clean|checkout\s+--|restore|branch\s+-D)|"
    r"crontab\s+-r|gsettings\s+set|dconf\s+write)\b"
    r"|(^|[^>&2])>\s*[^>&\s]"  # redirecting output over a file
    , re.I)


def looks_destructive(command: str) -> bool:
    return bool(_DESTRUCTIVE.search(command))


def shell_tool(command: str) -> ToolInfo:
    """The `!` escape as the gate sees it: the tool shell.run, destructive when the command looks it.
    Never read-only: llmos cannot know what a command does, so a dry run runs none."""
    from llmos.agent.host import ToolInfo

    destructive = looks_destructive(command)
    return ToolInfo("shell", "run", "shell.run", "Run a command in the user's shell.",
                    {"type": "object", "properties": {"command": {"type": "string"}}},
                    {"readOnlyHint": False, "destructiveHint": destructive}, True, True,
                    {"llmos/reversible": False, "llmos/reads_content": True,  # its output may be any file's
                     "llmos/paths": _words(command) if destructive else []})


def _words(command: str) -> list[str]:
    """The words of a command that may name files (what the floor checks: `rm -rf ~` names the home folder)."""
    try:
        words = shlex.split(command)
    except ValueError:  # an unbalanced quote: the shell will complain; judge the raw words
        words = command.split()
    home = os.path.expanduser("~")
    return [w.replace("$HOME", home).replace("${HOME}", home) for w in words[1:] if w and not w.startswith("-")]


@dataclass
class ShellResult:
    command: str
    status: int
    output: str  # stdout and stderr interleaved, capped

    def as_context(self, limit: int = 4000) -> str:
        text = self.output if len(self.output) <= limit else self.output[:limit] + "\n[… output cut]"
        return f"Output of `{self.command}` (exit status {self.status}):\n```\n{text}\n```"


async def run_shell(command: str, cap_bytes: int = 200_000) -> ShellResult:
    shell = os.environ.get("SHELL") or "/bin/sh"
    process = await asyncio.create_subprocess_exec(shell, "-c", command, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.STDOUT,
                                                   stdin=asyncio.subprocess.DEVNULL)
    try:
        data = await process.stdout.read(cap_bytes) if process.stdout else b""
        await process.wait()
    except asyncio.CancelledError:
        process.kill()
        await process.wait()
        raise
    return ShellResult(command, process.returncode or 0, data.decode(errors="replace").rstrip("\n"))
