"""Without a usable X display, the window tools say where a running program is found instead (the real apps
server, in memory)."""

from __future__ import annotations

import asyncio

import pytest

from tests.mcp_helpers import call_error, memory_client


@pytest.mark.parametrize("display", [None, ":97"])  # none at all; one nobody serves
def test_running_apps_without_a_display_point_to_find_processes(display: str | None,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Measured: "is backup-daemon running?" → list_running_apps failed on a dead display and the 0.5B sent
    it again until the loop guard stopped the turn."""
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    if display is None:
        monkeypatch.delenv("DISPLAY", raising=False)
    else:
        monkeypatch.setenv("DISPLAY", display)

    async def go() -> str:
        async with memory_client("apps") as client:
            return await call_error(client, "list_running_apps")
    assert "find_processes" in asyncio.run(go())
