"""GGUF discovery over real store layouts built in a temp dir: Ollama's manifests + blobs, the Hugging Face hub
cache (snapshots symlinked into blobs), LM Studio's folders and the llmos models folder; real GGUF headers
(the SmolLM2 and Qwen2.5-Coder test models, and tiny files written with the gguf package); `locate`; the header
reader checked against the gguf package; and `llmos models --json` through the real CLI."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from gguf import GGUFReader

from llmos.models.discover import discover, locate
from llmos.models.gguf_header import GgufError, read_header
from tests.hf_hub import tiny_gguf

CACHE = Path(__file__).resolve().parent.parent / ".test-cache" / "models"
SMOLLM = CACHE / "SmolLM2-135M-Instruct.Q4_1.gguf"
QWEN = CACHE / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
QWEN_REV = "ebb2015119c907b064c512bf053e945850b5875f"


def _ollama_manifest(store: Path, name: str, blob: Path, registry: str = "registry.ollama.ai",
                     namespace: str = "library") -> str:
    """Store ``blob`` as Ollama does: blobs/sha256-<hex> and a manifest naming it as the model layer."""
    digest = hashlib.sha256(blob.read_bytes()).hexdigest() if blob.stat().st_size < 50_000_000 else \
        hashlib.sha256(str(blob).encode()).hexdigest()  # a large real file: any well-formed digest will do
    target = store / "blobs" / f"sha256-{digest}"
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        os.symlink(blob, target) if blob.stat().st_size >= 50_000_000 else target.write_bytes(blob.read_bytes())
    model, tag = name.split(":")
    manifest = store / "manifests" / registry / namespace / model / tag
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps({"schemaVersion": 2,
                                    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                                    "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                                               "digest": "sha256:" + "c" * 64, "size": 485},
                                    "layers": [{"mediaType": "application/vnd.ollama.image.model",
                                                "digest": f"sha256:{digest}", "size": blob.stat().st_size},
                                               {"mediaType": "application/vnd.ollama.image.template",
                                                "digest": "sha256:" + "d" * 64, "size": 1429}]}))
    return digest


@pytest.fixture
def machine_stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    home = tmp_path / "user"
    ollama, hub = tmp_path / "ollama-models", tmp_path / "hf" / "hub"
    llmos_dir = Path(os.environ["XDG_DATA_HOME"]) / "llm-os" / "models"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("OLLAMA_MODELS", str(ollama))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    tiny = tiny_gguf(tmp_path / "tiny.gguf", 1024 * 1024)
    # Ollama: a library tag and the same blob under :latest, and a model pulled from hf.co
    _ollama_manifest(ollama, "smollm2:135m", SMOLLM)
    _ollama_manifest(ollama, "smollm2:latest", SMOLLM)
    _ollama_manifest(ollama, "tiny-chat:Q4_K_M", tiny, registry="hf.co", namespace="someone")
    # Hugging Face cache: the Qwen coder as huggingface_hub lays it out
    repo = hub / "models--Qwen--Qwen2.5-Coder-0.5B-Instruct-GGUF"
    (repo / "blobs").mkdir(parents=True)
    os.symlink(QWEN, repo / "blobs" / ("1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"))
    snap = repo / "snapshots" / QWEN_REV
    snap.mkdir(parents=True)
    os.symlink("../../blobs/1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
               snap / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(QWEN_REV)
    os.symlink("../../blobs/missing", snap / "unfinished.gguf")  # a download that never completed
    # LM Studio: a model and its vision projector
    lms = home / ".lmstudio" / "models" / "lmstudio-community" / "Tiny-GGUF"
    lms.mkdir(parents=True)
    tiny_gguf(lms / "Tiny-Chat-F32.gguf", 512 * 1024, name="lms")
    tiny_gguf(lms / "mmproj-Tiny-F16.gguf", 64 * 1024)
    # llmos: a file dropped by hand, a partial pull, a damaged file
    llmos_dir.mkdir(parents=True)
    tiny_gguf(llmos_dir / "dropped.gguf", 256 * 1024, tools=False)
    (llmos_dir / "qwen2.5-1.5b-instruct-q4_k_m.gguf.0123456789ab.part").write_bytes(b"GGUF" + b"\0" * 100)
    (llmos_dir / "damaged.gguf").write_bytes(b"GGUF\x03\x00\x00\x00" + b"\xff" * 40)
    return {"home": home, "ollama": ollama, "hub": hub, "llmos": llmos_dir, "lms": lms}


def test_every_store_is_found_once_with_its_header_read(machine_stores: dict[str, Path]) -> None:
    found = {m.name: m for m in discover()}
    assert set(found) == {"damaged", "dropped", "hf.co/someone/tiny-chat:Q4_K_M", "qwen2.5-coder-0.5b-instruct",
                          "smollm2:135m", "Tiny-Chat-F32"}  # :latest is the same blob; mmproj, .part left out
    smol = found["smollm2:135m"]
    assert (smol.source, smol.arch, smol.quant, smol.context_length) == ("ollama", "llama", "Q4_1", 8192)
    assert smol.path == SMOLLM.resolve() and smol.size_bytes == SMOLLM.stat().st_size and not smol.tools
    qwen = found["qwen2.5-coder-0.5b-instruct"]  # named after the catalog entry whose file it is
    assert (qwen.source, qwen.repo, qwen.quant, qwen.arch, qwen.context_length, qwen.tools) == (
        "hf-cache", "Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF", "Q4_K_M", "qwen2", 32768, True)
    assert qwen.path == QWEN.resolve()  # used where it is: the blob behind the snapshot symlink
    assert found["Tiny-Chat-F32"].source == "lmstudio" and found["Tiny-Chat-F32"].repo == "lmstudio-community/Tiny-GGUF"
    assert found["dropped"].source == "llmos" and found["dropped"].can_chat and not found["dropped"].tools
    damaged = found["damaged"]
    assert not damaged.can_chat and "truncated GGUF header" in damaged.problem
    assert not any(p.is_symlink() and not p.exists() for p in [m.path for m in found.values()])


def test_locate_turns_names_into_files(machine_stores: dict[str, Path]) -> None:
    assert locate("qwen2.5-coder-0.5b-instruct") == QWEN.resolve()  # catalog name → the HF cache copy
    assert locate("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf") == QWEN.resolve()  # its file name
    assert locate("smollm2:135m") == SMOLLM.resolve()  # an Ollama tag → its model blob
    assert locate("smollm2") == SMOLLM.resolve()  # Ollama's :latest
    assert locate("hf.co/someone/tiny-chat:Q4_K_M") is not None
    assert locate("Tiny-Chat-F32") == (machine_stores["lms"] / "Tiny-Chat-F32.gguf").resolve()
    assert locate("dropped") == machine_stores["llmos"] / "dropped.gguf"
    assert locate(str(SMOLLM)) == SMOLLM.resolve()  # a path is a path
    assert locate("qwen2.5-7b-instruct") is None and locate("nothing:here") is None and locate("") is None


def test_an_empty_machine_finds_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path / "none"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "none"))
    assert discover() == []


# (the Qwen coder too, but the gguf package takes ~20 s over its 151k-token vocabulary: once by hand is enough)
@pytest.mark.parametrize("path", [SMOLLM], ids=["smollm2"])
def test_the_header_reader_agrees_with_the_gguf_package(path: Path) -> None:
    header, reader = read_header(path), GGUFReader(path)
    for key, fld in reader.fields.items():
        if key.startswith("GGUF."):
            continue
        if key.startswith("tokenizer.ggml.") and len(fld.data) > 1024:
            continue  # long arrays are counted, not decoded
        assert header.metadata[key] == pytest.approx(fld.contents()), key
    assert header.vocab_size == len(reader.fields["tokenizer.ggml.tokens"].data)
    assert [(t.name, t.shape) for t in header.tensors] == [(t.name, tuple(int(d) for d in t.shape))
                                                            for t in reader.tensors]
    assert {t.name: t.n_bytes for t in header.tensors} == {t.name: int(t.n_bytes) for t in reader.tensors}
    assert header.data_offset == reader.data_offset


def test_not_a_gguf_file_is_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "notes.gguf"
    bad.write_text("these are notes, not weights\n")
    with pytest.raises(GgufError, match=r"notes\.gguf: not a GGUF file \(starts with b'thes'\)"):
        read_header(bad)


def test_cli_lists_the_discovered_files_with_fit_verdicts(machine_stores: dict[str, Path]) -> None:
    env = {**os.environ, "COLUMNS": "160", "OLLAMA_HOST": "127.0.0.1:9"}
    out = subprocess.run([sys.executable, "-m", "llmos", "models", "--json"], capture_output=True, text=True,
                         timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    gguf = json.loads(out.stdout)["gguf"]
    rows = {r["name"]: r for r in gguf["local"]}
    assert rows["smollm2:135m"]["verdict"] == "runs on CPU" and rows["smollm2:135m"]["estimate"]["num_ctx"] == 4096
    assert rows["damaged"]["verdict"] is None and rows["damaged"]["problem"]
    # the engine runs the most capable tool-calling model on disk: the Qwen coder from the HF cache
    assert gguf["engine"]["model"] == "qwen2.5-coder-0.5b-instruct" and gguf["engine"]["path"] == str(QWEN.resolve())
    assert gguf["engine"]["banner"].startswith("qwen2.5-coder-0.5b-instruct · ctx 4096 · CPU · ")
    table = subprocess.run([sys.executable, "-m", "llmos", "models"], capture_output=True, text=True, timeout=120,
                           env=env)
    assert table.returncode == 0, table.stderr
    assert "GGUF files on disk" in table.stdout and "hf-cache" in table.stdout and "Embedded engine" in table.stdout


def test_header_facts_are_cached_per_file_and_reread_when_it_changes(machine_stores: dict[str, Path]) -> None:
    from llmos.models.header_cache import cache_file

    first = {m.name: m for m in discover()}
    assert cache_file().is_file()
    dropped = machine_stores["llmos"] / "dropped.gguf"
    st = dropped.stat()
    dropped.write_bytes(b"\0" * st.st_size)  # same size, and the old modification time put back:
    os.utime(dropped, ns=(st.st_atime_ns, st.st_mtime_ns))
    cached = {m.name: m for m in discover()}["dropped"]
    assert cached.arch == "llama" and cached.spec == first["dropped"].spec  # the facts came from the cache
    os.utime(dropped, None)  # now it looks changed: read again
    reread = {m.name: m for m in discover()}["dropped"]
    assert not reread.can_chat and "not a GGUF file" in reread.problem
