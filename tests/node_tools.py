"""MCP tools from npm that no one here wrote: the official Inspector CLI and the reference "everything"
server. scripts/test installs them into .test-cache/npm; a missing one fails the test, never skips it."""

from __future__ import annotations

from pathlib import Path

import pytest

BIN = Path(__file__).resolve().parent.parent / ".test-cache" / "npm" / "node_modules" / ".bin"


def npm_tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{name} is not installed in {BIN}: run scripts/test (it installs the npm test tools)",
                    pytrace=False)
    return str(path)
