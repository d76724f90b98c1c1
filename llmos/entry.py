"""The `llmos` executable. `llmos` alone goes straight to the interactive shell without loading the
command-line parser (typer costs ~70 ms the shell does not need); everything else goes through the CLI.
This module is the one place exceptions become exit statuses."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable

from llmos.errors import ExitStatus, LlmosError


def main() -> None:
    from llmos.redaction import install_log_filter

    install_log_filter()
    if len(sys.argv) == 1 and "_LLMOS_COMPLETE" not in os.environ:  # completion requests come with no args
        if os.environ.get("LLMOS_DEBUG") not in (None, "", "0"):
            logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")
            install_log_filter()
        from llmos.repl.app import main as shell

        _exit(guarded(shell))
    from llmos.cli import run_cli

    _exit(guarded(run_cli))


def _exit(status: int) -> None:
    """Exit with ``status``. A built-in tool call that timed out may have left a worker thread blocked for
    good; Python would wait for it at exit, so then everything is flushed and the process ends at once."""
    host = sys.modules.get("llmos.agent.host")
    if host is not None and host.abandoned_calls():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)


def guarded(run: Callable[[], int | None]) -> int:
    """Run the program; turn every exception into one line on stderr and an exit status."""
    try:
        status = run()
    except LlmosError as exc:
        _error(str(exc))
        return exc.exit_status
    except KeyboardInterrupt:
        _error("cancelled")
        return ExitStatus.INTERRUPTED
    except Exception as exc:
        typer_status = _typer_exit(exc)
        if typer_status is not None:
            return typer_status
        logging.getLogger("llmos").debug("unexpected error", exc_info=True)
        _error(f"unexpected error: {exc} (run with --debug for details)")
        return ExitStatus.ERROR
    return status if isinstance(status, int) else ExitStatus.OK


def _typer_exit(exc: Exception) -> int | None:
    """Exit statuses for typer's own exceptions (only ever raised once the CLI is loaded)."""
    if "typer" not in sys.modules:
        return None
    import typer
    from typer.exceptions import TyperException

    if isinstance(exc, typer.Abort):
        _error("cancelled")
        return ExitStatus.INTERRUPTED
    if isinstance(exc, typer.Exit):
        return exc.exit_code
    if isinstance(exc, TyperException):  # a bad command line: typer prints the usage and the problem
        show = getattr(exc, "show", None)
        show() if show else _error(exc.format_message())
        return exc.exit_code
    return None


def _error(message: str) -> None:
    from llmos.redaction import scrub

    print(f"llmos: {scrub(message)}", file=sys.stderr)
