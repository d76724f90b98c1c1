"""A real X server for tests: Xvfb from Debian's `xvfb` package, one per test session.

Import the fixtures into a test module (`from tests.xserver import x_display, xvfb`) and ask for
`x_display` in the tests that need a screen; it sets DISPLAY for that test only."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def xvfb() -> Iterator[str]:
    """Start Xvfb on a free display number and yield that display (":N") once it accepts connections."""
    if shutil.which("Xvfb") is None:
        pytest.fail("Xvfb is not installed: these tests need a real X server. "
                    "Install it with: apt-get install -y xvfb x11-apps", pytrace=False)
    read_fd, write_fd = os.pipe()
    with tempfile.TemporaryFile() as log:
        # -displayfd: Xvfb picks a free display number itself and writes it to the pipe only once it is
        # ready for clients: no race for the number, no guess at how long start-up takes.
        # -noreset: an X server resets whenever its last client leaves and refuses connections meanwhile; a
        # desktop always has clients (its window manager), a bare Xvfb between two tool calls has none.
        # stderr to a file, not a pipe: a full pipe would stall Xvfb.
        process = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1024x768x24",
                                    "-nolisten", "tcp", "-noreset"],
                                   pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=log)
        os.close(write_fd)
        try:
            with os.fdopen(read_fd) as pipe:
                ready = select.select([pipe], [], [], 30)[0]
                number = pipe.readline().strip() if ready else ""  # empty if Xvfb died or hung
            if not number.isdigit():
                process.kill()
                process.wait(timeout=10)
                log.seek(0)
                error = log.read().decode(errors="replace").strip()
                pytest.fail(f"Xvfb did not start: {error or 'no display number reported'}", pytrace=False)
            yield f":{number}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def x_display(xvfb: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """DISPLAY pointing at the session's Xvfb for this test (and no Wayland display to confuse things)."""
    monkeypatch.setenv("DISPLAY", xvfb)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    return xvfb


@pytest.fixture(name="window_manager")
def _window_manager(x_display: str) -> Iterator[subprocess.Popen]:
    """Openbox (Debian's `openbox`), a real reparenting EWMH window manager, on the session's Xvfb for one
    test; yields its process, which the test may stop early to see what a vanished manager leaves."""
    from Xlib import X, display, error

    if shutil.which("openbox") is None:
        pytest.fail("openbox is not installed: install it with: apt-get install -y openbox", pytrace=False)
    # Its own data dirs: a test's XDG_DATA_DIRS may leave out /usr/share, where its theme lives.
    process = subprocess.Popen(["openbox", "--sm-disable"], env={**os.environ, "XDG_DATA_DIRS": "/usr/share"},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    d = display.Display(x_display)
    check = d.intern_atom("_NET_SUPPORTING_WM_CHECK")

    def managing() -> bool:  # the check window the manager publishes exists and names itself
        prop = d.screen().root.get_full_property(check, X.AnyPropertyType)
        try:
            return prop is not None and d.create_resource_object("window", prop.value[0]).get_full_property(
                check, X.AnyPropertyType) is not None
        except error.XError:
            return False

    try:
        deadline = time.monotonic() + 20
        while not managing():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("openbox did not start managing the X display", pytrace=False)
            time.sleep(0.05)
        yield process
    finally:
        d.close()
        process.terminate()
        process.wait(timeout=10)
