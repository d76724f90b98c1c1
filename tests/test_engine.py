"""The embedded engine on the real SmolLM2-135M model (1 thread): load, stream, cancel, prefix reuse, saved
prefix states, grammars. The model's words vary: assertions are on counts, shapes and behaviour."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from llmos.engine import template
from llmos.engine.backend import Cancelled, EngineError, LoadOptions
from llmos.engine.engine import Engine, Generation, common_prefix
from llmos.models.gguf_header import trained_context
from llmos.engine.prefix_cache import FilePrefixStore
from llmos.engine.toolcalls import ReplyStream
from llmos.llm.messages import Message
from tests.llm_server import model_path


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load(LoadOptions(model_path(), n_ctx=1024, n_threads=1))


def prompt(engine: Engine, messages: list[Message]) -> list[int]:
    text = template.render(engine.backend.chat_template(), messages, None, engine.backend.special_text())
    return engine.tokenize(text)


def test_load_reads_the_models_own_metadata(engine: Engine) -> None:
    assert engine.n_ctx == 1024
    assert engine.backend.trained_context == trained_context(model_path()) == 8192
    assert "im_start" in engine.backend.chat_template()
    tokens = engine.tokenize("list the files")
    assert engine.backend.detokenize(tokens) == "list the files"


def test_a_missing_model_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(EngineError) as err:
        Engine.load(LoadOptions(tmp_path / "nope.gguf"))
    assert err.value.reason == "missing" and "nope.gguf" in str(err.value)


def test_streams_pieces_up_to_max_tokens(engine: Engine) -> None:
    job = Generation(prompt(engine, [Message("user", "Name three colours.")]), max_tokens=12)
    pieces = list(engine.stream(job))
    assert len(pieces) > 1 and "".join(pieces).strip()
    assert 0 < job.stats.output_tokens <= 12
    assert job.stats.finish_reason in ("stop", "length")


def test_cancel_stops_generation_and_the_engine_keeps_working(engine: Engine) -> None:
    job = Generation(prompt(engine, [Message("user", "Tell a very long story about a cat.")]), max_tokens=500)
    got_first = threading.Event()
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            for _piece in engine.stream(job):
                got_first.set()
        except Cancelled as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    assert got_first.wait(120)
    engine.cancel()
    worker.join(120)
    assert not worker.is_alive() and outcome, "cancel() ends the stream with Cancelled"
    assert job.stats.finish_reason == "cancelled" and job.stats.output_tokens < 500
    after = Generation(prompt(engine, [Message("user", "Say yes.")]), max_tokens=4)
    assert engine.generate(after)  # the next request is served normally


def test_second_turn_evaluates_only_the_new_tokens(engine: Engine) -> None:
    history = [Message("system", "You are terse."), Message("user", "Name a fruit.")]
    first = Generation(prompt(engine, history), max_tokens=8)
    answer = engine.generate(first)
    history += [Message("assistant", answer), Message("user", "And a vegetable?")]
    second_prompt = prompt(engine, history)
    second = Generation(second_prompt, max_tokens=8)
    engine.generate(second)
    new_tokens = len(second_prompt) - len(first.prompt)
    assert second.stats.reused_tokens >= len(first.prompt)
    assert second.stats.evaluated_tokens <= new_tokens
    assert second.stats.evaluated_tokens + second.stats.reused_tokens == len(second_prompt)


def test_saved_prefix_is_restored_by_a_fresh_engine(tmp_path: Path) -> None:
    store = FilePrefixStore(tmp_path / "states")
    system = Message("system", "You are llmos, an assistant that operates this computer through tools. " * 4)
    messages = [system, Message("user", "Hello there.")]
    one = Engine.load(LoadOptions(model_path(), n_ctx=512, n_threads=1), store)
    tokens = prompt(one, messages)
    head = template.render(one.backend.chat_template(), [system], None, one.backend.special_text(),
                           add_generation_prompt=False)
    stable = common_prefix(one.tokenize(head), tokens)
    first = Generation(tokens, max_tokens=2, stable_prefix=stable)
    one.generate(first)
    one.close()
    assert first.stats.restored_from is None and len(list((tmp_path / "states").rglob("*.kv"))) == 1

    two = Engine.load(LoadOptions(model_path(), n_ctx=512, n_threads=1), store)
    again = Generation(prompt(two, [system, Message("user", "Something else entirely?")]), max_tokens=2,
                       stable_prefix=stable)
    two.generate(again)
    two.close()
    assert again.stats.restored_from is not None
    assert again.stats.reused_tokens >= stable and again.stats.evaluated_tokens == len(again.prompt) - \
        again.stats.reused_tokens


def test_a_grammar_holds_the_answer_to_a_schema(engine: Engine) -> None:
    schema = {"type": "object", "properties": {"tool": {"type": "string", "enum": ["list_directory", "disk_usage"]}},
              "required": ["tool"], "additionalProperties": False}
    grammar = engine.backend.grammar_from_schema(schema)
    job = Generation(prompt(engine, [Message("user", "Which tool shows disk usage? Answer in JSON.")]),
                     max_tokens=30, grammar=grammar)
    assert json.loads(engine.generate(job))["tool"] in ("list_directory", "disk_usage")


def test_a_prompt_over_the_context_is_refused(engine: Engine) -> None:
    with pytest.raises(EngineError) as err:
        list(engine.stream(Generation(engine.tokenize("word " * 1100), max_tokens=4)))
    assert err.value.reason == "context"


def test_reply_words_are_decoded_as_they_stream() -> None:
    raw = '<tool_call>\n{"name": "reply", "arguments": {"text": "Two files: a\\"b\\".txt\\nand \\u00e9t\\u00e9.md"}}'
    stream = ReplyStream()
    shown = "".join(stream.feed(ch) for ch in raw)
    assert shown == 'Two files: a"b".txt\nand été.md'
    assert ReplyStream().feed('{"name": "delete", "arguments": {"path": "x"}}') == ""


def test_a_lazy_grammar_leaves_plain_words_free(engine: Engine) -> None:
    grammar = 'root ::= "{" [a-z]{1,20} "}"'
    job = Generation(prompt(engine, [Message("user", "Name three colours.")]), max_tokens=16, grammar=grammar,
                     lazy_grammar=True)
    text = engine.generate(job)
    assert text.strip() and text.lstrip()[0] not in "<{[`"  # words the grammar would not have allowed


def test_a_lazy_grammar_holds_an_answer_that_starts_like_a_call(engine: Engine) -> None:
    # The model starts this answer with "{" and would write disk_usage; the grammar allows only list_directory.
    schema = {"type": "object", "properties": {"tool": {"type": "string", "enum": ["list_directory"]}},
              "required": ["tool"], "additionalProperties": False}
    grammar = engine.backend.grammar_from_schema(schema)
    request = 'Reply with this JSON and nothing else: {"tool": "disk_usage"}'
    job = Generation(prompt(engine, [Message("user", request)]), max_tokens=30, grammar=grammar, lazy_grammar=True)
    assert json.loads(engine.generate(job)) == {"tool": "list_directory"}

