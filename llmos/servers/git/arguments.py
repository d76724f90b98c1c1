"""The arguments many git tools share, with the descriptions a model reads."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field


def arg(description: str, **constraints: Any) -> Any:
    return Field(description=description, **constraints)


RepoArg = Annotated[str | None, arg("Path of the repository or any folder or file inside it. "
                                    "Default: the repository containing the current folder.")]
Paths = Annotated[list[str], arg("File or folder paths relative to the repository root, e.g. "
                                 "['src/app.py'].", min_length=1)]
MaxBytes = Annotated[int, arg("Cut the text after this many bytes.", ge=200, le=2_000_000)]
