"""The machine itself: CPU, memory, disks, processes, network, battery, temperatures, GPU, environment.

Everything is read-only except `kill_process`. CPU percentages are measured over a short window (≤0.2 s)
so every answer describes "now", never an average since some earlier call."""

from __future__ import annotations

import os
import platform
import socket
import time
from typing import Annotated, Any, Literal

import psutil
from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel, Field

from llmos.servers.common import DESTRUCTIVE, READ_ONLY, ToolError, cap, new_server

_SAMPLE_S = 0.15  # CPU measuring window: long enough to be meaningful, short enough to keep calls snappy
_CMDLINE_CHARS = 200
# disk_partitions(all=False) already drops most virtual filesystems; these can still slip through.
_PSEUDO_FS = {"proc", "sysfs", "squashfs", "tmpfs", "devtmpfs", "overlay", "fuse.snapfuse", "fuse.portal"}
_NVIDIA_QUERY = "name,memory.total,memory.used,memory.free,driver_version,temperature.gpu,utilization.gpu"
_NVIDIA_SMI = ["nvidia-smi", f"--query-gpu={_NVIDIA_QUERY}", "--format=csv,noheader,nounits"]


class Memory(BaseModel):
    total: int = Field(description="bytes")
    used: int
    available: int
    percent: float


class Overview(BaseModel):
    summary: str
    os: str
    distro: str | None
    kernel: str
    architecture: str
    hostname: str
    uptime_seconds: int
    uptime: str
    cpu_model: str | None
    cpu_logical: int | None
    cpu_physical: int | None
    cpu_percent: float
    load_average: list[float] = Field(description="1, 5 and 15 minute load averages")
    memory: Memory
    swap: Memory


class Disk(BaseModel):
    mountpoint: str
    device: str
    fstype: str
    total: int = Field(description="bytes")
    used: int
    free: int
    percent: float


class Disks(BaseModel):
    summary: str
    disks: list[Disk]


class ProcessInfo(BaseModel):
    pid: int
    name: str
    user: str | None
    cpu_percent: float | None = Field(None, description="percent of one CPU; can exceed 100 on multi-core")
    memory_rss: int | None = Field(None, description="resident memory in bytes")
    cmdline: str = ""


class TopProcesses(BaseModel):
    sort_by: str
    processes: list[ProcessInfo]
    total_processes: int
    more: int = Field(description="processes not shown")


class FoundProcesses(BaseModel):
    query: str
    pids: list[int]
    processes: list[ProcessInfo]
    more: int


class ProcessDetails(ProcessInfo):
    ppid: int | None
    parent_name: str | None
    status: str
    exe: str | None
    cwd: str | None
    started: str = Field(description="local time the process started, ISO 8601")
    running_seconds: int
    memory_percent: float | None
    threads: int | None
    children: list[int]


class KillResult(BaseModel):
    pid: int
    name: str
    signal: str
    exited: bool
    message: str


class Address(BaseModel):
    family: str = Field(description="ipv4, ipv6 or mac")
    address: str
    netmask: str | None = None


class Interface(BaseModel):
    name: str
    is_up: bool
    speed_mbps: int | None = Field(description="link speed; None when unknown")
    mtu: int
    addresses: list[Address]


class Listener(BaseModel):
    protocol: str
    address: str
    port: int
    pid: int | None
    process: str | None


class Network(BaseModel):
    interfaces: list[Interface]
    connection_counts: dict[str, int] = Field(description="TCP connections by state, plus UDP sockets")
    listening: list[Listener]
    more_listening: int
    note: str | None = None


class Battery(BaseModel):
    present: bool
    percent: float | None = None
    plugged_in: bool | None = None
    seconds_left: int | None = Field(None, description="None when charging or unknown")
    message: str


class Sensor(BaseModel):
    chip: str
    label: str
    current_c: float
    high_c: float | None
    critical_c: float | None


class Temperatures(BaseModel):
    available: bool
    sensors: list[Sensor]
    message: str


class Gpu(BaseModel):
    name: str
    memory_total_mib: int | None
    memory_used_mib: int | None
    memory_free_mib: int | None
    driver_version: str | None
    temperature_c: float | None
    utilization_percent: float | None


class GpuInfo(BaseModel):
    detected: bool
    gpus: list[Gpu]
    message: str


class Environment(BaseModel):
    user: str
    uid: int
    home: str
    hostname: str
    shell: str | None
    desktop: str | None
    session_type: str | None = Field(description="x11, wayland or tty")
    display: str | None
    locale: str | None
    terminal: str | None
    path_dirs: int


def human(n: float) -> str:
    unit = "B"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            break
        n /= 1024
    return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"


def duration(seconds: float) -> str:
    days, rest = divmod(int(seconds), 86400)
    amounts = [(days, "day"), (rest // 3600, "hour"), (rest % 3600 // 60, "minute")]
    parts = [f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in amounts if n]
    return ", ".join(parts) or "less than a minute"


def _cmdline(parts: list[str] | None) -> str:
    text = " ".join(parts or [])
    return text if len(text) <= _CMDLINE_CHARS else text[:_CMDLINE_CHARS] + "…"


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


def _sampled_processes() -> list[psutil.Process]:
    """All processes with cpu_percent primed, then measured over one short shared window."""
    procs = list(psutil.process_iter(["pid", "name", "username", "memory_info", "cmdline"], ad_value=None))
    for p in procs:
        try:
            p.cpu_percent(None)
        except psutil.Error:
            pass
    time.sleep(_SAMPLE_S)
    return procs


def _info(p: psutil.Process, cpu: float | None = None) -> ProcessInfo:
    d = p.info
    mem = d.get("memory_info")
    return ProcessInfo(pid=p.pid, name=d.get("name") or "?", user=d.get("username"), cpu_percent=cpu,
                       memory_rss=mem.rss if mem else None, cmdline=_cmdline(d.get("cmdline")))


def _process(pid: int) -> psutil.Process:
    try:
        return psutil.Process(pid)
    except psutil.NoSuchProcess:
        raise ToolError(f"No process with PID {pid} is running.") from None


def _exited(p: psutil.Process, within: float) -> bool:
    """Whether ``p`` is gone (or a zombie: dead, only waiting for its parent to collect it).

    Polls rather than p.wait(): wait() would reap llmos's own children and rob whoever started them
    (a Popen in another server) of the real exit status."""
    deadline = time.monotonic() + within
    while True:
        try:
            # is_running() is False once the PID is gone or reused by a newer process.
            if not p.is_running() or p.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)


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


def build_server(settings: dict[str, Any]) -> MCPServer:
    server = new_server("system", "Facts about this computer (CPU, memory, disks, processes, network, "
                                  "battery, temperatures, GPU, environment) and ending a process by PID.")
    # How long kill_process waits to see the process go before reporting it as still running.
    wait_s = float(settings.get("kill_wait_seconds", 3.0))

    @server.tool(title="System overview", annotations=READ_ONLY)
    def system_overview() -> Overview:
        """Summarize this computer: OS, kernel, hostname, uptime, CPU, load, memory, swap."""
        vm, sw = psutil.virtual_memory(), psutil.swap_memory()
        uptime = time.time() - psutil.boot_time()
        cpu = psutil.cpu_percent(interval=_SAMPLE_S)
        distro = _distro()
        summary = (f"{distro or platform.system()}, up {duration(uptime)}, CPU {cpu:.0f}%, memory "
                   f"{human(vm.total - vm.available)} of {human(vm.total)} used ({vm.percent:.0f}%)")
        return Overview(summary=summary, os=platform.system(), distro=distro, kernel=platform.release(),
                        architecture=platform.machine(), hostname=socket.gethostname(),
                        uptime_seconds=int(uptime), uptime=duration(uptime), cpu_model=_cpu_model(),
                        cpu_logical=psutil.cpu_count(), cpu_physical=psutil.cpu_count(logical=False),
                        cpu_percent=cpu, load_average=[round(x, 2) for x in psutil.getloadavg()],
                        memory=Memory(total=vm.total, used=vm.total - vm.available, available=vm.available,
                                      percent=vm.percent),
                        swap=Memory(total=sw.total, used=sw.used, available=sw.free, percent=sw.percent))

    @server.tool(title="Disk space", annotations=READ_ONLY)
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

    @server.tool(title="Top processes", annotations=READ_ONLY)
    def top_processes(
        sort_by: Annotated[Literal["cpu", "memory"], Field(description="rank by cpu or memory use")] = "cpu",
        limit: Annotated[int, Field(description="how many to show", ge=1, le=50)] = 10,
    ) -> TopProcesses:
        """Show the processes using the most CPU or memory right now, with their PIDs."""
        procs = _sampled_processes()
        rows = []
        for p in procs:
            try:
                rows.append(_info(p, p.cpu_percent(None)))
            except psutil.Error:  # it exited during the sample
                continue
        rows.sort(key=lambda r: (r.cpu_percent or 0.0, r.memory_rss or 0) if sort_by == "cpu"
                  else (r.memory_rss or 0, r.cpu_percent or 0.0), reverse=True)
        shown, more = cap(rows, limit)
        return TopProcesses(sort_by=sort_by, processes=shown, total_processes=len(rows), more=more)

    @server.tool(title="Find processes", annotations=READ_ONLY)
    def find_processes(
        name: Annotated[str, Field(description="part of the program name or command line, any case")],
        limit: Annotated[int, Field(description="most matches to show", ge=1, le=100)] = 20,
    ) -> FoundProcesses:
        """Find running processes whose name or command line contains some text; gives their PIDs."""
        needle = name.strip().lower()
        if not needle:
            raise ToolError("Give part of a process name to search for.")
        found = []
        for p in psutil.process_iter(["pid", "name", "username", "memory_info", "cmdline"], ad_value=None):
            text = f"{p.info.get('name') or ''}\0{' '.join(p.info.get('cmdline') or [])}".lower()
            if needle in text:
                found.append(_info(p))
        shown, more = cap(found, limit)
        return FoundProcesses(query=name, pids=[f.pid for f in found], processes=shown, more=more)

    @server.tool(title="Process details", annotations=READ_ONLY)
    def process_details(pid: Annotated[int, Field(description="process ID", ge=1)]) -> ProcessDetails:
        """Everything about one process by PID: command, user, status, parent, children, CPU and memory."""
        p = _process(pid)
        try:
            with p.oneshot():
                d = p.as_dict(["name", "username", "memory_info", "cmdline", "ppid", "status", "exe", "cwd",
                               "create_time", "memory_percent", "num_threads"], ad_value=None)
                children = [c.pid for c in p.children()]
            cpu = p.cpu_percent(interval=_SAMPLE_S)
            parent = p.parent()
            parent_name = parent.name() if parent else None
        except psutil.NoSuchProcess:
            raise ToolError(f"Process {pid} exited while being inspected.") from None
        except psutil.AccessDenied:
            raise ToolError(f"Permission denied reading process {pid}.") from None
        mem = d["memory_info"]
        started = d["create_time"] or time.time()
        return ProcessDetails(pid=pid, name=d["name"] or "?", user=d["username"], cpu_percent=cpu,
                              memory_rss=mem.rss if mem else None, cmdline=_cmdline(d["cmdline"]),
                              ppid=d["ppid"], parent_name=parent_name, status=d["status"],
                              exe=d["exe"] or None, cwd=d["cwd"],
                              started=time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
                              running_seconds=int(time.time() - started),
                              memory_percent=round(d["memory_percent"], 2) if d["memory_percent"] else None,
                              threads=d["num_threads"], children=children)

    @server.tool(title="End a process", annotations=DESTRUCTIVE)
    def kill_process(
        pid: Annotated[int, Field(description="process ID to end", ge=1)],
        force: Annotated[bool, Field(description="SIGKILL instead of a polite SIGTERM; use only if it "
                                                 "ignored the polite request")] = False,
    ) -> KillResult:
        """End a process by PID (asks it to quit; force kills it outright). Find the PID first."""
        if pid == 1:
            raise ToolError("Refusing to end PID 1: it is the system's init process and ending it would "
                            "bring the whole system down.")
        if pid in (os.getpid(), os.getppid()):
            raise ToolError(f"Refusing to end PID {pid}: it is llmos itself (or the program running it).")
        p = _process(pid)
        try:
            name = p.name()
            if force:
                p.kill()
            else:
                p.terminate()
        except psutil.NoSuchProcess:
            raise ToolError(f"No process with PID {pid} is running.") from None
        except psutil.AccessDenied:
            owner = p.as_dict(["username"], ad_value=None).get("username") or "another user"
            raise ToolError(f"Permission denied: process {pid} ({name}) belongs to {owner}, so ending it "
                            "needs that user's or administrator rights.") from None
        signal = "SIGKILL" if force else "SIGTERM"
        exited = _exited(p, wait_s)
        message = (f"{name} (PID {pid}) has exited." if exited else
                   f"Sent {signal} to {name} (PID {pid}) but it is still running"
                   + ("." if force else "; use force to kill it outright."))
        return KillResult(pid=pid, name=name, signal=signal, exited=exited, message=message)

    @server.tool(title="Network", annotations=READ_ONLY)
    def network_info(
        limit: Annotated[int, Field(description="most listening ports to show", ge=1, le=200)] = 50,
    ) -> Network:
        """Network interfaces (addresses, up/down, speed), connection counts and listening ports with PIDs."""
        families = {socket.AF_INET: "ipv4", socket.AF_INET6: "ipv6", psutil.AF_LINK: "mac"}
        stats, addrs = psutil.net_if_stats(), psutil.net_if_addrs()
        interfaces = []
        for nic in sorted(set(stats) | set(addrs)):
            st = stats.get(nic)
            interfaces.append(Interface(
                name=nic, is_up=bool(st and st.isup), speed_mbps=(st.speed or None) if st else None,
                mtu=st.mtu if st else 0,
                addresses=[Address(family=families[a.family], address=a.address, netmask=a.netmask)
                           for a in addrs.get(nic, []) if a.family in families]))
        counts: dict[str, int] = {}
        listeners, note = [], None
        try:
            conns = psutil.net_connections("inet")
        except psutil.AccessDenied:
            conns, note = [], "Connections are not visible without administrator rights on this system."
        names: dict[int, str | None] = {}
        for c in conns:
            udp = c.type == socket.SOCK_DGRAM
            state = "UDP" if udp else c.status
            counts[state] = counts.get(state, 0) + 1
            if (c.status == psutil.CONN_LISTEN or (udp and not c.raddr)) and c.laddr:
                if c.pid and c.pid not in names:
                    try:
                        names[c.pid] = psutil.Process(c.pid).name()
                    except psutil.Error:
                        names[c.pid] = None
                listeners.append(Listener(protocol="udp" if udp else "tcp", address=c.laddr.ip,
                                          port=c.laddr.port, pid=c.pid, process=names.get(c.pid)))
        listeners.sort(key=lambda x: (x.port, x.protocol, x.address))
        shown, more = cap(listeners, limit)
        return Network(interfaces=interfaces, connection_counts=counts, listening=shown, more_listening=more,
                       note=note)

    @server.tool(title="Battery", annotations=READ_ONLY)
    def battery_status() -> Battery:
        """Battery charge, whether it is plugged in, and time left; says so when there is no battery."""
        b = psutil.sensors_battery() if hasattr(psutil, "sensors_battery") else None
        if b is None:
            return Battery(present=False, message="No battery detected on this computer.")
        left = b.secsleft if isinstance(b.secsleft, int) and b.secsleft >= 0 else None
        state = "plugged in" if b.power_plugged else "on battery"
        message = f"Battery at {b.percent:.0f}%, {state}" + (f", {duration(left)} left." if left else ".")
        return Battery(present=True, percent=round(b.percent, 1), plugged_in=b.power_plugged,
                       seconds_left=left, message=message)

    @server.tool(title="Temperatures", annotations=READ_ONLY)
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

    @server.tool(title="GPU", annotations=READ_ONLY)
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

    @server.tool(title="Environment", annotations=READ_ONLY)
    def environment_info() -> Environment:
        """The user's session: user name, home, shell, desktop, display, locale, terminal, PATH size."""
        import pwd

        env = os.environ
        try:
            user = pwd.getpwuid(os.getuid()).pw_name
        except KeyError:  # a uid with no passwd entry (some containers)
            user = env.get("USER") or str(os.getuid())
        def first(*names: str) -> str | None:
            return next((env[n] for n in names if env.get(n)), None)

        return Environment(
            user=user, uid=os.getuid(), home=os.path.expanduser("~"), hostname=socket.gethostname(),
            shell=first("SHELL"),
            desktop=first("XDG_CURRENT_DESKTOP", "XDG_SESSION_DESKTOP", "DESKTOP_SESSION"),
            session_type=first("XDG_SESSION_TYPE"), display=first("WAYLAND_DISPLAY", "DISPLAY"),
            locale=first("LC_ALL", "LANG"), terminal=first("TERM"),
            path_dirs=len([d for d in env.get("PATH", "").split(os.pathsep) if d]))

    return server
