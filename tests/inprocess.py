"""llmos in-process: the same entry point as the executable (llmos.entry.run) on a terminal made of
strings, so a test pays no interpreter start-up or imports (≈ 3 s a run on the CI machine). Everything
below the terminal is real: the typer CLI, config files, the router over loopback, MCP servers, the gate.

Real-subprocess tests remain for what only a process shows: the console script, signals, a real terminal.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import mcp.client.stdio  # noqa: F401  # binds its errlog default (sys.stderr) now, not to one run's stream

from llmos.entry import run
from llmos.terminal import Terminal


@dataclass
class Completed:
    """Shaped like subprocess.CompletedProcess, so tests read the same either way."""

    returncode: int
    stdout: str
    stderr: str


@contextlib.contextmanager
def _environment(env: dict[str, str] | None) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(env or {})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def llmos(*args: str, stdin: str = "", env: dict[str, str] | None = None, prompt_input: Any = None,
          width: int | None = None) -> Completed:
    """Run `llmos ARGS…`. A ``prompt_input`` (prompt-toolkit pipe) is a person at the keyboard; without
    it there is nobody to ask, as with a script."""
    from prompt_toolkit.output import DummyOutput

    out = io.StringIO()
    # stderr is a real file, as a process's is (MCP's stdio client may hand it to a server).
    with tempfile.TemporaryFile("w+", encoding="utf-8") as err:
        terminal = Terminal(stdin=io.StringIO(stdin), stdout=out, stderr=err, prompt_input=prompt_input,
                            prompt_output=DummyOutput() if prompt_input is not None else None,
                            person=prompt_input is not None, width=width)
        # What still prints to sys.stdout (click's own usage and help messages) lands in the same place.
        with _environment(env), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = run(list(args), terminal)
        err.seek(0)
        return Completed(status, out.getvalue(), err.read())
