"""What memory this machine has for models: GPUs with total and free VRAM, or system RAM when there are none.

NVIDIA through NVML (the ``nvidia-ml-py`` package, when installed) or ``nvidia-smi``; AMD through the amdgpu
driver's sysfs files or ``rocm-smi``; Apple Silicon's unified memory through ``sysctl``. Every probe is a
plain function of its inputs (text, a directory, a module) so tests feed it real outputs without a GPU.
"""

from __future__ import annotations

import json
import platform as _platform
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MIB = 1024 * 1024
GIB = 1024 * MIB

NVIDIA_QUERY = ["nvidia-smi", "--query-gpu=index,name,memory.total,memory.used,memory.free,driver_version",
                "--format=csv,noheader,nounits"]
ROCM_QUERY = ["rocm-smi", "--showmeminfo", "vram", "--showproductname", "--json"]
SYSFS_DRM = Path("/sys/class/drm")
AMD_VENDOR = "0x1002"
# Ollama treats an AMD GPU reporting under 1 GiB as an integrated GPU's carve-out and skips it
# (discover: IGPUMemLimit); so do we, or a laptop APU would look like a tiny discrete card.
IGPU_LIMIT = 1 * GIB
PROBE_TIMEOUT_S = 5.0  # a wedged driver can hang nvidia-smi; start-up must not wait on it for long

Runner = Callable[..., subprocess.CompletedProcess]


@dataclass(frozen=True)
class Gpu:
    index: int
    name: str
    vendor: str  # nvidia, amd, apple
    total_bytes: int
    free_bytes: int
    driver: str = ""
    source: str = ""  # nvml, nvidia-smi, sysfs, rocm-smi, sysctl
    unified: bool = False  # shares system RAM (Apple Silicon): the "free" figure is a working-set budget

    @property
    def used_bytes(self) -> int:
        return max(self.total_bytes - self.free_bytes, 0)


@dataclass(frozen=True)
class Machine:
    gpus: tuple[Gpu, ...]
    ram_total_bytes: int
    ram_available_bytes: int
    notes: tuple[str, ...] = ()  # why a probe found nothing, for `llmos doctor`
    hypothetical: bool = False  # a what-if card (--vram-mib), not detected hardware

    @property
    def gpu_free_bytes(self) -> int:
        return sum(g.free_bytes for g in self.gpus)

    @property
    def gpu_total_bytes(self) -> int:
        return sum(g.total_bytes for g in self.gpus)

    @property
    def unified(self) -> bool:
        return any(g.unified for g in self.gpus)

    def with_card(self, vram_mib: int) -> Machine:
        """The same machine with one what-if GPU of ``vram_mib`` MiB, all of it free."""
        card = Gpu(0, f"what-if {vram_mib} MiB GPU", "nvidia", vram_mib * MIB, vram_mib * MIB, source="what-if")
        return Machine((card,), self.ram_total_bytes, self.ram_available_bytes, self.notes, hypothetical=True)

    def to_json(self) -> dict[str, Any]:
        return {"gpus": [{"index": g.index, "name": g.name, "vendor": g.vendor, "total_bytes": g.total_bytes,
                          "free_bytes": g.free_bytes, "used_bytes": g.used_bytes, "driver": g.driver,
                          "source": g.source, "unified": g.unified} for g in self.gpus],
                "ram_total_bytes": self.ram_total_bytes, "ram_available_bytes": self.ram_available_bytes,
                "hypothetical": self.hypothetical, "notes": list(self.notes)}


# --- NVIDIA -----------------------------------------------------------------------------------------------

def _mib(text: str) -> int | None:
    text = text.strip()
    return int(float(text)) * MIB if text and not text.startswith("[") else None  # "[N/A]", "[Not Supported]"


def parse_nvidia_smi(text: str) -> list[Gpu]:
    """Rows of NVIDIA_QUERY: ``0, NVIDIA GeForce RTX 3050 Laptop GPU, 4096, 412, 3536, 551.23`` (MiB).

    Free is taken as printed, not total - used: recent drivers keep some memory reserved, so the three do
    not add up, and only "free" is what a new allocation can get. GPUs without memory figures (unified-memory
    boards print ``[N/A]``) are left out.
    """
    gpus = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 6:
            continue
        # A GPU name never has a comma in practice, but keep the fields around it right if one does.
        index, name, driver = parts[0], ", ".join(parts[1:-4]), parts[-1]
        total, used, free = (_mib(p) for p in parts[-4:-1])
        if total is None or not index.isdigit():
            continue
        if free is None:
            free = total - (used or 0)
        gpus.append(Gpu(int(index), name, "nvidia", total, free, driver, "nvidia-smi"))
    return gpus


def read_nvml(nvml: Any) -> list[Gpu]:
    """Through the ``pynvml`` module of nvidia-ml-py (passed in, so tests give a stand-in)."""
    nvml.nvmlInit()
    try:
        driver = nvml.nvmlSystemGetDriverVersion()
        driver = driver.decode() if isinstance(driver, bytes) else str(driver)
        gpus = []
        for i in range(nvml.nvmlDeviceGetCount()):
            handle = nvml.nvmlDeviceGetHandleByIndex(i)
            name = nvml.nvmlDeviceGetName(handle)
            mem = nvml.nvmlDeviceGetMemoryInfo(handle)
            gpus.append(Gpu(i, name.decode() if isinstance(name, bytes) else str(name), "nvidia",
                            int(mem.total), int(mem.free), driver, "nvml"))
        return gpus
    finally:
        nvml.nvmlShutdown()


# --- AMD --------------------------------------------------------------------------------------------------

def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None


def read_amd_sysfs(root: Path = SYSFS_DRM) -> list[Gpu]:
    """amdgpu's ``card*/device/mem_info_vram_total`` and ``mem_info_vram_used`` (bytes, one number a file)."""
    gpus: list[Gpu] = []
    cards = sorted((p for p in root.glob("card*") if p.name[4:].isdigit()), key=lambda p: int(p.name[4:]))
    for card in cards:
        device = card / "device"
        if _read(device / "vendor") != AMD_VENDOR:
            continue
        total, used = _read(device / "mem_info_vram_total"), _read(device / "mem_info_vram_used")
        if not total or not total.isdigit() or not used or not used.isdigit() or int(total) < IGPU_LIMIT:
            continue
        name = _read(device / "product_name") or f"AMD GPU {_read(device / 'device') or ''}".strip()
        driver = _read(root.parent.parent / "module" / "amdgpu" / "version") or ""
        gpus.append(Gpu(len(gpus), name, "amd", int(total), int(total) - int(used), driver, "sysfs"))
    return gpus


def parse_rocm_smi(text: str) -> list[Gpu]:
    """``rocm-smi --showmeminfo vram --showproductname --json``: per card, bytes as strings."""
    data = json.loads(text)
    gpus = []
    for key in sorted((k for k in data if k.startswith("card")), key=lambda k: int(k[4:] or 0)):
        card = data[key]
        total = card.get("VRAM Total Memory (B)")
        used = card.get("VRAM Total Used Memory (B)")
        if total is None or used is None or int(total) < IGPU_LIMIT:
            continue
        name = card.get("Card Series") or card.get("Card series") or card.get("Card model") or key
        gpus.append(Gpu(int(key[4:] or 0), str(name), "amd", int(total), int(total) - int(used), "", "rocm-smi"))
    return gpus


# --- Apple ------------------------------------------------------------------------------------------------

def apple_working_set(memsize: int, available: int) -> Gpu:
    """Metal lets the GPU wire about 2/3 of RAM up to 36 GiB, 3/4 above (macOS iogpu.wired_limit default,
    reported as recommendedMaxWorkingSetSize); what other programs hold is not available either."""
    budget = memsize * 3 // 4 if memsize > 36 * GIB else memsize * 2 // 3
    return Gpu(0, "Apple Silicon GPU", "apple", budget, min(budget, available), "", "sysctl", unified=True)


# --- the whole machine ------------------------------------------------------------------------------------

@dataclass
class Probes:
    """Everything detection reads from the outside world; tests replace single fields."""

    run: Runner = subprocess.run
    which: Callable[[str], str | None] = shutil.which
    sysfs: Path = SYSFS_DRM
    platform: str = sys.platform
    machine: str = field(default_factory=_platform.machine)
    nvml: Any = None  # a pynvml-like module; None: import nvidia-ml-py if installed
    ram: Callable[[], tuple[int, int]] | None = None  # (total, available); None: psutil


def _command(probes: Probes, argv: Sequence[str]) -> str | None:
    try:
        out = probes.run(list(argv), capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout if out.returncode == 0 else None


def _nvidia(probes: Probes, notes: list[str]) -> list[Gpu]:
    nvml = probes.nvml
    if nvml is None:
        try:
            import pynvml  # nvidia-ml-py: optional, faster than starting nvidia-smi

            nvml = pynvml
        except ImportError:
            nvml = None
    if nvml is not None:
        try:
            return read_nvml(nvml)
        except Exception as exc:  # NVMLError_LibraryNotFound and friends on machines without the driver
            notes.append(f"NVML: {type(exc).__name__}: {exc}".strip(": "))
    if probes.which("nvidia-smi") is None:
        notes.append("no NVIDIA GPU: nvidia-smi is not installed")
        return []
    out = _command(probes, NVIDIA_QUERY)
    if out is None:
        notes.append("nvidia-smi failed (is the NVIDIA driver loaded?)")
        return []
    return parse_nvidia_smi(out)


def _amd(probes: Probes, notes: list[str]) -> list[Gpu]:
    gpus = read_amd_sysfs(probes.sysfs)
    if gpus or probes.which("rocm-smi") is None:
        return gpus
    out = _command(probes, ROCM_QUERY)
    try:
        return parse_rocm_smi(out) if out else []
    except (ValueError, AttributeError):
        notes.append("rocm-smi printed something unexpected")
        return []


def _ram() -> tuple[int, int]:
    import psutil

    vm = psutil.virtual_memory()
    return int(vm.total), int(vm.available)


def detect(probes: Probes | None = None) -> Machine:
    """Probe this machine. Never raises: a failed probe becomes a note and the machine is CPU-only."""
    probes = probes or Probes()
    notes: list[str] = []
    total_ram, available_ram = (probes.ram or _ram)()
    gpus: list[Gpu] = []
    if probes.platform == "darwin":
        if probes.machine == "arm64":
            out = _command(probes, ["sysctl", "-n", "hw.memsize"])
            if out and out.strip().isdigit():
                gpus = [apple_working_set(int(out.strip()), available_ram)]
        else:
            notes.append("Intel Mac: Ollama runs models on the CPU")
    else:
        gpus = _nvidia(probes, notes) + _amd(probes, notes)
    if not gpus:
        notes.append("no GPU found: models run on the CPU from system RAM")
    return Machine(tuple(gpus), total_ram, available_ram, tuple(notes))
