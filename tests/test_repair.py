"""Tool-call repair's interface as the agent uses it: names only or names with schemas, what it reports."""

from __future__ import annotations

from llmos.agent.repair import calls_from_text, repair, validation_error

SCHEMA = {"type": "object", "properties": {"path": {"type": "string"}, "count": {"type": "integer"}},
          "required": ["path"]}


def test_names_alone_are_enough_and_arguments_stay_as_written() -> None:
    calls = calls_from_text('{"name": "find_largest", "arguments": {"path": "~", "count": "5"}}', {"find_largest"})
    assert [(c.name, c.arguments) for c in calls] == [("find_largest", {"path": "~", "count": "5"})]


def test_with_schemas_arguments_are_fitted_and_every_change_is_reported() -> None:
    result = repair("{'name': 'find_largst', 'arguments': {'path': '~', 'count': '5'}}", {"find_largest": SCHEMA})
    assert [(c.name, c.arguments) for c in result.calls] == [("find_largest", {"path": "~", "count": 5})]
    assert any("find_largst" in n for n in result.notes)  # the misspelt name
    assert any("'5' read as 5" in n for n in result.notes)  # the coerced argument
    assert any("broken JSON" in n for n in result.notes)  # single quotes
    assert result.shapes == ["json"]


def test_each_call_gets_its_own_id() -> None:
    calls = calls_from_text("[f(path='a'), f(path='b')]", {"f"})
    assert len({c.id for c in calls}) == 2


def test_arguments_that_cannot_be_read_are_kept_for_the_model_to_fix() -> None:
    calls = calls_from_text('{"name": "f", "arguments": "path=~"}', {"f"})
    assert calls[0].malformed == "path=~" and calls[0].arguments == {}
    calls = calls_from_text("f(1, 2)", {"f": SCHEMA})  # which value is which parameter would be a guess
    assert calls[0].malformed is not None


def test_nothing_offered_means_no_call() -> None:
    assert calls_from_text('{"name": "f", "arguments": {}}', set()) == []
    assert calls_from_text("", {"f"}) == []


def test_validation_error_names_the_field() -> None:
    assert validation_error({"path": 3}, SCHEMA) == "path: 3 is not of type 'string'"
    assert validation_error({"path": "~"}, SCHEMA) is None
