"""The system server, driven through real MCP clients against this machine's real processes, disks and
network. Processes to find, inspect and end are spawned by the tests with a distinctive argv."""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from llmos.servers.system.hardware import parse_nvidia_csv
from tests.mcp_helpers import annotations_of, call, call_error, memory_client, stdio_client

REPO = Path(__file__).resolve().parents[1]
TOOLS = {"system_overview", "disk_usage", "top_processes", "find_processes", "process_details",
         "kill_process", "network_info", "battery_status", "temperatures", "gpu_info", "environment_info"}

# Lines in the exact format of `nvidia-smi --query-gpu=name,memory.total,memory.used,memory.free,
# driver_version,temperature.gpu,utilization.gpu --format=csv,noheader,nounits` (written by hand, no GPU
# here): a laptop RTX 3050, a two-GPU workstation, and a datacenter card whose driver reports no
# temperature or utilization ("[N/A]", "[Not Supported]").
NVIDIA_CSV = """\
NVIDIA GeForce RTX 3050 Laptop GPU, 4096, 512, 3430, 535.183.01, 46, 3
"""
NVIDIA_CSV_MULTI = """\
NVIDIA GeForce RTX 4090, 24564, 18211, 5952, 550.54.14, 71, 98
NVIDIA GeForce RTX 3060, 12288, 6, 12028, 550.54.14, 34, 0
"""
NVIDIA_CSV_NA = "NVIDIA A100-SXM4-40GB, 40960, 0, 40326, 470.57.02, [N/A], [Not Supported]\n"


@pytest.fixture
def sleeper():
    """A real, harmless process with a unique marker in its command line."""
    marker = f"llmos-probe-{uuid.uuid4().hex[:10]}"
    proc = subprocess.Popen([sys.executable, "-c", "import sys, time; time.sleep(60)", marker])
    yield proc, marker
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=5)


def _spawn(code: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", code, f"llmos-probe-{uuid.uuid4().hex[:10]}"],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"  # its setup (signal handler, memory) is done
    return proc


def _alive(pid: int) -> bool:
    """Running and not a zombie, read straight from /proc."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_annotations_tell_the_truth():
    async def go():
        async with memory_client("system") as c:
            tools = await c.list_tools()
            for t in tools.tools:
                assert t.output_schema, f"{t.name} has no output schema"
                assert t.description and len(t.description) > 20
            return annotations_of(tools)

    ann = asyncio.run(go())
    assert set(ann) == TOOLS
    assert ann["kill_process"]["destructiveHint"] is True and ann["kill_process"]["readOnlyHint"] is False
    for name in TOOLS - {"kill_process"}:
        assert ann[name]["readOnlyHint"] is True and ann[name]["destructiveHint"] is False, name


def test_overview_disks_environment_match_this_machine():
    async def go():
        async with memory_client("system") as c:
            return (await call(c, "system_overview"), await call(c, "disk_usage"),
                    await call(c, "environment_info"))

    started = time.monotonic()
    ov, disks, env = asyncio.run(go())
    assert time.monotonic() - started < 3
    meminfo = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    assert ov["memory"]["total"] == int(meminfo["MemTotal"].split()[0]) * 1024 > 0
    assert 0 < ov["memory"]["used"] <= ov["memory"]["total"]
    assert ov["swap"]["total"] == int(meminfo["SwapTotal"].split()[0]) * 1024
    assert ov["kernel"] == os.uname().release and ov["hostname"] == socket.gethostname()
    assert ov["cpu_logical"] == os.cpu_count() and 0 <= ov["cpu_percent"] <= 100
    assert abs(ov["uptime_seconds"] - float(Path("/proc/uptime").read_text().split()[0])) < 5
    assert len(ov["load_average"]) == 3 and ov["os"] == "Linux" and ov["summary"]
    if Path("/etc/os-release").exists():
        assert ov["distro"] and ov["distro"] in Path("/etc/os-release").read_text()

    root = next(d for d in disks["disks"] if d["mountpoint"] == "/")
    st = os.statvfs("/")
    assert root["total"] == st.f_blocks * st.f_frsize > 0
    assert 0 <= root["free"] <= root["total"] and 0 <= root["percent"] <= 100
    assert all(d["fstype"] not in ("proc", "sysfs", "squashfs", "tmpfs") for d in disks["disks"])
    assert "/:" in disks["summary"]

    assert env["user"] == pwd.getpwuid(os.getuid()).pw_name and env["uid"] == os.getuid()
    assert env["home"] == os.path.expanduser("~") and env["hostname"] == socket.gethostname()
    assert env["path_dirs"] == len([d for d in os.environ["PATH"].split(":") if d]) > 0
    assert env["shell"] == os.environ.get("SHELL")


def test_find_inspect_and_terminate_a_real_process(sleeper):
    proc, marker = sleeper

    async def go():
        async with memory_client("system", {"kill_wait_seconds": 3}) as c:
            found = await call(c, "find_processes", name=marker.upper())  # case-insensitive
            details = await call(c, "process_details", pid=proc.pid)
            killed = await call(c, "kill_process", pid=proc.pid)
            # Dead but not yet collected by its parent (this test): shown honestly as a zombie.
            zombie = await call(c, "process_details", pid=proc.pid)
            assert proc.wait(timeout=1) == -signal.SIGTERM  # the server left the exit status to its owner
            gone = await call_error(c, "process_details", pid=proc.pid)
            return found, details, killed, zombie, gone

    found, details, killed, zombie, gone = asyncio.run(go())
    assert found["pids"] == [proc.pid] and found["more"] == 0
    assert marker in found["processes"][0]["cmdline"] and found["processes"][0]["name"].startswith("python")
    assert details["pid"] == proc.pid and details["ppid"] == os.getpid() and marker in details["cmdline"]
    assert details["status"] in ("sleeping", "running") and details["memory_rss"] > 0
    assert details["user"] == pwd.getpwuid(os.getuid()).pw_name and details["children"] == []
    assert details["running_seconds"] < 60 and details["exe"] and details["threads"] >= 1
    assert killed == {"pid": proc.pid, "name": details["name"], "signal": "SIGTERM", "exited": True,
                      "message": f"{details['name']} (PID {proc.pid}) has exited."}
    assert zombie["status"] == "zombie" and not Path(f"/proc/{proc.pid}").exists()
    assert f"No process with PID {proc.pid}" in gone


def test_sigterm_ignored_then_force_kill():
    proc = _spawn("import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                  "print('ready', flush=True); time.sleep(60)")
    try:
        async def go():
            async with memory_client("system", {"kill_wait_seconds": 0.5}) as c:
                polite = await call(c, "kill_process", pid=proc.pid)
                assert _alive(proc.pid)  # it really ignored SIGTERM
                return polite, await call(c, "kill_process", pid=proc.pid, force=True)

        polite, forced = asyncio.run(go())
        assert polite["exited"] is False and polite["signal"] == "SIGTERM"
        assert "still running" in polite["message"] and "force" in polite["message"]
        assert forced["exited"] is True and forced["signal"] == "SIGKILL"
        assert not _alive(proc.pid) and proc.wait(timeout=1) == -signal.SIGKILL
    finally:
        proc.kill()
        proc.wait()


def test_refusals_and_missing_pids():
    async def go():
        async with memory_client("system") as c:
            refused = [await call_error(c, "kill_process", pid=pid) for pid in (1, os.getpid(), os.getppid())]
            return refused + [
                await call_error(c, "kill_process", pid=4_000_000),
                await call_error(c, "process_details", pid=4_000_000),
                await call_error(c, "kill_process", pid=0),
                await call_error(c, "find_processes", name="  ")]

    init, me, parent, kill_missing, details_missing, zero, blank = asyncio.run(go())
    assert "Refusing to end PID 1:" in init and "init process" in init
    assert f"Refusing to end PID {os.getpid()}: it is llmos itself" in me
    assert f"Refusing to end PID {os.getppid()}:" in parent
    assert kill_missing.endswith("No process with PID 4000000 is running.")
    assert details_missing.endswith("No process with PID 4000000 is running.")
    assert "greater than or equal to 1" in zero
    assert "process name" in blank
    assert Path("/proc/1").exists()


def test_permission_denied_is_a_sentence(sleeper, tmp_path):
    """A real unprivileged server (uid nobody) trying to end a process it does not own."""
    proc, _ = sleeper
    if os.getuid() == 0:  # drop to nobody; the target is our root-owned sleeper
        target, prefix = proc.pid, ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    else:  # already unprivileged: any root-owned process but init (which is refused before trying)
        target, prefix = next(p for p in map(int, filter(str.isdigit, os.listdir("/proc")))
                              if p > 1 and os.stat(f"/proc/{p}").st_uid == 0), []
    script = textwrap.dedent(f"""
        import asyncio
        from mcp import Client
        from llmos.servers import build_server
        async def go():
            async with Client(build_server("system")) as c:
                r = await c.call_tool("kill_process", {{"pid": {target}}})
                print(r.is_error, r.content[0].text)
        asyncio.run(go())
    """)
    run = subprocess.run([*prefix, sys.executable, "-c", script], check=False, cwd=REPO, capture_output=True,
                         text=True, timeout=30, env={**os.environ, "HOME": str(tmp_path)})
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("True "), run.stdout
    assert f"Permission denied: process {target} (" in run.stdout
    assert "belongs to root" in run.stdout and "Traceback" not in run.stdout
    assert _alive(target)


def test_top_processes_sees_a_busy_and_a_big_process():
    busy = _spawn("print('ready', flush=True)\nwhile True: pass")
    big = _spawn("b = b'x' * (400 * 2**20); print('ready', flush=True); import time; time.sleep(60)")
    try:
        async def go():
            async with memory_client("system") as c:
                return (await call(c, "top_processes", sort_by="cpu", limit=10),
                        await call(c, "top_processes", sort_by="memory", limit=20))

        started = time.monotonic()
        by_cpu, by_mem = asyncio.run(go())
        assert time.monotonic() - started < 3
        row = next(p for p in by_cpu["processes"] if p["pid"] == busy.pid)
        assert row["cpu_percent"] > 10 and row["name"].startswith("python") and "while True" in row["cmdline"]
        assert by_cpu["total_processes"] == len(by_cpu["processes"]) + by_cpu["more"]
        assert len(by_cpu["processes"]) == 10 and by_cpu["more"] > 0
        rss = [p["memory_rss"] or 0 for p in by_mem["processes"]]
        assert rss == sorted(rss, reverse=True)
        row = next(p for p in by_mem["processes"] if p["pid"] == big.pid)
        assert row["memory_rss"] >= 400 * 2**20 and row["user"]
    finally:
        for proc in (busy, big):
            proc.kill()
            proc.wait()


def test_network_sees_loopback_and_our_listening_socket():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        async def go():
            async with memory_client("system") as c:
                return await call(c, "network_info", limit=200)

        net = asyncio.run(go())
    lo = next(i for i in net["interfaces"] if i["name"] == "lo")
    assert lo["is_up"]
    assert {"family": "ipv4", "address": "127.0.0.1", "netmask": "255.0.0.0"} in lo["addresses"]
    assert {i["name"] for i in net["interfaces"]} == set(os.listdir("/sys/class/net"))
    ours = [x for x in net["listening"] if x["port"] == port]
    assert ours == [{"protocol": "tcp", "address": "127.0.0.1", "port": port, "pid": os.getpid(),
                     "process": ours[0]["process"]}] and ours[0]["process"]
    assert net["connection_counts"].get("LISTEN", 0) >= 1


def test_battery_temperatures_gpu_are_honest_here():
    async def go():
        async with memory_client("system") as c:
            return (await call(c, "battery_status"), await call(c, "temperatures"), await call(c, "gpu_info"))

    battery, temps, gpu = asyncio.run(go())
    has_battery = any(Path(t).read_text().strip() == "Battery"
                      for t in glob.glob("/sys/class/power_supply/*/type"))
    assert battery["present"] is has_battery
    if not has_battery:
        assert battery["message"] == "No battery detected on this computer." and battery["percent"] is None
    has_sensors = bool(glob.glob("/sys/class/hwmon/hwmon*/temp*_input")) or bool(
        glob.glob("/sys/class/thermal/thermal_zone*/temp"))
    assert temps["available"] is has_sensors and (temps["sensors"] != []) is has_sensors
    if not has_sensors:
        assert "No temperature sensors" in temps["message"]
    # This machine has no GPU and no nvidia-smi.
    assert gpu == {"detected": False, "gpus": [],
                   "message": "No GPU detected (nvidia-smi is not installed)."}


def test_nvidia_csv_parser_on_real_output():
    [laptop] = parse_nvidia_csv(NVIDIA_CSV)
    assert laptop.model_dump() == {"name": "NVIDIA GeForce RTX 3050 Laptop GPU", "memory_total_mib": 4096,
                                   "memory_used_mib": 512, "memory_free_mib": 3430,
                                   "driver_version": "535.183.01", "temperature_c": 46.0,
                                   "utilization_percent": 3.0}
    big, small = parse_nvidia_csv(NVIDIA_CSV_MULTI)
    assert (big.name, big.memory_used_mib, big.utilization_percent) == ("NVIDIA GeForce RTX 4090", 18211, 98)
    assert (small.name, small.memory_total_mib, small.temperature_c) == ("NVIDIA GeForce RTX 3060", 12288, 34)
    [a100] = parse_nvidia_csv(NVIDIA_CSV_NA)
    assert a100.temperature_c is None and a100.utilization_percent is None
    assert a100.memory_total_mib == 40960 and a100.driver_version == "470.57.02"
    assert parse_nvidia_csv("") == [] and parse_nvidia_csv("garbage line\n") == []


def _fake_nvidia_smi(bin_dir: Path, stdout: str, code: int = 0) -> None:
    """Stands in for NVIDIA's tool (not the code under test) so gpu_info's run-and-parse path runs."""
    bin_dir.mkdir()
    script = bin_dir / "nvidia-smi"
    script.write_text(f"#!/bin/sh\ncat <<'EOF'\n{stdout}EOF\nexit {code}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


def test_gpu_info_runs_nvidia_smi_when_present(tmp_path, monkeypatch):
    _fake_nvidia_smi(tmp_path / "ok", NVIDIA_CSV)
    _fake_nvidia_smi(tmp_path / "broken", "NVIDIA-SMI has failed because it couldn't communicate with the "
                                          "NVIDIA driver. Make sure that the latest NVIDIA driver is "
                                          "installed and running.\n", code=9)

    async def go(bin_dir: Path):
        monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
        async with memory_client("system") as c:
            return await call(c, "gpu_info")

    ok = asyncio.run(go(tmp_path / "ok"))
    assert ok["detected"] is True and ok["gpus"][0]["name"] == "NVIDIA GeForce RTX 3050 Laptop GPU"
    assert ok["gpus"][0]["memory_total_mib"] == 4096 and "512/4096 MiB" in ok["message"]
    broken = asyncio.run(go(tmp_path / "broken"))
    assert broken["detected"] is False and broken["gpus"] == []
    assert broken["message"].startswith("No GPU detected: NVIDIA-SMI has failed")


def test_over_stdio(sleeper):
    """The real `llmos mcp serve system` subprocess: tools, annotations, finding and force-killing a process
    that is not the server's own child, and refusing to end the server's parent (this test process)."""
    proc, marker = sleeper

    async def go():
        async with stdio_client("system") as c:
            tools = await c.list_tools()
            ov = await call(c, "system_overview")
            found = await call(c, "find_processes", name=marker)
            killed = await call(c, "kill_process", pid=proc.pid, force=True)
            parent = await call_error(c, "kill_process", pid=os.getpid())
            return annotations_of(tools), ov, found, killed, parent

    ann, ov, found, killed, parent = asyncio.run(go())
    assert set(ann) == TOOLS and ann["kill_process"]["destructiveHint"] is True
    assert ov["hostname"] == socket.gethostname() and ov["memory"]["total"] > 0
    assert found["pids"] == [proc.pid]
    assert killed["exited"] is True and killed["signal"] == "SIGKILL" and killed["pid"] == proc.pid
    assert proc.wait(timeout=2) == -signal.SIGKILL
    assert f"Refusing to end PID {os.getpid()}:" in parent
