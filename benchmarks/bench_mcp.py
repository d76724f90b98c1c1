"""MCP benchmarks: tool-call round trip (in-process and stdio) and stdio cold start to tools/list.

Run: .venv/bin/python benchmarks/bench_mcp.py [--calls N] [--starts N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from mcp import Client, StdioServerParameters

from llmos.servers import BUILTIN, build_server


def stats(name: str, seconds: list[float], unit: str = "ms") -> None:
    seconds.sort()
    p95 = seconds[min(len(seconds) - 1, int(0.95 * len(seconds)))]
    print(f"{name:52s} median {statistics.median(seconds) * 1000:8.3f} {unit}   p95 {p95 * 1000:8.3f} {unit}"
          f"   n={len(seconds)}")


async def round_trips(client: Client, path: str, calls: int) -> list[float]:
    await client.call_tool("stat", {"path": path})  # warm up
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        result = await client.call_tool("stat", {"path": path})
        times.append(time.perf_counter() - start)
        assert not result.is_error
    return times


async def main(calls: int, starts: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "file.txt"
        target.write_text("x")
        settings = {"roots": [tmp]}
        async with Client(build_server("filesystem", settings)) as client:
            stats("filesystem.stat round trip, in-process", await round_trips(client, str(target), calls))
        env = {**os.environ, "HOME": tmp}
        params = StdioServerParameters(command=sys.executable, args=["-m", "llmos", "mcp", "serve", "filesystem"],
                                       env=env, cwd=tmp)
        async with Client(params) as client:
            stats("filesystem.stat round trip, stdio", await round_trips(client, str(target), calls))
        for name in BUILTIN:
            times = []
            for _ in range(starts):
                start = time.perf_counter()
                params = StdioServerParameters(command=sys.executable, args=["-m", "llmos", "mcp", "serve", name],
                                               env=env, cwd=tmp)
                async with Client(params) as client:
                    await client.list_tools()
                    times.append(time.perf_counter() - start)
            stats(f"{name}: stdio cold start to tools/list", times)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--starts", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.calls, args.starts))
