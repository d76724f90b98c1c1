"""GPU detection: real nvidia-smi / rocm-smi / sysctl output from real processes on a temp PATH, amdgpu sysfs
files in a temp tree, NVML through a stand-in (no GPU here), and this machine's CPU-only path for real."""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import psutil
import pytest

from llmos.picker import detect as detect_mod
from llmos.picker.detect import (GIB, MIB, Probes, apple_working_set, detect, parse_nvidia_smi, parse_rocm_smi,
                                 read_amd_sysfs)

# `nvidia-smi --query-gpu=index,name,memory.total,memory.used,memory.free,driver_version
#  --format=csv,noheader,nounits` as drivers print it: MiB without units, ", " between fields, and
# total ≠ used + free on recent drivers (the difference is memory the driver reserves).
RTX3050_LAPTOP = "0, NVIDIA GeForce RTX 3050 Laptop GPU, 4096, 412, 3536, 551.23\n"
TWO_CARDS = ("0, NVIDIA GeForce RTX 4090, 24564, 1735, 22466, 560.35.03\n"
             "1, NVIDIA GeForce RTX 3060, 12288, 10, 12017, 560.35.03\n")
NOT_REPORTED = "0, NVIDIA Jetson Orin, [N/A], [N/A], [N/A], 540.3.0\n"
ROCM_SMI = json.dumps({
    "card0": {"VRAM Total Memory (B)": "17163091968", "VRAM Total Used Memory (B)": "295100416",
              "Card series": "Navi 21 [Radeon RX 6800/6800 XT / 6900 XT]", "Card model": "0x73bf"},
    "card1": {"VRAM Total Memory (B)": "536870912", "VRAM Total Used Memory (B)": "98304000",
              "Card series": "Raphael"},  # an APU's 512 MiB carve-out: not a GPU to plan for
})


def tool(directory: Path, name: str, stdout: str, *, exit_code: int = 0, sleep_s: float = 0) -> None:
    """A real executable printing what the real tool prints."""
    script = directory / name
    script.write_text(f"#!{sys.executable}\nimport sys, time\ntime.sleep({sleep_s})\n"
                      f"sys.stdout.write({stdout!r})\nsys.exit({exit_code})\n")
    script.chmod(0o755)


@pytest.fixture
def bin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty PATH: only the tools a test writes exist."""
    directory = tmp_path / "bin"
    directory.mkdir()
    monkeypatch.setenv("PATH", str(directory))
    return directory


class NoNvml:
    """NVML where the driver library is missing, as pynvml behaves on a machine without NVIDIA."""

    class NVMLError_LibraryNotFound(Exception):
        pass

    def nvmlInit(self) -> None:
        raise self.NVMLError_LibraryNotFound("NVML Shared Library Not Found")


def probes(tmp_path: Path, **kw: object) -> Probes:
    defaults: dict[str, object] = {"sysfs": tmp_path / "no-drm", "platform": "linux", "nvml": NoNvml(),
                                   "ram": lambda: (16 * GIB, 12 * GIB)}
    return Probes(**{**defaults, **kw})  # type: ignore[arg-type]


def test_parse_nvidia_smi_rows() -> None:
    (gpu,) = parse_nvidia_smi(RTX3050_LAPTOP)
    assert (gpu.index, gpu.name, gpu.driver, gpu.source) == (0, "NVIDIA GeForce RTX 3050 Laptop GPU", "551.23",
                                                             "nvidia-smi")
    assert gpu.total_bytes == 4096 * MIB and gpu.free_bytes == 3536 * MIB  # free as printed, not total - used
    both = parse_nvidia_smi(TWO_CARDS)
    assert [(g.index, g.free_bytes // MIB) for g in both] == [(0, 22466), (1, 12017)]
    assert parse_nvidia_smi(NOT_REPORTED) == []  # no memory figures: nothing to plan with
    assert parse_nvidia_smi("No devices were found\n") == []


def test_nvidia_smi_found_on_path(tmp_path: Path, bin_dir: Path) -> None:
    tool(bin_dir, "nvidia-smi", RTX3050_LAPTOP)
    machine = detect(probes(tmp_path))
    assert [g.name for g in machine.gpus] == ["NVIDIA GeForce RTX 3050 Laptop GPU"]
    assert machine.gpu_free_bytes == 3536 * MIB and machine.ram_available_bytes == 12 * GIB
    assert any("NVML" in n for n in machine.notes)  # NVML was tried first and said why it could not help


def test_a_failing_or_hanging_nvidia_smi_leaves_a_cpu_machine(tmp_path: Path, bin_dir: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    tool(bin_dir, "nvidia-smi", "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n",
         exit_code=9)
    machine = detect(probes(tmp_path))
    assert machine.gpus == () and any("nvidia-smi failed" in n for n in machine.notes)
    monkeypatch.setattr(detect_mod, "PROBE_TIMEOUT_S", 0.5)
    tool(bin_dir, "nvidia-smi", RTX3050_LAPTOP, sleep_s=10)
    start = time.monotonic()
    assert detect(probes(tmp_path)).gpus == ()
    assert time.monotonic() - start < 5  # a wedged driver does not hold start-up


def test_nvml_stand_in_is_preferred_to_nvidia_smi(tmp_path: Path, bin_dir: Path) -> None:
    tool(bin_dir, "nvidia-smi", TWO_CARDS)  # must not be used when NVML answers
    calls: list[str] = []
    memory = [SimpleNamespace(total=4096 * MIB, free=3600 * MIB, used=496 * MIB)]
    nvml = SimpleNamespace(
        nvmlInit=lambda: calls.append("init"), nvmlShutdown=lambda: calls.append("shutdown"),
        nvmlSystemGetDriverVersion=lambda: b"551.23", nvmlDeviceGetCount=lambda: 1,
        nvmlDeviceGetHandleByIndex=lambda i: i, nvmlDeviceGetName=lambda h: b"NVIDIA GeForce RTX 3050 Laptop GPU",
        nvmlDeviceGetMemoryInfo=lambda h: memory[h])
    machine = detect(probes(tmp_path, nvml=nvml))
    (gpu,) = machine.gpus
    assert (gpu.name, gpu.driver, gpu.source, gpu.free_bytes) == ("NVIDIA GeForce RTX 3050 Laptop GPU", "551.23",
                                                                  "nvml", 3600 * MIB)
    assert calls == ["init", "shutdown"]


def _card(root: Path, name: str, vendor: str, files: dict[str, str]) -> None:
    device = root / name / "device"
    device.mkdir(parents=True)
    (device / "vendor").write_text(vendor + "\n")
    for key, value in files.items():
        (device / key).write_text(value + "\n")


def test_amd_sysfs_tree(tmp_path: Path, bin_dir: Path) -> None:
    drm = tmp_path / "sys" / "class" / "drm"
    _card(drm, "card0", "0x1002", {"mem_info_vram_total": str(8 * GIB), "mem_info_vram_used": str(GIB),
                                   "product_name": "AMD Radeon RX 7600", "device": "0x7480"})
    _card(drm, "card1", "0x1002", {"mem_info_vram_total": str(512 * MIB), "mem_info_vram_used": str(64 * MIB)})
    _card(drm, "card2", "0x8086", {})  # Intel: no VRAM files
    (drm / "card0-DP-1").mkdir()  # a connector, not a card
    (tmp_path / "sys" / "module" / "amdgpu").mkdir(parents=True)
    (tmp_path / "sys" / "module" / "amdgpu" / "version").write_text("6.8.5\n")
    (gpu,) = read_amd_sysfs(drm)
    assert (gpu.name, gpu.vendor, gpu.driver, gpu.source) == ("AMD Radeon RX 7600", "amd", "6.8.5", "sysfs")
    assert (gpu.total_bytes, gpu.free_bytes, gpu.used_bytes) == (8 * GIB, 7 * GIB, GIB)
    assert detect(probes(tmp_path, sysfs=drm)).gpus == (gpu,)


def test_rocm_smi_when_sysfs_has_nothing(tmp_path: Path, bin_dir: Path) -> None:
    assert [(g.name, g.free_bytes) for g in parse_rocm_smi(ROCM_SMI)] == [
        ("Navi 21 [Radeon RX 6800/6800 XT / 6900 XT]", 17163091968 - 295100416)]
    tool(bin_dir, "rocm-smi", ROCM_SMI)
    (gpu,) = detect(probes(tmp_path)).gpus
    assert gpu.source == "rocm-smi" and gpu.total_bytes == 17163091968


def test_apple_silicon_unified_memory(tmp_path: Path, bin_dir: Path) -> None:
    tool(bin_dir, "sysctl", f"{16 * GIB}\n")
    machine = detect(probes(tmp_path, platform="darwin", machine="arm64", ram=lambda: (16 * GIB, 9 * GIB)))
    (gpu,) = machine.gpus
    assert gpu.unified and machine.unified and gpu.vendor == "apple"
    assert gpu.total_bytes == 16 * GIB * 2 // 3  # Metal's working set: 2/3 of RAM up to 36 GiB
    assert gpu.free_bytes == 9 * GIB  # bounded by what other programs leave
    assert apple_working_set(64 * GIB, 60 * GIB).total_bytes == 48 * GIB  # 3/4 above 36 GiB
    intel = detect(probes(tmp_path, platform="darwin", machine="x86_64"))
    assert intel.gpus == () and any("Intel Mac" in n for n in intel.notes)


def test_what_if_card() -> None:
    machine = detect(Probes(sysfs=Path("/nonexistent"), nvml=NoNvml(), which=lambda name: None))
    card = machine.with_card(4096)
    assert card.hypothetical and card.gpu_free_bytes == card.gpu_total_bytes == 4096 * MIB
    assert card.ram_total_bytes == machine.ram_total_bytes


def test_this_machine_for_real() -> None:
    """No stand-ins: whatever this machine has. The CI and developer machines have no GPU."""
    machine = detect()
    vm = psutil.virtual_memory()
    assert machine.ram_total_bytes == vm.total
    assert 0 < machine.ram_available_bytes <= vm.total
    has_nvidia = shutil.which("nvidia-smi") is not None
    has_amd = any(int(f.read_text() or 0) >= GIB  # Ollama's iGPU limit: smaller carve-outs are not GPUs
                  for f in Path("/sys/class/drm").glob("card*/device/mem_info_vram_total"))
    assert bool(machine.gpus) == (has_nvidia or has_amd or sys.platform == "darwin")
    if not machine.gpus:
        assert "no GPU found: models run on the CPU from system RAM" in machine.notes
    json.dumps(machine.to_json())  # what `llmos doctor --json` prints
