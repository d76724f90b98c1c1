"""`llmos doctor`: is everything llmos needs in place? A table with a fix for each problem."""

from __future__ import annotations

import typer


def doctor(json_output: bool = typer.Option(False, "--json", help="Print the checks as JSON.")) -> None:
    """Check each configured provider (key present, reachable, models available). Exit 3 when none can answer."""
    import asyncio
    import dataclasses
    import json
    import sys

    from llmos.config import load_config
    from llmos.errors import ExitStatus
    from llmos.health.providers import check_all

    checks = asyncio.run(check_all(load_config()))
    if json_output:
        json.dump([dataclasses.asdict(c) for c in checks], sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        from llmos.ui.doctor_view import print_checks

        print_checks(checks)
    if not any(c.ok for c in checks):
        raise typer.Exit(ExitStatus.NO_PROVIDER)
