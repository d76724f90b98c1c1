"""Tool retrieval over the everyday request corpus (tests/data/retrieval-requests.yaml) with the real tool
list of the built-in servers (connected in process). benchmarks/bench_retrieval.py prints the same figures.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from llmos.agent import retrieval
from llmos.agent.host import ToolInfo
from llmos.agent.loop import AgentSettings, system_prompt
from llmos.llm.providers.base import estimate_tokens

CORPUS = yaml.safe_load((Path(__file__).parent / "data" / "retrieval-requests.yaml").read_text(encoding="utf-8"))
BUDGET = AgentSettings().tool_prompt_budget
PROMPT_GOAL = 1200  # tokens for the offered tools plus the system prompt


@lru_cache(maxsize=1)
def live_tools() -> dict[str, ToolInfo]:
    """The built-in servers' tools as the agent sees them, from servers started in process in a scratch home."""
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update({"XDG_CONFIG_HOME": f"{tmp}/config", "XDG_STATE_HOME": f"{tmp}/state",
                           "XDG_DATA_HOME": f"{tmp}/data", "XDG_CACHE_HOME": f"{tmp}/cache",
                           "LLM_OS_SYSTEM_CONFIG_DIR": f"{tmp}/etc"})
        try:
            return asyncio.run(_connect())
        finally:
            os.environ.clear()
            os.environ.update(saved)


async def _connect() -> dict[str, ToolInfo]:
    from llmos.agent.confirm import NonInteractive
    from llmos.agent.setup import build_agent
    from llmos.config import load_config
    from llmos.llm.router import Router

    config = load_config()
    agent = build_agent(config, Router(config), NonInteractive())
    await agent.host.ready()
    tools = dict(agent.host.tools)
    await agent.host.aclose()
    await agent.router.aclose()
    return tools


@dataclass
class Outcome:
    request: str
    needed: int
    found: int
    offered: list[str]
    tokens: int  # system prompt + offered schemas
    missing: list[str]


def evaluate(tools: dict[str, ToolInfo], case: dict, budget: int = BUDGET) -> Outcome:
    by_qualified = {t.qualified: t for t in tools.values()}
    recent = [by_qualified[q].exposed for q in case.get("recent", [])]
    chosen = retrieval.select(tools, case["request"], budget, recent)
    offered = {t.qualified for t in chosen}
    missing = [need for need in case["needs"] if not offered & set(need.split("|"))]
    tokens = estimate_tokens(system_prompt()) + sum(retrieval.schema_tokens(t) for t in chosen)
    return Outcome(case["request"], len(case["needs"]), len(case["needs"]) - len(missing),
                   [t.qualified for t in chosen], tokens, missing)


def test_every_tool_named_in_the_corpus_and_examples_exists() -> None:
    real = {t.qualified for t in live_tools().values()}
    named = {alt for case in CORPUS for need in case["needs"] + case.get("recent", []) for alt in need.split("|")}
    assert named - real == set(), "the corpus names tools the servers do not have"
    assert set(retrieval.examples()) - real == set(), "tool-examples.yaml names tools the servers do not have"


def test_recall_at_budget_is_at_least_95_percent_within_the_prompt_goal() -> None:
    assert len(CORPUS) >= 150
    outcomes = [evaluate(live_tools(), case) for case in CORPUS]
    needed = sum(o.needed for o in outcomes)
    found = sum(o.found for o in outcomes)
    misses = [f"{o.request!r}: missing {o.missing}, offered {o.offered}" for o in outcomes if o.missing]
    print(f"\nrecall@{BUDGET} tokens: {found}/{needed} = {found / needed:.1%}")
    assert found / needed >= 0.95, "\n".join(misses)
    assert max(o.tokens for o in outcomes) <= PROMPT_GOAL


def test_used_tools_rank_up_for_a_follow_up() -> None:
    tools = live_tools()
    exposed = {t.qualified: t.exposed for t in tools.values()}
    plain = retrieval.select(tools, "and the second one?", BUDGET)
    follow_up = retrieval.select(tools, "and the second one?", BUDGET, [exposed["filesystem.find_largest"]])
    assert "filesystem.find_largest" not in {t.qualified for t in plain}
    assert follow_up[0].qualified == "filesystem.find_largest"


def test_what_the_request_names_pulls_in_tools_that_take_it() -> None:
    tools = live_tools()
    ranked = [t.qualified for _s, t in retrieval.rank(tools.values(), "summarise notes.txt")][:3]
    assert "filesystem.read_file" in ranked
    ranked = [t.qualified for _s, t in retrieval.rank(tools.values(), "summarise https://example.com/a")][:3]
    assert "browser.fetch_page" in ranked
    ranked = [t.qualified for _s, t in retrieval.rank(tools.values(), "what is pid 4242 doing")][:3]
    assert "system.process_details" in ranked


def test_a_name_inside_a_url_is_the_pages_not_a_files() -> None:
    """Measured on the 0.5B: offered read_file for "summarise http://…/news.html", it read ~/news.html."""
    tools = live_tools()
    offered = [t.qualified for t in retrieval.select(tools, "summarise http://127.0.0.1:8000/news.html", BUDGET)]
    assert offered[0] == "browser.fetch_page" and "filesystem.read_file" not in offered, offered
    # a file named outside the URL still brings the file tools
    offered = [t.qualified for t in retrieval.select(tools, "save http://127.0.0.1:8000/a.html into notes.txt",
                                                     BUDGET)]
    assert any(q.startswith("filesystem.") for q in offered), offered


def test_small_talk_offers_no_tools() -> None:
    for request in ("hello!", "thanks a lot", "tell me a joke"):
        assert retrieval.select(live_tools(), request, BUDGET) == [], request


def test_typos_are_read_as_the_words_the_tools_use() -> None:
    index = retrieval._index(tuple(sorted(live_tools().values(), key=lambda t: t.exposed)))
    assert index.corrected("lsit the files in downlods") == "list the files in downloads"  # swap; a folder
    assert index.corrected("Summarise notes.txt") == "summarise notes.txt"  # known words stay


def test_a_file_name_counts_as_its_kind_not_as_words() -> None:
    tools = live_tools()
    # "main.py" appears in git's examples ("stage main.py"); here it only says "a file"
    top = [t.qualified for _s, t in retrieval.rank(tools.values(), "explain ~/src/main.py to me")][:3]
    assert "filesystem.read_file" in top and not any(q.startswith("git.") for q in top), top
    top = [t.qualified for _s, t in retrieval.rank(tools.values(), "show me beach.jpg")][:4]
    assert "apps.open_with_default" in top, top  # a .jpg is an image: opened in its viewer


def test_an_app_to_open_ranks_its_launcher_first() -> None:
    """A small model takes the first tool offered: "open notepad deluxe" names no URL and no file, so it is an
    app; "open shopping.txt in Notepad Deluxe" names the program to open the file in."""
    tools = live_tools()
    for request in ("open notepad deluxe", "open shopping.txt in Notepad Deluxe"):
        assert retrieval.rank(tools.values(), request)[0][1].qualified == "apps.launch_app", request
    assert retrieval.rank(tools.values(), "open github.com")[0][1].qualified == "browser.open_url"
    assert retrieval.rank(tools.values(), "open report.pdf")[0][1].qualified == "apps.open_with_default"
