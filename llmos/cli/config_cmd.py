"""`llmos config show | path | edit`."""

from __future__ import annotations

import typer

app = typer.Typer(help="Show, locate and edit the configuration.", no_args_is_help=True)


@app.command("show")
def show(json_output: bool = typer.Option(False, "--json", help="Print {key: {value, origin}} as JSON.")) -> None:
    """Print the merged configuration, each key with where its value came from."""
    from llmos.config import load_config
    from llmos.terminal import current
    from llmos.ui.config_view import print_config

    print_config(current(), load_config(), json_output)


@app.command("path")
def path() -> None:
    """Print the configuration files llmos reads, in precedence order (later wins)."""
    from llmos.config import load_config
    from llmos.terminal import current

    current().write("".join(f"{layer}\t{file}\t{'exists' if exists else 'absent'}\n"
                            for layer, file, exists in load_config().files))


@app.command("edit")
def edit() -> None:
    """Open the user configuration in $EDITOR, creating it with comments first; then check it."""
    from llmos.config.edit import edit_user_config

    edit_user_config()
