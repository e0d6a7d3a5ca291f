"""The response builder every adapter feeds: the final (or partial) answer a run keeps."""

from __future__ import annotations

import pytest

from core.response import ResponseBuilder, normalise_finish_reason


@pytest.mark.parametrize(
    ("provider_word", "shown"),
    [
        ("stop", "stop"), ("end_turn", "stop"), ("stop_sequence", "stop"), ("eos", "stop"), ("pause_turn", "stop"),
        ("length", "length"), ("max_tokens", "length"), ("model_length", "length"),
        ("tool_calls", "tool_calls"), ("tool_use", "tool_calls"), ("function_call", "tool_calls"),
        ("content_filter", "content_filter"), ("refusal", "content_filter"),
        ("cancelled", "cancelled"), ("error", "error"),
        ("something_new", "something_new"),  # an unknown word is shown as sent, not dropped
    ],
)  # fmt: skip
def test_finish_reasons_are_normalised_to_the_design_words(provider_word, shown):
    assert normalise_finish_reason(provider_word) == shown


def test_no_finish_reason_stays_none():
    assert normalise_finish_reason(None) is None
    assert ResponseBuilder().snapshot()["finish_reason"] is None


def test_a_snapshot_joins_the_parts_and_keeps_the_providers_own_word():
    builder = ResponseBuilder(model="m-1", id="resp_1")
    for piece in ("Hel", "lo"):
        builder.add_text(piece)
    builder.add_reasoning("Think")
    builder.add_reasoning("ing.")
    builder.finish_reason = "max_tokens"
    builder.usage = {"completion_tokens": 3}
    builder.extras["timings"] = {"predicted_n": 3}
    snapshot = builder.snapshot()
    assert snapshot == {
        "content": "Hello", "reasoning": "Thinking.", "tool_calls": [], "finish_reason": "length",
        "provider_finish_reason": "max_tokens", "model": "m-1", "id": "resp_1",
        "usage": {"completion_tokens": 3}, "timings": {"predicted_n": 3},
    }  # fmt: skip
    # a cut run is saved with the reason the runner gives, the provider's word beside it
    assert builder.snapshot(finish_override="error")["finish_reason"] == "error"
    assert builder.snapshot(finish_override="error")["provider_finish_reason"] == "max_tokens"


def test_tool_calls_assemble_by_index_keeping_the_first_id_and_name():
    builder = ResponseBuilder()
    builder.add_tool_delta(1, "call_b", "second", "")
    builder.add_tool_delta(0, "call_a", "first", '{"ci')
    builder.add_tool_delta(0, "call_x", "renamed", 'ty": "Par')  # later ids/names don't overwrite
    builder.add_tool_delta(0, None, None, 'is"}')
    builder.add_tool_delta(1, None, None, "")
    calls = builder.snapshot()["tool_calls"]
    assert calls[0] == {
        "index": 0, "id": "call_a", "name": "first", "arguments_raw": '{"city": "Paris"}',
        "arguments": {"city": "Paris"}, "arguments_valid": True,
    }  # fmt: skip
    # no arguments at all is an empty object, and valid
    assert calls[1] == {"index": 1, "id": "call_b", "name": "second", "arguments_raw": "", "arguments": {}, "arguments_valid": True}


def test_a_late_id_or_name_fills_a_gap():
    builder = ResponseBuilder()
    builder.add_tool_delta(0, None, None, "{}")
    builder.add_tool_delta(0, "call_late", "f", "")
    call = builder.snapshot()["tool_calls"][0]
    assert (call["id"], call["name"]) == ("call_late", "f")


def test_cut_or_broken_arguments_are_kept_raw_and_marked_invalid():
    builder = ResponseBuilder()
    builder.add_tool_delta(0, "c", "f", '{"city": "Pa')
    builder.add_tool_delta(1, "d", "g", "   ")
    calls = builder.snapshot()["tool_calls"]
    assert (calls[0]["arguments"], calls[0]["arguments_valid"]) == ('{"city": "Pa', False)
    assert (calls[1]["arguments"], calls[1]["arguments_valid"]) == ({}, True)  # whitespace only: no arguments


def test_output_text_counts_reasoning_content_and_arguments_for_estimates():
    builder = ResponseBuilder()
    builder.add_reasoning("r1")
    builder.add_text("t1")
    builder.add_tool_delta(0, "c", "f", '{"a"')
    builder.add_tool_delta(1, "d", "g", "[1]")
    builder.add_tool_delta(0, None, None, ":1}")
    assert builder.output_text() == 'r1t1{"a":1}[1]'
