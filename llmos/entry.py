"""The `llmos` executable. `llmos` alone goes straight to the interactive shell without loading the
command-line parser (typer costs ~70 ms the shell does not need); everything else goes through the CLI.

This module is the one place exceptions become exit statuses, and where the terminal (llmos.terminal)
is created and handed down — so ``run(args, terminal)`` is llmos in-process, as tests use it.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable

from llmos.errors import ExitStatus, LlmosError
from llmos.terminal import Terminal, using


def main() -> None:
    from llmos.redact import install_log_filter

    install_log_filter()  # API keys never reach a log line, even inside an SDK's error text
    _exit(run(sys.argv[1:]))


def _exit(status: int) -> None:
    """Exit with ``status``. A built-in tool call that timed out may have left a worker thread blocked for
    good; Python would wait for it at exit, so then everything is flushed and the process ends at once."""
    host = sys.modules.get("llmos.agent.host")
    if host is not None and host.abandoned_calls():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)


def run(args: list[str], terminal: Terminal | None = None) -> int:
    """Run llmos with ``args`` on ``terminal`` (default: this process's streams); return the exit status."""
    terminal = terminal or Terminal()
    with using(terminal):
        if not args and "_LLMOS_COMPLETE" not in os.environ:  # completion requests come with no args
            return guarded(lambda: _shell(terminal), terminal)
        from llmos.cli import run_cli

        return guarded(lambda: run_cli(args), terminal)


def _shell(terminal: Terminal) -> None:
    from llmos.repl.app import main as shell
    from llmos.runtime import configure_logging

    configure_logging(os.environ.get("LLMOS_DEBUG") not in (None, "", "0"))
    shell(terminal)


def guarded(run: Callable[[], int | None], terminal: Terminal | None = None) -> int:
    """Run the program; turn every exception into one line on stderr and an exit status."""
    terminal = terminal or Terminal()
    try:
        status = run()
    except LlmosError as exc:
        _error(terminal, str(exc))
        return exc.exit_status
    except KeyboardInterrupt:
        _error(terminal, "cancelled")
        return ExitStatus.INTERRUPTED
    except Exception as exc:
        typer_status = _typer_exit(exc, terminal)
        if typer_status is not None:
            return typer_status
        logging.getLogger("llmos").debug("unexpected error", exc_info=True)
        _error(terminal, f"unexpected error: {exc} (run with --debug for details)")
        return ExitStatus.ERROR
    return status if isinstance(status, int) else ExitStatus.OK


def _typer_exit(exc: Exception, terminal: Terminal) -> int | None:
    """Exit statuses for typer's own exceptions (only ever raised once the CLI is loaded)."""
    if "typer" not in sys.modules:
        return None
    import typer
    from typer.exceptions import TyperException

    if isinstance(exc, typer.Abort):
        _error(terminal, "cancelled")
        return ExitStatus.INTERRUPTED
    if isinstance(exc, typer.Exit):
        return exc.exit_code
    if isinstance(exc, TyperException):  # a bad command line: typer prints the usage and the problem
        show = getattr(exc, "show", None)
        if show:
            show(file=terminal.stderr)
        else:
            _error(terminal, exc.format_message())
        return exc.exit_code
    return None


    from llmos.redact import install_log_filter

    install_log_filter()  # API keys never reach a log line, even inside an SDK's error text
def _error(terminal: Terminal, message: str) -> None:
    terminal.stderr.write(f"llmos: {message}\n")
    terminal.stderr.flush()
