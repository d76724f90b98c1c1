"""GGUF downloads through huggingface_hub against a loopback hub (HF_ENDPOINT) serving real GGUF files:
progress, resume after a cut connection and after a killed process, checksum mismatch (partial removed),
a pinned checksum the hub contradicts, no disk space (before and during the download), offline mode,
tokens, and a gated repo — through the library and through the real CLI."""

from __future__ import annotations

import hashlib
import os
import resource
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from llmos.models import catalog
from llmos.models.discover import describe
from llmos.models.pull import ChecksumError, NoSpaceError, PullError, pull_entry
from tests.hf_hub import FakeHub, HubFile, tiny_gguf

REPO = "llmos-test/Tiny-GGUF"
SMOLLM = Path(__file__).resolve().parent.parent / ".test-cache" / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"


class Recorder:
    """A Progress that keeps what it was told."""

    def __init__(self) -> None:
        self.starts: list[tuple[str, int | None, int]] = []
        self.advanced = 0
        self.statuses: list[str] = []
        self.finished = False

    def start(self, description: str, total: int | None, completed: int) -> None:
        self.starts.append((description, total, completed))

    def advance(self, n: int) -> None:
        self.advanced += n

    def status(self, text: str) -> None:
        self.statuses.append(text)

    def finish(self) -> None:
        self.finished = True


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return tiny_gguf(tmp_path_factory.mktemp("gguf") / "tiny.gguf").read_bytes()


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> FakeHub:
    with FakeHub() as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        monkeypatch.setenv("HF_HOME", str(Path(os.environ["XDG_CACHE_HOME"]) / "hf"))
        for var in ("HF_TOKEN", "HF_HUB_OFFLINE", "HF_HUB_CACHE"):
            monkeypatch.delenv(var, raising=False)
        yield server


def entry(file: str = "tiny-f32.gguf", sha256: str | None = None, size: int = 3_000_000) -> catalog.CatalogEntry:
    base = catalog.load()["smollm2-135m-instruct"]
    return replace(base, name="tiny", repo=REPO, file=file, sha256=sha256, size_bytes=size, size_exact=False)


def models_dir() -> Path:
    return Path(os.environ["XDG_DATA_HOME"]) / "llm-os" / "models"


def leftovers() -> list[str]:
    return sorted(p.name for p in models_dir().glob("*")) if models_dir().exists() else []


# --- the library ------------------------------------------------------------------------------------------

def test_download_reports_progress_verifies_and_lands_in_the_models_dir(hub: FakeHub, tiny: bytes) -> None:
    hub.add(REPO, "tiny-f32.gguf", HubFile(tiny))
    progress = Recorder()
    result = pull_entry(entry(), progress=progress)
    assert result.path == models_dir() / "tiny-f32.gguf" and result.downloaded
    assert result.path.read_bytes() == tiny and result.sha256 == hashlib.sha256(tiny).hexdigest()
    assert progress.starts == [("tiny-f32.gguf", len(tiny), 0)] and progress.advanced == len(tiny)
    assert progress.finished and progress.statuses == []  # hashed on the way to disk: no second read
    assert leftovers() == ["tiny-f32.gguf", "tiny-f32.gguf.sha256"]  # no partial file left
    assert describe(result.path, "tiny", "llmos").arch == "llama"  # a real GGUF came out
    # a second pull finds the verified file and does not download again
    again = pull_entry(entry(), progress=Recorder())
    assert not again.downloaded and len(hub.gets()) == 1


def test_a_cut_connection_is_resumed_with_a_range_request(hub: FakeHub) -> None:
    # huggingface_hub writes in 10 MiB chunks: a cut at 25 MB keeps the first two and asks for the rest.
    data = SMOLLM.read_bytes()
    hub.add(REPO, "smollm2.gguf", HubFile(data))
    hub.cut_after = 25_000_000
    progress = Recorder()
    result = pull_entry(entry(file="smollm2.gguf"), progress=progress)
    assert hashlib.sha256(result.path.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
    first, second = hub.gets()
    assert "range" not in first.headers
    start = int(second.headers["range"].removeprefix("bytes=").rstrip("-"))
    assert 10_000_000 < start <= 25_000_000  # only the missing bytes were fetched again
    assert progress.advanced == len(data) and len(progress.starts) == 1
    assert progress.statuses == ["the connection dropped; resuming…"]


def test_checksum_mismatch_is_rejected_and_the_partial_file_removed(hub: FakeHub, tiny: bytes) -> None:
    damaged = bytearray(tiny)
    damaged[len(damaged) // 2] ^= 0xFF
    hub.add(REPO, "tiny-f32.gguf", HubFile(tiny, served=bytes(damaged)))
    with pytest.raises(ChecksumError, match="checksum mismatch .* the partial file was removed"):
        pull_entry(entry(), progress=Recorder())
    assert leftovers() == []


def test_a_pinned_checksum_the_hub_contradicts_downloads_nothing(hub: FakeHub, tiny: bytes) -> None:
    hub.add(REPO, "tiny-f32.gguf", HubFile(tiny))
    with pytest.raises(ChecksumError, match="not the file the catalog pins"):
        pull_entry(entry(sha256="0" * 64), progress=Recorder())
    assert hub.gets() == [] and leftovers() == []


def test_not_enough_space_is_refused_before_the_first_byte(hub: FakeHub, tiny: bytes) -> None:
    hub.add(REPO, "tiny-f32.gguf", HubFile(tiny, size=10**16))  # the hub says 10 PB
    with pytest.raises(NoSpaceError, match=r"not enough disk space for tiny: it needs 10000000\.0 GB more"):
        pull_entry(entry(), progress=Recorder())
    assert hub.gets() == [] and not list(models_dir().glob("*.part"))


def test_offline_mode_is_said_plainly_and_nothing_is_requested(hub: FakeHub, monkeypatch: pytest.MonkeyPatch,
                                                                tiny: bytes) -> None:
    hub.add(REPO, "tiny-f32.gguf", HubFile(tiny))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(PullError, match="HF_HUB_OFFLINE is set, so tiny cannot be downloaded"):
        pull_entry(entry(), progress=Recorder())
    assert hub.file_requests() == []


def test_the_token_is_sent_and_a_gated_repo_explained(hub: FakeHub, monkeypatch: pytest.MonkeyPatch,
                                                       tiny: bytes) -> None:
    hub.add(REPO, "tiny-f32.gguf", HubFile(tiny))
    monkeypatch.setenv("HF_TOKEN", "hf_testtoken")
    pull_entry(entry(), progress=Recorder())
    assert {r.headers.get("authorization") for r in hub.file_requests()} == {"Bearer hf_testtoken"}
    hub.status, hub.error_code = 401, "GatedRepo"
    with pytest.raises(PullError, match="is gated: accept its licence on the hub, then set HF_TOKEN"):
        pull_entry(entry(file="other.gguf"), progress=Recorder())


def test_lfs_redirect_to_a_cdn_gets_the_bytes_there_without_the_token(hub: FakeHub, monkeypatch: pytest.MonkeyPatch,
                                                                       tiny: bytes) -> None:
    hub.add(REPO, "tiny-f32.gguf", HubFile(tiny))
    hub.cdn = True
    monkeypatch.setenv("HF_TOKEN", "hf_testtoken")
    result = pull_entry(entry(), progress=Recorder())
    assert result.path.read_bytes() == tiny
    (head,) = [r for r in hub.requests if r.method == "HEAD"]
    (get,) = hub.gets()
    assert head.headers["authorization"] == "Bearer hf_testtoken" and "/resolve/main/" in head.path
    assert get.path.startswith("/cdn/") and get.headers["host"].startswith("localhost:")
    assert "authorization" not in get.headers  # the hub token never goes to the CDN


def test_an_unreachable_hub_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.llm_server import free_port

    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(PullError, match=r"tiny: cannot reach 127\.0\.0\.1:\d+ .* check the network or HF_ENDPOINT"):
        pull_entry(entry(), progress=Recorder())
    assert leftovers() == []


# --- the real CLI -----------------------------------------------------------------------------------------

def llmos(*args: str, preexec: object = None, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "llmos", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "120", **env}, preexec_fn=preexec)  # type: ignore[arg-type]


def smollm_as(hub: FakeHub, name: str, **kwargs: object) -> tuple[catalog.CatalogEntry, bytes]:
    """Serve the real SmolLM2 GGUF as the catalog file of ``name``."""
    e = catalog.load()[name]
    data = SMOLLM.read_bytes()
    hub.add(e.repo, e.file, HubFile(data, **kwargs))  # type: ignore[arg-type]
    return e, data


def test_cli_pull_of_a_real_model_then_listed_as_discovered(hub: FakeHub) -> None:
    e, data = smollm_as(hub, "smollm2-135m-instruct")
    out = llmos("models", "pull", "smollm2-135m-instruct")
    assert out.returncode == 0, out.stderr
    path = models_dir() / e.file
    assert out.stdout.startswith("pulled smollm2-135m-instruct: ") and "98 MB" in out.stdout
    assert hashlib.sha256(path.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
    import json

    listing = json.loads(llmos("models", "--json").stdout)["gguf"]
    (row,) = listing["local"]
    assert (row["name"], row["source"], row["quantization"], row["context_length"]) == (
        "smollm2-135m-instruct", "llmos", "Q4_1", 8192)
    assert listing["engine"]["model"] == "smollm2-135m-instruct" and listing["engine"]["installed"]


def _slow_pull_halfway(hub: FakeHub, name: str) -> tuple[subprocess.Popen, Path]:
    """A CLI pull from a slow hub (~6 MB/s), once its partial file holds more than 5 MB."""
    hub.delay_s = 0.01
    proc = subprocess.Popen([sys.executable, "-m", "llmos", "models", "pull", name], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "200"})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        parts = list(models_dir().glob("*.part"))
        if parts and parts[0].stat().st_size > 5_000_000:
            return proc, parts[0]
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("the partial file did not grow past 5 MB within 60 s")


def test_cli_ctrl_c_keeps_the_partial_file_and_says_how_to_resume(hub: FakeHub) -> None:
    e, _ = smollm_as(hub, "smollm2-135m-instruct")
    proc, part = _slow_pull_halfway(hub, e.name)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "Traceback" not in err
    assert f"downloaded: `llmos models pull {e.name}` resumes" in err and part.exists()


def test_cli_resumes_a_download_cut_by_a_killed_process(hub: FakeHub) -> None:
    e, data = smollm_as(hub, "smollm2-135m-instruct")
    proc, part = _slow_pull_halfway(hub, e.name)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    kept = part.stat().st_size
    assert 5_000_000 < kept < len(data)
    hub.delay_s = 0.0
    out = llmos("models", "pull", e.name)
    assert out.returncode == 0, out.stderr
    assert "checking the partial download…" in out.stderr and "resuming from" in out.stderr
    resumed = int(hub.gets()[-1].headers["range"].removeprefix("bytes=").rstrip("-"))
    assert resumed == kept  # the kept bytes were not fetched again
    assert hashlib.sha256((models_dir() / e.file).read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
    assert not part.exists()


def test_cli_checksum_mismatch_of_a_pinned_model(hub: FakeHub) -> None:
    # The hub claims the pinned file but serves other bytes: caught after download, nothing kept.
    pinned = catalog.load()["qwen2.5-coder-0.5b-instruct"]
    assert pinned.sha256 is not None
    smollm_as(hub, pinned.name, sha256=pinned.sha256)
    out = llmos("models", "pull", pinned.name)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert f"checksum mismatch (expected sha256 {pinned.sha256}" in out.stderr
    assert "the partial file was removed" in out.stderr and leftovers() == []


def _limit_file_size() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000_000, 20_000_000))


def test_cli_no_space_while_writing_is_reported_clearly(hub: FakeHub) -> None:
    e, _ = smollm_as(hub, "smollm2-135m-instruct")
    out = llmos("models", "pull", e.name, preexec=_limit_file_size)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "no space left on the disk of" in out.stderr and "pull again to resume" in out.stderr
    assert not (models_dir() / e.file).exists()


def test_cli_offline_mode(hub: FakeHub) -> None:
    smollm_as(hub, "smollm2-135m-instruct")
    out = llmos("models", "pull", "smollm2-135m-instruct", HF_HUB_OFFLINE="1")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "HF_HUB_OFFLINE is set, so smollm2-135m-instruct cannot be downloaded" in out.stderr
    assert hub.file_requests() == [] and leftovers() == []


def test_cli_a_copy_in_the_hf_cache_is_used_where_it_is(hub: FakeHub, tiny: bytes) -> None:
    e = catalog.load()["smollm2-135m-instruct"]
    snapshot = Path(os.environ["HF_HOME"]) / "hub" / "models--HuggingFaceTB--SmolLM2-135M-Instruct-GGUF" / \
        "snapshots" / "0123456789abcdef0123456789abcdef01234567"
    snapshot.mkdir(parents=True)
    (snapshot / e.file).write_bytes(tiny)
    out = llmos("models", "pull", e.name)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"{e.name} is already on disk: ") and "used from there, not copied" in out.stdout
    assert hub.file_requests() == [] and leftovers() == []


def test_cli_unknown_gguf_name_without_a_colon_still_goes_to_ollama(hub: FakeHub) -> None:
    # no ':' and not in the GGUF catalog: an Ollama short name (llama3.2); no Ollama here → exit 1, no hub call
    out = llmos("models", "pull", "no-such-model", OLLAMA_HOST="127.0.0.1:9")
    assert out.returncode == 1 and "Traceback" not in out.stderr and hub.file_requests() == []
