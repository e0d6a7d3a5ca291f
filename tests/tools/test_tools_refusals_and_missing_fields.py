"""Tool definitions and tool-result turns: the exact words of each refusal (what the
user reads in the form or the CLI), and a saved first turn with fields missing — a
call without a name or raw arguments, thinking without its text — answered anyway."""

from __future__ import annotations

import pytest

from core.request import ChatRequest
from core.store.models import ModelConfig, Run
from core.tools import ToolError, continuation_request, specs_for, validate_tool_definition


def refused(*args, **kwargs) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ToolError) as caught:
        validate_tool_definition(*args, **kwargs)
    return str(caught.value)


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ("[" * 100_000, "parameters nest deeper than 64 levels"),
        ({"type": "object", "default": float("nan")}, "parameters has NaN or infinity, which JSON cannot carry"),
        ({"properties": {}}, 'parameters must be an object schema: "type": "object" is missing'),
        ({"type": "object", "properties": []}, '"properties" must be an object mapping each argument name to its schema'),
        ({"type": "object", "required": "city"}, '"required" must be a list of argument names'),
        ({"type": "object", "properties": {"a": {}}, "required": ["a", "b", "c"]},
         '"required" names argument(s) not in "properties": b, c'),
    ],
)  # fmt: skip
def test_a_bad_schema_is_refused_in_these_words(schema, message):
    assert refused("f", "", schema) == message


def test_asking_for_a_tool_when_none_is_saved_says_so(store):
    with pytest.raises(ToolError) as caught:
        specs_for(store, ["weather"])
    assert str(caught.value) == "no tool named 'weather' (known: none saved yet)"


def saved_run(store, calls: list[dict], thinking: list[dict] | None = None) -> str:  # type: ignore[no-untyped-def]
    store.save_config(ModelConfig(name="cfg", provider="openai", model="m"))
    run = Run(
        model_config_name="cfg", provider="openai", model="m", status="ok",
        request=ChatRequest.from_prompt("hi").to_dict(),
        response={"content": "", "tool_calls": calls, "finish_reason": "tool_calls", "thinking_blocks": thinking or []},
    )  # fmt: skip
    store.create_run(run)
    return run.id


def test_a_call_without_an_id_cannot_be_answered(store):
    run_id = saved_run(store, [{"id": "call_1", "name": "f"}, {"name": "g"}])
    with pytest.raises(ToolError) as caught:
        continuation_request(store, run_id, {"call_1": "x"})
    assert str(caught.value) == f"run {run_id} has tool calls without ids: they cannot be answered"


def test_results_for_calls_the_run_did_not_make_are_all_named(store):
    run_id = saved_run(store, [{"id": "call_1", "name": "f"}])
    with pytest.raises(ToolError) as caught:
        continuation_request(store, run_id, {"call_8": "x", "call_9": "y"})
    assert str(caught.value) == f"run {run_id} has no tool call call_8, call_9 (its calls: call_1)"


def test_a_nameless_call_without_a_result_is_refused_in_words(store):
    run_id = saved_run(store, [{"id": "call_1"}])
    with pytest.raises(ToolError) as caught:
        continuation_request(store, run_id, {})
    assert str(caught.value) == "no result for tool call call_1 (None): give one, or set a canned result on the tool"


def test_a_call_saved_without_name_or_raw_arguments_is_sent_back_with_empty_ones(store):
    run_id = saved_run(store, [{"id": "call_1"}], thinking=[{"signature": "sig"}])
    _, request = continuation_request(store, run_id, {"call_1": "done"})
    assistant = request.messages[1]
    [call] = assistant.tool_calls
    assert (call.id, call.name, call.arguments) == ("call_1", "", "")
    [block] = assistant.thinking
    assert (block.thinking, block.signature, block.redacted_data) == ("", "sig", None)
