"""The system server's answers, as structured fields."""

from __future__ import annotations

from pydantic import BaseModel, Field


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
