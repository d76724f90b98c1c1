"""GGUF files already on this machine, used where they are (never copied).

Four places are searched:
  ollama    Ollama's store ($OLLAMA_MODELS, ~/.ollama/models, the Linux service's /usr/share/ollama/...):
            manifests/<registry>/<namespace>/<model>/<tag> name the ``application/vnd.ollama.image.model``
            layer, whose blob (blobs/sha256-<hex>) is a plain GGUF file
  lmstudio  LM Studio's models folder (~/.lmstudio/models, ~/.cache/lm-studio/models): <publisher>/<repo>/*.gguf
  hf-cache  the Hugging Face hub cache ($HF_HUB_CACHE, $HF_HOME/hub, ~/.cache/huggingface/hub):
            models--<org>--<name>/snapshots/<revision>/**.gguf (symlinks into blobs/)
  llmos     $XDG_DATA_HOME/llm-os/models/ — where `llmos models pull` stores files; drop any .gguf there

Each file's header is read (quantization, architecture, context length); vision projectors and split
parts after the first are left out. ``locate`` turns a configured model name into a file.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmos.models.gguf_header import GgufError, read_header
from llmos.models.header_cache import HeaderCache, spec_from_json, spec_to_json
from llmos.picker.estimate import MetadataError, ModelSpec, spec_from_header

MODEL_LAYER = "application/vnd.ollama.image.model"
OLLAMA_REGISTRY = "registry.ollama.ai"
OLLAMA_SERVICE_STORE = Path("/usr/share/ollama/.ollama/models")  # the Linux installer's systemd user
_SPLIT = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$", re.IGNORECASE)
PART_SUFFIX = ".part"  # an unfinished `llmos models pull`


@dataclass(frozen=True)
class LocalModel:
    name: str  # what to write in the config: an Ollama tag, or the file's stem
    path: Path
    size_bytes: int
    source: str  # ollama, lmstudio, hf-cache, llmos
    quant: str = ""
    arch: str = ""
    context_length: int = 0
    parameters: int = 0
    tools: bool = False
    spec: ModelSpec | None = None  # None: the header could not be read or lacks numbers (see ``problem``)
    problem: str = ""
    repo: str = ""  # hf-cache and lmstudio: the repo it came from

    @property
    def can_chat(self) -> bool:
        return self.spec is not None and self.arch not in ("clip", "bert", "nomic-bert")

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "path": str(self.path), "size_bytes": self.size_bytes, "source": self.source,
                "quantization": self.quant, "architecture": self.arch, "context_length": self.context_length,
                "parameters": self.parameters, "tools": self.tools, "repo": self.repo or None,
                "problem": self.problem or None}


# --- where each store lives -------------------------------------------------------------------------------

def _home(env: Mapping[str, str]) -> Path:
    return Path(env.get("HOME") or Path.home())


def ollama_stores(env: Mapping[str, str] | None = None) -> list[Path]:
    env = os.environ if env is None else env
    if env.get("OLLAMA_MODELS"):
        return [Path(env["OLLAMA_MODELS"]).expanduser()]
    return [_home(env) / ".ollama" / "models", OLLAMA_SERVICE_STORE]


def lmstudio_dirs(env: Mapping[str, str] | None = None) -> list[Path]:
    home = _home(os.environ if env is None else env)
    return [home / ".lmstudio" / "models", home / ".cache" / "lm-studio" / "models"]


def hf_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("HF_HUB_CACHE"):
        return Path(env["HF_HUB_CACHE"]).expanduser()
    if env.get("HF_HOME"):
        return Path(env["HF_HOME"]).expanduser() / "hub"
    xdg = env.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else _home(env) / ".cache") / "huggingface" / "hub"


def llmos_dir() -> Path:
    from llmos import paths

    return paths.models_dir()


# --- reading one file -------------------------------------------------------------------------------------

def describe(path: Path, name: str, source: str, repo: str = "", cache: HeaderCache | None = None) -> LocalModel:
    """A LocalModel for one GGUF file, its header read (or its cached facts); unreadable files are kept, with
    the problem said."""
    from dataclasses import replace

    size = _size(path)
    facts = cache.get(path) if cache is not None else None
    if facts is None:
        facts = _header_facts(path)
        if cache is not None:
            cache.put(path, facts)
    spec = spec_from_json(facts.get("spec"))
    if spec is not None:
        # A split model's first part holds only some tensors: size the estimate by all the parts.
        spec = replace(spec, name=name, weights_bytes=max(spec.weights_bytes, size))
    return LocalModel(name, path, size, source, facts.get("quant", ""), facts.get("arch", ""),
                      int(facts.get("context_length", 0)), int(facts.get("parameters", 0)),
                      bool(facts.get("tools", False)), spec, facts.get("problem", ""), repo)


def _header_facts(path: Path) -> dict[str, Any]:
    try:
        header = read_header(path)
    except GgufError as exc:
        return {"problem": str(exc)}
    facts: dict[str, Any] = {"quant": header.quant, "arch": header.architecture,
                             "context_length": header.context_length, "parameters": header.parameters}
    try:
        spec = spec_from_header(header)
    except MetadataError as exc:
        return {**facts, "problem": str(exc)}
    return {**facts, "tools": spec.tools, "spec": spec_to_json(spec)}


def _size(path: Path) -> int:
    """The file's size; for the first of a split model (-00001-of-0000N.gguf), all parts together."""
    try:
        total = path.stat().st_size
    except OSError:
        return 0
    m = _SPLIT.search(path.name)
    if m and int(m.group(1)) == 1:
        prefix = path.name[:m.start()]
        for i in range(2, int(m.group(2)) + 1):
            part = path.with_name(f"{prefix}-{i:05d}-of-{m.group(2)}.gguf")
            total += part.stat().st_size if part.exists() else 0
    return total


def _wanted(path: Path) -> bool:
    """A model file worth listing: not a vision projector, not a later part of a split model."""
    name = path.name.lower()
    if not name.endswith(".gguf") or name.startswith("mmproj") or "-mmproj" in name:
        return False
    m = _SPLIT.search(path.name)
    return m is None or int(m.group(1)) == 1


# --- the stores -------------------------------------------------------------------------------------------

def ollama_tag(manifest: Path, manifests_root: Path) -> str:
    """manifests/registry.ollama.ai/library/llama3.2/3b → llama3.2:3b (other namespaces and registries
    keep their prefix, as `ollama list` shows them)."""
    parts = manifest.relative_to(manifests_root).parts
    if len(parts) < 4:
        return "/".join(parts)
    registry, namespace, model, tag = parts[0], parts[1], "/".join(parts[2:-1]), parts[-1]
    if registry == OLLAMA_REGISTRY:
        return f"{model}:{tag}" if namespace == "library" else f"{namespace}/{model}:{tag}"
    return f"{registry}/{namespace}/{model}:{tag}"


def ollama_blob(store: Path, manifest: Path) -> Path | None:
    """The model layer's blob named by a manifest, if it is on disk."""
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    layers = data.get("layers") if isinstance(data, dict) else None
    for layer in layers if isinstance(layers, list) else []:
        if isinstance(layer, dict) and layer.get("mediaType") == MODEL_LAYER:
            digest = str(layer.get("digest") or "")
            for blob in (store / "blobs" / digest.replace(":", "-"), store / "blobs" / digest):
                if digest and blob.is_file():
                    return blob
    return None


def _ollama(store: Path) -> Iterator[tuple[Path, str, str]]:
    root = store / "manifests"
    if not root.is_dir():
        return
    for manifest in sorted(p for p in root.rglob("*") if p.is_file()):
        blob = ollama_blob(store, manifest)
        if blob is not None:
            yield blob, ollama_tag(manifest, root), ""


def _lmstudio(root: Path) -> Iterator[tuple[Path, str, str]]:
    for path in sorted(root.rglob("*.gguf")) if root.is_dir() else []:
        if _wanted(path):
            rel = path.relative_to(root).parts
            yield path, path.stem, "/".join(rel[:2]) if len(rel) >= 3 else ""


def _hf_cache(root: Path) -> Iterator[tuple[Path, str, str]]:
    for repo_dir in sorted(root.glob("models--*")) if root.is_dir() else []:
        repo = repo_dir.name.removeprefix("models--").replace("--", "/")
        for path in sorted(repo_dir.glob("snapshots/*/**/*.gguf")):
            if _wanted(path) and path.exists():  # a dangling symlink is a download that never finished
                yield path, path.stem, repo


def _llmos(root: Path) -> Iterator[tuple[Path, str, str]]:
    for path in sorted(root.rglob("*.gguf")) if root.is_dir() else []:
        if _wanted(path) and ".cache" not in path.relative_to(root).parts:
            yield path, path.stem, ""


def _candidates(env: Mapping[str, str] | None) -> Iterator[tuple[Path, str, str, str]]:
    for path, name, repo in _llmos(llmos_dir()):
        yield path, name, "llmos", repo
    for store in ollama_stores(env):
        for path, name, repo in _ollama(store):
            yield path, name, "ollama", repo
    for root in lmstudio_dirs(env):
        for path, name, repo in _lmstudio(root):
            yield path, name, "lmstudio", repo
    for path, name, repo in _hf_cache(hf_cache_dir(env)):
        yield path, name, "hf-cache", repo


def discover(env: Mapping[str, str] | None = None) -> list[LocalModel]:
    """Every GGUF model file on this machine, each once (the same blob under two names keeps the first)."""
    seen: set[Path] = set()
    found = []
    cache = HeaderCache()
    for path, name, source, repo in _candidates(env):
        try:
            real = path.resolve()
        except OSError:
            continue
        if real in seen:
            continue
        seen.add(real)
        found.append(describe(real, _catalog_name(path) or name, source, repo, cache))
    cache.save()
    return found


def _catalog_name(path: Path) -> str | None:
    """A catalog model's file keeps its catalog name wherever it was found (HF cache, LM Studio, llmos)."""
    from llmos.models import catalog

    entry = catalog.get(path.name)
    return entry.name if entry else None


# --- names → files ----------------------------------------------------------------------------------------

def locate(name_or_path: str, env: Mapping[str, str] | None = None) -> Path | None:
    """The GGUF file for a configured model: a path to a file; a catalog name (qwen2.5-1.5b-instruct) or its
    file name; an Ollama tag (qwen2.5:3b, llama3.2 → :latest); or the stem of any discovered file. None
    when nothing on disk matches (`llmos models pull NAME` fetches catalog models)."""
    text = name_or_path.strip()
    if not text:
        return None
    direct = Path(text).expanduser()
    if (os.sep in text or text.lower().endswith(".gguf")) and direct.is_file():
        return direct.resolve()
    if ":" in text:
        return _ollama_by_tag(text, env)
    wanted = {text.lower()}
    from llmos.models import catalog

    entry = catalog.get(text)
    if entry is not None:
        wanted |= {entry.name, entry.file.lower(), Path(entry.file).stem.lower()}
    for path, name, _source, _repo in _candidates(env):
        if name.lower() in wanted or path.name.lower() in wanted:
            return path.resolve()
    return _ollama_by_tag(text, env)  # llama3.2 means llama3.2:latest, as in Ollama


def _ollama_by_tag(tag: str, env: Mapping[str, str] | None) -> Path | None:
    name = tag.removeprefix(f"{OLLAMA_REGISTRY}/library/")
    names = {name, f"{name}:latest"} if ":" not in name.rsplit("/", 1)[-1] else {name}
    for store in ollama_stores(env):
        for blob, found, _ in _ollama(store):
            if found in names:
                return blob.resolve()
    return None
