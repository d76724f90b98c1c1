"""First run through the real CLI: no provider can answer and no local model is on disk. Off a terminal:
exit 3 with the exact pull command and nothing downloaded. On a terminal (a real pty): asked once, default no;
"y" downloads the recommendation from the loopback hub. A local GGUF on disk: the usual error, no offer."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from llmos.models import catalog
from llmos.picker.detect import detect
from llmos.picker.embedded import recommend_engine
from tests.conftest import write_user_config
from tests.hf_hub import FakeHub, HubFile, tiny_gguf

NO_PROVIDERS = "providers:\n  ollama: {enabled: false}\n  claude: {enabled: false}\n  openai: {enabled: false}\n"


@pytest.fixture
def fresh_machine(isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeHub:
    """No provider enabled, empty model stores everywhere, and a hub on loopback that records any request."""
    write_user_config(isolated_home, NO_PROVIDERS)
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path / "ollama"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    for var in ("HF_HUB_CACHE", "HF_HUB_OFFLINE", "HF_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    with FakeHub() as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        yield hub


def models_dir() -> Path:
    return Path(os.environ["XDG_DATA_HOME"]) / "llm-os" / "models"


def recommended() -> str:
    name = recommend_engine(detect()).model
    assert name is not None
    return name


def llmos(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "llmos", *args], capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL, env={**os.environ, "COLUMNS": "200"})


def test_off_a_terminal_exit_3_with_the_exact_command_and_nothing_downloaded(fresh_machine: FakeHub) -> None:
    out = llmos("run", "--no-tools", "what is eating my disk?")
    assert out.returncode == 3 and "Traceback" not in out.stderr
    assert "No LLM provider could answer" in out.stderr
    assert "embedded — not set up: no local model is installed" in out.stderr and "authentic" not in out.stderr
    assert "No local model is installed yet" in out.stderr and "free in" in out.stderr
    assert f"\n  llmos models pull {recommended()}\n" in out.stderr
    assert fresh_machine.file_requests() == [] and not models_dir().exists()


def test_with_tools_too(fresh_machine: FakeHub) -> None:
    out = llmos("run", "list the files here")
    assert out.returncode == 3 and f"llmos models pull {recommended()}" in out.stderr
    assert fresh_machine.file_requests() == [] and not models_dir().exists()


def test_a_local_model_on_disk_means_no_offer(fresh_machine: FakeHub) -> None:
    models_dir().mkdir(parents=True)
    tiny_gguf(models_dir() / "mine.gguf", 128 * 1024)
    out = llmos("run", "--no-tools", "hello")
    assert out.returncode == 3 and "No LLM provider could answer" in out.stderr
    assert "llmos models pull" not in out.stderr and "No local model" not in out.stderr


def _run_on_a_pty(args: list[str], answer: str, timeout: float = 120) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as stdin/stdout/stderr; type ``answer`` when asked."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "llmos", *args], stdin=slave, stdout=slave, stderr=slave,
                            env={**os.environ, "COLUMNS": "200"}, close_fds=True)
    os.close(slave)
    seen, answered = b"", False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        if not answered and b"[y/N]" in seen:
            os.write(master, answer.encode() + b"\r")
            answered = True
        if proc.poll() is not None and not ready:
            break
    status = proc.wait(timeout=10)
    os.close(master)
    return status, seen.decode(errors="replace")


def test_on_a_terminal_asked_once_and_no_is_the_default(fresh_machine: FakeHub) -> None:
    status, screen = _run_on_a_pty(["run", "--no-tools", "hello"], answer="")
    assert status == 3, screen
    assert screen.count("[y/N]") == 1 and f"Download {recommended()} now? [y/N]" in screen
    assert f"not downloaded. Later: llmos models pull {recommended()}" in screen
    assert fresh_machine.file_requests() == [] and not models_dir().exists()


def test_on_a_terminal_yes_downloads_the_recommendation(fresh_machine: FakeHub, tmp_path: Path) -> None:
    entry = catalog.load()[recommended()]
    data = tiny_gguf(tmp_path / "served.gguf", 1024 * 1024).read_bytes()  # a real (tiny) GGUF stands in
    fresh_machine.add(entry.repo, entry.file, HubFile(data))
    status, screen = _run_on_a_pty(["run", "--no-tools", "hello"], answer="y")
    assert status == 3, screen  # this request was not answered; the next one can be
    assert f"{entry.name} is installed at" in screen and "run your request again" in screen
    assert (models_dir() / entry.file).read_bytes() == data


def test_the_shell_offers_once_above_the_prompt_and_carries_on(fresh_machine: FakeHub, tmp_path: Path) -> None:
    from tests.tmux import Terminal

    command = (f"env OLLAMA_MODELS={tmp_path / 'ollama'} HF_ENDPOINT={fresh_machine.url} "
               f"{sys.executable} -m llmos")
    with Terminal(command, width=200) as term:
        term.wait_for(f"Download {recommended()} now? [y/N]", timeout=90)
        screen = term.screen()
        assert "No local model is installed yet" in screen and "free in" in screen
        term.send("Enter")
        term.wait_for(f"Not downloaded. Later: llmos models pull {recommended()}")
        term.type("/exit")
        term.send("Enter")
        term.wait_for("EXIT=0")
    assert fresh_machine.file_requests() == [] and not models_dir().exists()
