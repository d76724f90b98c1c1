"""`llmos doctor`: is everything llmos needs in place? Providers with a fix for each problem, the GPU, and
what the model picker would choose."""

from __future__ import annotations

import typer


def doctor(json_output: bool = typer.Option(False, "--json", help="Print the checks as JSON.")) -> None:
    """Check each configured provider (key present, reachable, models available), show the GPU(s), free
    VRAM and driver, and the model the picker would choose. Exit 3 when no provider can answer."""
    import asyncio
    import dataclasses
    import json

    from llmos.config import load_config
    from llmos.errors import ExitStatus
    from llmos.health.providers import check_all
    from llmos.picker import survey
    from llmos.terminal import current

    config = load_config()

    async def run():
        return await asyncio.gather(check_all(config), survey(config))

    checks, machine = asyncio.run(run())
    choice = machine.choose("default", tools=True)
    if json_output:
        report = {"providers": [dataclasses.asdict(c) for c in checks], "machine": machine.to_json(),
                  "choice": choice.to_json()}
        current().write(json.dumps(report, indent=2) + "\n")
    else:
        from llmos.ui.doctor_view import print_checks
        from llmos.ui.models_view import print_machine

        console = current().console
        print_checks(console, checks)
        print_machine(console, machine, choice)
    if not any(c.ok for c in checks):
        raise typer.Exit(ExitStatus.NO_PROVIDER)
