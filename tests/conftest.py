from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import llm_server

_SCRUBBED = ("OLLAMA_HOST", "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "EDITOR", "VISUAL")

# The longest tests (a real model reading a long prompt, a real terminal; measured with --durations), started
# first: pytest-xdist hands out tests one at a time in collection order, so a long test collected late would
# run alone at the end while the other workers wait. Most costly first; the rest keep their order.
SLOW_FIRST = (
    "tests/test_engine_cli.py",
    "tests/test_tasks_real.py",
    "tests/test_llm_real.py::test_tool_loop_in_constrained_json_mode_with_the_real_model",
    "tests/test_engine_provider.py::test_a_slow_prompt_read_is_not_a_first_byte_timeout",
    "tests/test_config_fallback.py",
    "tests/test_repl.py::test_a_session_in_a_real_terminal",
    "tests/test_conversation_real.py",
    "tests/test_conversation_budget.py::test_trimming_never_exceeds_budget_nor_orphans_a_tool_result",
    "tests/test_engine_shell.py",
    "tests/test_mcp_interop.py",
    "tests/test_session_resume.py::test_continue_reuses_the_saved_summary",
    "tests/test_models_discover.py::test_the_header_reader_agrees_with_the_gguf_package",
    "tests/test_picker_estimate.py::test_real_gguf_metadata_read_with_gguf",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        return next((i for i, prefix in enumerate(SLOW_FIRST) if item.nodeid.startswith(prefix)), len(SLOW_FIRST))
    items.sort(key=rank)  # stable: the same order on every worker, as xdist requires


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own XDG dirs and system config dir, and no provider keys from the machine."""
    home = tmp_path / "home"
    for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_STATE_HOME", "state"), ("XDG_DATA_HOME", "data"),
                     ("XDG_CACHE_HOME", "cache"), ("LLM_OS_SYSTEM_CONFIG_DIR", "etc")):
        (home / sub).mkdir(parents=True)
        monkeypatch.setenv(var, str(home / sub))
    for var in list(os.environ):
        if var in _SCRUBBED or var.startswith("LLMOS_"):
            monkeypatch.delenv(var)
    return home


@pytest.fixture(scope="session")
def llm(tmp_path_factory: pytest.TempPathFactory) -> llm_server.LLMServer:
    """The real llama.cpp server with SmolLM2-135M, shared by the whole session."""
    try:
        server = llm_server.start(tmp_path_factory.mktemp("llm"))
    except llm_server.TestLLMMissing as exc:
        pytest.fail(str(exc), pytrace=False)  # missing is a failure, never a skip
    yield server
    server.stop()


def write_user_config(home: Path, text: str) -> Path:
    path = home / "config" / "llm-os" / "llm.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def llm_config(llm: llm_server.LLMServer, extra: str = "") -> str:
    """User config making the test server the only enabled provider (named `local`)."""
    return f"""\
providers:
  ollama: {{enabled: false}}
  claude: {{enabled: false}}
  openai: {{enabled: false}}
  local:
    type: openai-compatible
    base_url: {llm.base_url}
    context_window: 2048  # llama-server -c 4096 split over 2 slots
    models: {{default: {llm_server.MODEL_ALIAS}}}
{extra}"""


@contextlib.contextmanager
def scripted_model(home: Path, files: Path) -> Iterator[Any]:
    """A scripted model on loopback as the only provider, with only the filesystem server, rooted at ``files``."""
    from tests.replay_server import ReplayServer
    from tests.scripted_model import ScriptedModel

    with ReplayServer() as server:
        scripted = ScriptedModel(server)
        write_user_config(home, scripted.config(servers_config(files)))
        yield scripted


@contextlib.contextmanager
def two_biggest_listed(home: Path, tmp_path: Path, *more_replies: Any) -> Iterator[tuple[Path, Any]]:
    """A folder with a big a.iso and a small b.txt, and a first `llmos run "what is big in FOLDER"` done
    in-process: the scripted model lists the two biggest and its answer names neither, so "it" stays open.
    The model then says ``more_replies``. Yields (the folder, the scripted model)."""
    from tests.inprocess import llmos
    from tests.scripted_model import openai_text, openai_tool_calls

    root = tmp_path / "files"
    root.mkdir()
    (root / "a.iso").write_bytes(b"0" * 1000)
    (root / "b.txt").write_text("b")
    with scripted_model(home, root) as model:
        model.say(openai_tool_calls(("find_largest", {"path": str(root), "count": 2})),
                  openai_text("Here are the two biggest files."), *more_replies)
        first = llmos("run", "what is big in", str(root))
        assert first.returncode == 0, first.stderr
        yield root, model


def servers_config(filesystem_root: Path | None = None) -> str:
    """Config text enabling only the filesystem server (rooted at ``filesystem_root``), or no server at all."""
    off = [n for n in ("filesystem", "git", "system", "apps", "browser")
           if filesystem_root is None or n != "filesystem"]
    text = "servers:\n" + "".join(f"  {n}: {{enabled: false}}\n" for n in off)
    if filesystem_root is not None:
        text += f"  filesystem:\n    roots: [{filesystem_root}]\n"
    return text


def cancel_mid_answer_then_ask_again(router: Any, first_text_within_s: float) -> Any:
    """Start a long answer, cancel it once its first text arrives (the request ends CancelledError), then
    ask something short on the same router: the provider must still serve. Returns the second answer."""
    import asyncio

    from llmos.llm.messages import ChatRequest, Message

    async def go() -> Any:
        first = asyncio.Event()
        task = asyncio.create_task(router.chat(
            ChatRequest([Message("user", "Tell a long story about a cat.")], max_tokens=400),
            on_text=lambda _t: first.set()))
        await asyncio.wait_for(first.wait(), first_text_within_s)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        try:
            return await router.chat(ChatRequest([Message("user", "Say yes.")], max_tokens=8))
        finally:
            await router.aclose()

    return asyncio.run(go())
