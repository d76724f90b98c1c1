"""The `llmos` command line (typer). Thin: each command parses its arguments and calls one function;
errors become exit statuses in llmos.entry.

Heavy modules (SDKs, rich rendering) are imported inside the commands so `llmos --help` starts fast.
"""

from __future__ import annotations

import os

import typer

from llmos import __version__
from llmos.cli import (agent_cmds, config_cmd, doctor_cmd, history_cmd, mcp_cmd, models_cmd, run_cmd, undo_cmd,
                       usage_cmd)

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
app.add_typer(models_cmd.app, name="models")
app.command("undo")(undo_cmd.undo)
app.command("tools")(agent_cmds.tools)
app.command("audit")(agent_cmds.audit)
app.command("history")(history_cmd.history)


def _version(value: bool) -> None:
    if value:
        from llmos.terminal import current

        current().write(f"llmos {__version__}\n")
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
        from llmos.runtime import configure_logging

        configure_logging(True)
    if ctx.invoked_subcommand is None:  # `llmos` alone opens the interactive shell
        from llmos.repl.app import main as shell

        shell()


def run_cli(args: list[str] | None = None) -> int | None:
    """Parse ``args`` (default: the process's) and run the command; its streams are llmos.terminal's."""
    return app(args=args, standalone_mode=False, prog_name="llmos")
