"""A real terminal for tests: a program running in a tmux pane, typed at and read back."""

from __future__ import annotations

import os
import shlex
import subprocess
import time
import uuid


class Terminal:
    """Each terminal has its own tmux server (``-L``): parallel test workers never share, or kill, a server."""

    def __init__(self, command: str, env: dict[str, str] | None = None, cwd: str | None = None,
                 width: int = 100, height: int = 30):
        self.name = f"llmos-test-{uuid.uuid4().hex[:8]}"
        self._tmux = ["tmux", "-L", self.name]
        variables = {**os.environ, **(env or {})}
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in variables.items()
                           if k.startswith(("XDG_", "LLM_OS_", "LLMOS_", "HOME", "PATH", "NO_COLOR", "TERM")))
        script = f"cd {shlex.quote(cwd or os.getcwd())} && env {exports} {command}; echo EXIT=$?; sleep 60"
        subprocess.run([*self._tmux, "new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height),
                        script], check=True)

    def screen(self) -> str:
        return subprocess.run([*self._tmux, "capture-pane", "-p", "-J", "-S", "-200", "-t", self.name],
                              capture_output=True, text=True).stdout

    def wait_for(self, text: str, timeout: float = 60.0, after: str = "") -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            tail = screen.split(after, 1)[-1] if after and after in screen else ("" if after else screen)
            if text in tail:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} did not appear within {timeout:g}s; screen:\n{self.screen()}")

    def wait_for_text_after(self, marker: str, timeout: float = 60.0) -> str:
        """Wait until some words appear on the lines after ``marker`` (output whose wording cannot be known,
        such as a real model's answer)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if marker in screen:
                after = screen.split(marker, 1)[1].splitlines()[1:]
                if any(line.strip() and not line.startswith("llmos>") for line in after[:-1]):
                    return screen
            time.sleep(0.1)
        raise AssertionError(f"nothing appeared after {marker!r} within {timeout:g}s; screen:\n{self.screen()}")

    def send(self, *keys: str) -> None:
        subprocess.run([*self._tmux, "send-keys", "-t", self.name, *keys], check=True)

    def type(self, text: str) -> None:
        subprocess.run([*self._tmux, "send-keys", "-l", "-t", self.name, text], check=True)

    def close(self) -> None:
        subprocess.run([*self._tmux, "kill-server"], capture_output=True)

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
