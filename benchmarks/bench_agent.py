"""Agent benchmarks: overhead per turn excluding model time, and prompt tokens with and without tool retrieval.

The model is scripted on loopback (tests/replay_server.py), so "model time" is the time spent inside the
router's chat calls — HTTP to loopback and stream parsing — and everything else is the agent's own cost:
retrieval, prompt building, repair, validation, gate, MCP call, audit, result formatting.

Run: .venv/bin/python benchmarks/bench_agent.py [--turns N]
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from llmos.agent import retrieval  # noqa: E402
from llmos.agent.confirm import NonInteractive  # noqa: E402
from llmos.agent.loop import system_prompt  # noqa: E402
from llmos.agent.setup import build_agent  # noqa: E402
from llmos.conversation.session import ChatSession  # noqa: E402
from llmos.config import load_config  # noqa: E402
from llmos.llm.providers.base import estimate_tokens  # noqa: E402
from llmos.llm.router import Router  # noqa: E402
from tests.replay_server import ReplayServer  # noqa: E402
from tests.scripted_model import ScriptedModel, openai_text, openai_tool_calls  # noqa: E402

TYPICAL = ["what is eating my disk?", "show me the five biggest files in ~/Downloads", "commit my changes",
           "open firefox", "how much memory is free?", "kill the process using the most cpu",
           "find all pdf files in my documents", "fetch https://example.com and summarise it"]


class TimedRouter(Router):
    model_time = 0.0

    async def chat(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return await super().chat(*args, **kwargs)
        finally:
            TimedRouter.model_time += time.perf_counter() - start


async def overhead(turns: int, root: Path) -> list[float]:
    with ReplayServer() as server:
        model = ScriptedModel(server)
        config_dir = Path(os.environ["XDG_CONFIG_HOME"]) / "llm-os"
        config_dir.mkdir(parents=True, exist_ok=True)
        (config_dir / "llm.yaml").write_text(model.config(f"servers:\n  filesystem:\n    roots: [{root}]\n"))
        for _ in range(turns + 1):
            model.say(openai_tool_calls(("find_largest", {"path": str(root), "count": 5})), openai_text("Done."))
        config = load_config()
        agent = build_agent(config, TimedRouter(config), NonInteractive())
        await agent.host.ready()
        await agent.turn(ChatSession(), "what is eating my disk?")  # warm up
        results = []
        for _ in range(turns):
            TimedRouter.model_time = 0.0
            start = time.perf_counter()
            await agent.turn(ChatSession(), "what is eating my disk?")
            results.append(time.perf_counter() - start - TimedRouter.model_time)
        await agent.host.aclose()
        await agent.router.aclose()
        return results


async def prompt_tokens(root: Path) -> None:
    config = load_config()
    agent = build_agent(config, Router(config), NonInteractive())
    await agent.host.ready()
    tools = agent.host.tools
    system = estimate_tokens(system_prompt())
    all_tools = sum(retrieval.schema_tokens(t) for t in tools.values())
    print(f"built-in tools connected: {len(tools)}; system prompt ≈ {system} tokens")
    print(f"{'request':48s} {'offered':>8s} {'prompt tokens':>14s} {'all tools':>10s}")
    for request in TYPICAL:
        chosen = retrieval.select(tools, request, agent.settings.tool_prompt_budget)
        cost = system + sum(retrieval.schema_tokens(t) for t in chosen)
        print(f"{request:48s} {len(chosen):8d} {cost:14d} {system + all_tools:10d}   "
              f"{', '.join(t.exposed for t in chosen[:4])}…")
    await agent.host.aclose()


async def main(turns: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update({"XDG_CONFIG_HOME": f"{tmp}/config", "XDG_STATE_HOME": f"{tmp}/state",
                           "XDG_DATA_HOME": f"{tmp}/data", "LLM_OS_SYSTEM_CONFIG_DIR": f"{tmp}/etc"})
        root = Path(tmp) / "files"
        root.mkdir()
        for i in range(50):
            (root / f"f{i}.bin").write_bytes(b"x" * (i * 100))
        times = sorted(await overhead(turns, root))
        print(f"agent overhead per turn (tool call + answer, model time excluded): median "
              f"{statistics.median(times) * 1000:.1f} ms, p95 {times[int(0.95 * (len(times) - 1))] * 1000:.1f} ms, "
              f"n={len(times)}")
        await prompt_tokens(root)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=50)
    asyncio.run(main(parser.parse_args().turns))
