"""The arguments many git tools share, with the descriptions a model reads."""

from __future__ import annotations

import os
from typing import Annotated, Any

from pydantic import AfterValidator, Field


def arg(description: str, **constraints: Any) -> Any:
    return Field(description=description, **constraints)


RepoArg = Annotated[str | None, arg("Path of the repository or any folder or file inside it. "
                                    "Default: the repository containing the current folder.")]
def _home_expanded(paths: list[str]) -> list[str]:
    """"~/settings.py" as the file it names (git reads an absolute path inside the work tree, not "~"):
    measured, the 0.5B's git_restore(["~/settings.py"]) was refused as matching no tracked file."""
    return [os.path.expanduser(p) if p.startswith("~") else p for p in paths]


Paths = Annotated[list[str], AfterValidator(_home_expanded),
                  arg("File or folder paths relative to the repository root, e.g. ['src/app.py'].", min_length=1)]
MaxBytes = Annotated[int, arg("Cut the text after this many bytes.", ge=200, le=2_000_000)]
