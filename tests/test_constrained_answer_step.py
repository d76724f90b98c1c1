"""In constrained mode the answer step asks for plain words, not a JSON string a quote can cut short; a JSON
answer written as text, quotes unescaped, still reads whole. llmos run with a scripted model (OpenAI wire)
and the real filesystem server."""

from __future__ import annotations

import json
from pathlib import Path

from llmos.agent import decisions
from tests.conftest import servers_config, write_user_config
from tests.scripted_model import ScriptedModel, openai_text
from tests.test_agent import files, llmos_run, model  # noqa: F401  (fixtures)


def test_an_answer_with_quotes_is_read_whole() -> None:
    """Measured on the 0.5B: 'The result shows that the web page' — the answer string ended at its first
    quote ("FAQ")."""
    text = '{"tool": "answer", "answer": "The page "FAQ" says refunds take 30 days.\\nThat is all."}'
    assert decisions.decode(text, {}) == ('The page "FAQ" says refunds take 30 days.\nThat is all.', [])


def test_a_printed_call_is_no_answer() -> None:
    """Measured on the 0.5B's plain-word answer step: a call and an invented result, printed."""
    text = '{"name": "git_log", "arguments": {"repo": "/x"}}\n{"branch": "main", "commits": ["initial"]}'
    assert decisions.decode(text, {}) == ("", [])
    assert decisions.decode('["a", "b"]', {}) == ("", [])


def test_the_answer_step_is_not_held_to_json(model: ScriptedModel, files: Path,  # noqa: F811
                                             isolated_home: Path) -> None:
    write_user_config(isolated_home, model.config(servers_config(files) + "agent:\n  constrained: true\n"))
    listing = json.dumps({"tool": "list_directory", "arguments": {"path": str(files / "Downloads")}})
    model.say(openai_text(listing), openai_text(listing), openai_text('The folder holds "big.iso" and small.txt.'))
    out = llmos_run("--json", "what is in my Downloads folder")
    assert out.returncode == 0, out.stderr
    first, second, third = model.requests()
    assert first.get("response_format") and second.get("response_format")
    assert not third.get("response_format") and third["max_tokens"] <= decisions.ANSWER_TOKENS
    assert json.loads(out.stdout)["text"] == 'The folder holds "big.iso" and small.txt.'
