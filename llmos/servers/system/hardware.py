"""The computer itself: overview, disks, battery, temperatures, GPU."""

from __future__ import annotations

import os
import platform
import socket
import time

import psutil

from llmos.servers.common import READ_ONLY
from llmos.servers.system.models import (Battery, Disk, Disks, Gpu, GpuInfo, Memory, Overview, Sensor,
                                         Temperatures)
from llmos.servers.system.units import duration, human
from llmos.servers.tooling import Tool, facts

SAMPLE_S = 0.15  # CPU measuring window: long enough to be meaningful, short enough to keep calls snappy
# disk_partitions(all=False) already drops most virtual filesystems; these can still slip through.
_PSEUDO_FS = {"proc", "sysfs", "squashfs", "tmpfs", "devtmpfs", "overlay", "fuse.snapfuse", "fuse.portal"}
_NVIDIA_QUERY = "name,memory.total,memory.used,memory.free,driver_version,temperature.gpu,utilization.gpu"
_NVIDIA_SMI = ["nvidia-smi", f"--query-gpu={_NVIDIA_QUERY}", "--format=csv,noheader,nounits"]


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _distro() -> str | None:
    try:
        return platform.freedesktop_os_release().get("PRETTY_NAME")
    except OSError:
        return None


def system_overview() -> Overview:
    """This computer's name (hostname), how many CPU cores and how much memory (RAM) it has, OS, uptime, load."""
    vm, sw = psutil.virtual_memory(), psutil.swap_memory()
    uptime = time.time() - psutil.boot_time()
    cpu = psutil.cpu_percent(interval=SAMPLE_S)
    distro = _distro()
    # The host's name and the core count lead: a small model answers "what's this computer called?" or "how
    # many cores have I got?" from the summary's words, and made up "an 8-core CPU" when only a field had it;
    # the memory's size comes before its use ("memory 2.2 GB of 23.5 GB used" → "it has 2.2 GB of RAM").
    summary = (f"host {socket.gethostname()}, {distro or platform.system()}, up {duration(uptime)}, "
               f"{psutil.cpu_count()} CPU cores at {cpu:.0f}%, {human(vm.total)} of memory "
               f"({human(vm.total - vm.available)} used, {vm.percent:.0f}%)")
    return Overview(summary=summary, os=platform.system(), distro=distro, kernel=platform.release(),
                    architecture=platform.machine(), hostname=socket.gethostname(),
                    uptime_seconds=int(uptime), uptime=duration(uptime), cpu_model=_cpu_model(),
                    cpu_logical=psutil.cpu_count(), cpu_physical=psutil.cpu_count(logical=False),
                    cpu_percent=cpu, load_average=[round(x, 2) for x in psutil.getloadavg()],
                    memory=Memory(total=vm.total, used=vm.total - vm.available, available=vm.available,
                                  percent=vm.percent),
                    swap=Memory(total=sw.total, used=sw.used, available=sw.free, percent=sw.percent))


def disk_usage() -> Disks:
    """List mounted disks with total, used and free space. Use for "how much space is left"."""
    disks = []
    for part in psutil.disk_partitions(all=False):
        # Snaps are squashfs loop mounts and containers bind-mount single files: neither is a disk.
        if (part.fstype in _PSEUDO_FS or part.device.startswith("/dev/loop")
                or part.mountpoint.startswith("/snap/") or not os.path.isdir(part.mountpoint)):
            continue
        try:
            u = psutil.disk_usage(part.mountpoint)
        except OSError:
            continue
        disks.append(Disk(mountpoint=part.mountpoint, device=part.device, fstype=part.fstype,
                          total=u.total, used=u.used, free=u.free, percent=u.percent))
    disks.sort(key=lambda d: d.mountpoint)
    summary = "; ".join(f"{d.mountpoint}: {human(d.free)} free of {human(d.total)}" for d in disks)
    return Disks(summary=summary or "no disks found", disks=disks)


def battery_status() -> Battery:
    """Battery charge, whether it is plugged in, and time left; says so when there is no battery."""
    b = psutil.sensors_battery() if hasattr(psutil, "sensors_battery") else None
    if b is None:
        return Battery(present=False, seconds_left=None, message="No battery detected on this computer.")
    left = b.secsleft if isinstance(b.secsleft, int) and b.secsleft >= 0 else None
    state = "plugged in" if b.power_plugged else "on battery"
    message = f"Battery at {b.percent:.0f}%, {state}" + (f", {duration(left)} left." if left else ".")
    return Battery(present=True, percent=round(b.percent, 1), plugged_in=b.power_plugged,
                   seconds_left=left, message=message)


def temperatures() -> Temperatures:
    """Hardware temperature sensors (CPU, disks, ...) in Celsius, where the system exposes them."""
    found = psutil.sensors_temperatures() if hasattr(psutil, "sensors_temperatures") else {}
    sensors = [Sensor(chip=chip, label=t.label or chip, current_c=t.current, high_c=t.high,
                      critical_c=t.critical) for chip, entries in found.items() for t in entries]
    if not sensors:
        return Temperatures(available=False, sensors=[],
                            message="No temperature sensors are visible on this computer.")
    hot = max(sensors, key=lambda s: s.current_c)
    return Temperatures(available=True, sensors=sensors,
                        message=f"{len(sensors)} sensors; hottest {hot.label} at {hot.current_c:.0f}°C.")


def parse_nvidia_csv(text: str) -> list[Gpu]:
    """The rows printed by the _NVIDIA_SMI command: one GPU per line, MiB, °C and percent without units."""
    import csv

    def num(value: str) -> float | None:
        try:
            return float(value)
        except ValueError:  # "[N/A]", "[Not Supported]"
            return None

    gpus = []
    for row in csv.reader(text.splitlines(), skipinitialspace=True):
        if len(row) < 7:
            continue
        name, total, used, free, driver, temp, util = (c.strip() for c in row[:7])
        mib = [int(v) if (v := num(x)) is not None else None for x in (total, used, free)]
        gpus.append(Gpu(name=name, memory_total_mib=mib[0], memory_used_mib=mib[1], memory_free_mib=mib[2],
                        driver_version=None if driver.startswith("[") else driver,
                        temperature_c=num(temp), utilization_percent=num(util)))
    return gpus


def gpu_info() -> GpuInfo:
    """Graphics cards: model, memory, driver, temperature and load (NVIDIA via nvidia-smi)."""
    import shutil
    import subprocess

    if shutil.which("nvidia-smi") is None:
        return GpuInfo(detected=False, gpus=[], message="No GPU detected (nvidia-smi is not installed).")
    try:
        run = subprocess.run(_NVIDIA_SMI, check=False, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return GpuInfo(detected=False, gpus=[], message=f"No GPU detected: nvidia-smi failed ({exc}).")
    gpus = parse_nvidia_csv(run.stdout) if run.returncode == 0 else []
    if not gpus:
        why = (run.stderr or run.stdout).strip().splitlines()
        return GpuInfo(detected=False, gpus=[], message="No GPU detected"
                       + (f": {why[0]}" if why else " (nvidia-smi listed none)."))
    return GpuInfo(detected=True, gpus=gpus, message=", ".join(
        f"{g.name} ({g.memory_used_mib}/{g.memory_total_mib} MiB used)" for g in gpus))


OVERVIEW = [
    Tool(system_overview, READ_ONLY, facts(), title="System overview"),
    Tool(disk_usage, READ_ONLY, facts(), title="Disk space"),
]
SENSORS = [
    Tool(battery_status, READ_ONLY, facts(), title="Battery"),
    Tool(temperatures, READ_ONLY, facts(), title="Temperatures"),
    Tool(gpu_info, READ_ONLY, facts(), title="GPU"),
]
