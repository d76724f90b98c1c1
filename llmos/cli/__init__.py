"""The `llmos` command. Thin: each command parses its arguments and calls one function.

Heavy modules (SDKs, rich rendering) are imported inside the commands so `llmos --help` starts fast.
"""

from __future__ import annotations

import logging
import os
import sys

import typer
from typer.exceptions import TyperException

from llmos import __version__
from llmos.cli import agent_cmds, config_cmd, doctor_cmd, history_cmd, mcp_cmd, run_cmd, undo_cmd, usage_cmd
from llmos.errors import ExitStatus, LlmosError

EXIT_CODES_HELP = (
    "Exit codes: 0 success · 1 error · 2 bad usage or configuration · 3 no LLM provider could answer · "
    "4 an action was refused · 130 interrupted."
)

app = typer.Typer(
    name="llmos",
    help="llmos — a local-first natural-language shell. Ask in plain English; llmos answers and acts. "
    "Run `llmos` alone for the interactive shell.",
    epilog=EXIT_CODES_HELP,
    invoke_without_command=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("run", epilog=EXIT_CODES_HELP)(run_cmd.run)
app.add_typer(config_cmd.app, name="config")
app.command("usage")(usage_cmd.usage)
app.command("doctor")(doctor_cmd.doctor)
app.add_typer(mcp_cmd.app, name="mcp")
app.command("undo")(undo_cmd.undo)
app.command("tools")(agent_cmds.tools)
app.command("audit")(agent_cmds.audit)
app.command("history")(history_cmd.history)


def _version(value: bool) -> None:
    if value:
        print(f"llmos {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(False, "--version", "-V", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
    debug: bool = typer.Option(False, "--debug", help="Log details (and original errors) to stderr. "
                               "Same as LLMOS_DEBUG=1."),
) -> None:
    if debug or os.environ.get("LLMOS_DEBUG") not in (None, "", "0"):
        logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")
        # The SDKs' HTTP chatter would drown llmos's own log.
        for noisy in ("httpx", "httpx2", "httpcore", "httpcore2", "anthropic", "openai"):
            logging.getLogger(noisy).setLevel(logging.INFO)
    if ctx.invoked_subcommand is None:  # `llmos` alone opens the interactive shell
        from llmos.repl.app import main as shell

        shell()


def main() -> None:
    """Entry point: the one place exceptions become exit statuses."""
    try:
        status = app(standalone_mode=False)
    except LlmosError as exc:
        _error(str(exc))
        sys.exit(exc.exit_status)
    except (KeyboardInterrupt, typer.Abort):
        _error("cancelled")
        sys.exit(ExitStatus.INTERRUPTED)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except TyperException as exc:  # bad command line: typer prints usage and the problem
        show = getattr(exc, "show", None)
        show() if show else _error(exc.format_message())
        sys.exit(exc.exit_code)
    except Exception as exc:
        logging.getLogger("llmos").debug("unexpected error", exc_info=True)
        _error(f"unexpected error: {exc} (run with --debug for details)")
        sys.exit(ExitStatus.ERROR)
    sys.exit(status if isinstance(status, int) else ExitStatus.OK)


def _error(message: str) -> None:
    print(f"llmos: {message}", file=sys.stderr)
