"""The terminal llmos talks to: its three streams, whether a person is there to answer, and rich Consoles
on them. Created once in llmos.entry and passed down (as httpie's Environment is), so views never build
their own Console and tests run llmos in-process with strings for streams.

A low layer: it imports nothing of llmos's own; rich is imported only when a Console is first needed.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TextIO


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # a closed or odd stream is no terminal
        return False


@dataclass
class Terminal:
    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    # prompt-toolkit's input and output for questions (None: the real terminal); tests give a pipe.
    prompt_input: Any = None
    prompt_output: Any = None
    # Whether a person can answer; None: decided from the streams (stdin and stderr both terminals).
    person: bool | None = None
    width: int | None = None  # rich's width for tables (None: the terminal's, or COLUMNS)

    @property
    def interactive(self) -> bool:
        """A person is there to answer a question (y/n) — not a script or a pipe."""
        if self.person is not None:
            return self.person
        return _isatty(self.stdin) and _isatty(self.stderr)

    @property
    def plain(self) -> bool:
        """No colours or live displays: NO_COLOR, TERM=dumb."""
        return "NO_COLOR" in os.environ or os.environ.get("TERM") == "dumb"

    def stdout_is_terminal(self) -> bool:
        return _isatty(self.stdout) and not self.plain

    @cached_property
    def console(self) -> Any:
        """A rich Console on stdout: tables and answers."""
        from rich.console import Console

        return Console(file=self.stdout, width=self.width, highlight=False)

    @cached_property
    def err_console(self) -> Any:
        """A rich Console on stderr: confirmation panels, activity, spinners."""
        from rich.console import Console

        return Console(file=self.stderr, width=self.width, highlight=False)

    def notice(self, message: str) -> None:
        """One dim line on stderr (fallbacks, warnings) that never mixes into piped output."""
        if _isatty(self.stderr) and not self.plain:
            self.stderr.write(f"\x1b[2m{message}\x1b[0m\n")
        else:
            self.stderr.write(message + "\n")
        self.stderr.flush()

    def write(self, text: str) -> None:
        """Plain text on stdout (JSON, answers already rendered)."""
        self.stdout.write(text)
        self.stdout.flush()


_current: ContextVar[Terminal | None] = ContextVar("llmos_terminal", default=None)


def current() -> Terminal:
    """The terminal of this run: the one entry.py set, else the process's own streams."""
    terminal = _current.get()
    if terminal is None:
        terminal = Terminal()
        _current.set(terminal)
    return terminal


@contextlib.contextmanager
def using(terminal: Terminal) -> Iterator[Terminal]:
    """Run the enclosed code with ``terminal`` as the current one."""
    token = _current.set(terminal)
    try:
        yield terminal
    finally:
        _current.reset(token)
