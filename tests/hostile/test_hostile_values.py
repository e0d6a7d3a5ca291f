"""Server values of the wrong type or size: the usage of an otherwise good answer is
dropped with a note (tokens estimated), a field the answer depends on is a
malformed chunk; never a traceback, never a run left `running`."""

from __future__ import annotations

import pytest
from hostile_kit import (
    HostileServer,
    anthropic_config,
    answer,
    openai_chunk,
    openai_config,
    run_to_end,
    saved_row,
    send,
    sse,
    whole,
)

from core.events import Failed, Finished

BAD_USAGE = {
    "count as a string": '{"prompt_tokens": 5, "completion_tokens": "12", "total_tokens": 17}',
    "count as an object": '{"prompt_tokens": 5, "completion_tokens": {"n": 12}, "total_tokens": 17}',
    "negative count": '{"prompt_tokens": -5, "completion_tokens": 12, "total_tokens": 7}',
    "fractional count": '{"prompt_tokens": 5, "completion_tokens": 12.5, "total_tokens": 17.5}',
    "400-digit count": '{"prompt_tokens": 5, "completion_tokens": ' + "9" * 400 + ', "total_tokens": 17}',
    "huge float": '{"prompt_tokens": 5, "completion_tokens": 1e400, "total_tokens": 17}',
    "boolean count": '{"prompt_tokens": true, "completion_tokens": 12, "total_tokens": 17}',
    "usage a string": '"lots"',
    "usage a list": "[1, 2, 3]",
    "usage a number": "42",
    "details a string": '{"prompt_tokens": 5, "completion_tokens": 12, "prompt_tokens_details": "cached"}',
    "details count a string": '{"prompt_tokens": 5, "completion_tokens": 12, "completion_tokens_details": {"reasoning_tokens": "3"}}',
}


@pytest.mark.parametrize("raw_usage", BAD_USAGE.values(), ids=BAD_USAGE.keys())
async def test_unusable_openai_usage_keeps_the_answer_and_says_so(store, raw_usage):
    async with HostileServer(send(answer("kept answer", raw_usage=raw_usage))) as server:
        outcome = await run_to_end(openai_config(server.root_url), store=store)
    final = outcome.last
    assert isinstance(final, Finished), getattr(final, "error", None)
    assert final.final_response["content"] == "kept answer"
    assert final.final_response["usage"] is None
    assert "the server's usage was unusable" in final.final_response["usage_note"]
    metrics = final.metrics
    assert metrics["usage_source"] == "estimated" and metrics["usage_note"] == final.final_response["usage_note"]
    assert metrics["completion_tokens"] == 3  # "kept answer": 11 characters, estimated
    row = saved_row(store, outcome)
    assert row.status == "ok" and row.metrics["usage_source"] == "estimated"


async def test_null_counts_are_no_counts_but_not_an_error(store):
    """null where a count belongs is a server with nothing to say, not a lie."""
    raw = '{"prompt_tokens": null, "completion_tokens": null, "total_tokens": null, "prompt_tokens_details": null}'
    async with HostileServer(send(answer("abcd", raw_usage=raw))) as server:
        outcome = await run_to_end(openai_config(server.root_url), store=store)
    assert isinstance(outcome.last, Finished)
    assert "usage_note" not in outcome.last.metrics
    assert outcome.last.metrics["usage_source"] == "estimated"


async def test_a_count_written_as_a_whole_float_is_believed(store):
    async with HostileServer(send(answer("abcd", raw_usage='{"prompt_tokens": 5.0, "completion_tokens": 12.0}'))) as server:
        outcome = await run_to_end(openai_config(server.root_url), store=store)
    metrics = outcome.last.metrics
    assert (metrics["usage_source"], metrics["completion_tokens"], metrics["total_tokens"]) == ("provider", 12, 17)


ANTHROPIC_START = {"type": "message_start", "message": {"id": "msg_1", "model": "m", "usage": {"input_tokens": 3}}}
ANTHROPIC_TEXT = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "kept answer"}}


def anthropic_stream(usage: object) -> bytes:
    return (
        sse(ANTHROPIC_START, event="message_start")
        + sse({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}, event="content_block_start")
        + sse(ANTHROPIC_TEXT, event="content_block_delta")
        + sse({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": usage}, event="message_delta")
        + sse({"type": "message_stop"}, event="message_stop")
    )


@pytest.mark.parametrize("usage", ["many", {"output_tokens": "7"}, {"output_tokens": -1}, {"cache_creation": {"ephemeral_5m_input_tokens": "x"}}])
async def test_unusable_anthropic_usage_keeps_the_answer_and_says_so(store, usage):
    async with HostileServer(send(anthropic_stream(usage))) as server:
        outcome = await run_to_end(anthropic_config(server.root_url), store=store)
    final = outcome.last
    assert isinstance(final, Finished), getattr(final, "error", None)
    assert final.final_response["content"] == "kept answer"
    assert final.metrics["usage_source"] == "estimated" and "unusable" in final.metrics["usage_note"]
    saved_row(store, outcome)


WRONG_TYPES = {
    "finish_reason an object": [openai_chunk("kept"), {"id": "c1", "choices": [{"index": 0, "delta": {}, "finish_reason": {"why": "stop"}}]}],
    "finish_reason a number": [openai_chunk("kept"), {"id": "c1", "choices": [{"index": 0, "delta": {}, "finish_reason": 1}]}],
    # the first chunk without an envelope: the id and model are read from the first that has one
    "id a list": [{"choices": [{"index": 0, "delta": {"content": "kept"}}]}, {"id": ["x"], "model": "m", "choices": []}],
    "model a number": [{"choices": [{"index": 0, "delta": {"content": "kept"}}]}, {"id": "c1", "model": 7, "choices": []}],
    "tool name a number": [
        openai_chunk("kept"),
        {"id": "c1", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "t", "function": {"name": 5, "arguments": ""}}]}}]},
    ],
    "tool index a string": [
        openai_chunk("kept"),
        {"id": "c1", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": "1", "id": "t", "function": {"name": "f"}}]}}]},
    ],
    "tool index huge": [
        openai_chunk("kept"),
        {"id": "c1", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 10**30, "id": "t", "function": {"name": "f"}}]}}]},
    ],
    "tool id an object": [
        openai_chunk("kept"),
        {"id": "c1", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": {"a": 1}, "function": {"name": "f"}}]}}]},
    ],
    "choices null inside": [openai_chunk("kept"), {"id": "c1", "choices": [None]}],
}


@pytest.mark.parametrize("chunks", WRONG_TYPES.values(), ids=WRONG_TYPES.keys())
async def test_fields_of_the_wrong_type_are_a_malformed_chunk_with_the_answer_kept(store, chunks):
    async with HostileServer(send(sse(*chunks, "[DONE]"))) as server:
        outcome = await run_to_end(openai_config(server.root_url), store=store)
    failure = outcome.last
    assert isinstance(failure, Failed)
    assert failure.error_type == "malformed_chunk" and "\n" not in failure.error
    assert failure.partial_response["content"].startswith("kept")
    row = saved_row(store, outcome)
    # every frame the server sent is kept, the [DONE] after the bad one included
    assert row.error_type == "malformed_chunk" and len(store.get_frames(row.id)) == len(chunks) + 1


async def test_wrong_types_in_an_anthropic_stream_are_a_malformed_chunk(store):
    bad_stop = sse({"type": "message_delta", "delta": {"stop_reason": ["end_turn"]}}, event="message_delta")
    body = sse(ANTHROPIC_START, event="message_start") + sse(ANTHROPIC_TEXT, event="content_block_delta") + bad_stop
    async with HostileServer(send(body)) as server:
        outcome = await run_to_end(anthropic_config(server.root_url), store=store)
    assert outcome.last.error_type == "malformed_chunk"
    assert outcome.last.partial_response["content"] == "kept answer"
    saved_row(store, outcome)


async def test_a_non_streamed_answer_with_bad_usage_keeps_the_answer(store):
    body = b'{"id": "c1", "model": "m", "choices": [{"index": 0, "message": {"role": "assistant", "content": "whole"}, "finish_reason": "stop"}], "usage": {"completion_tokens": "9"}}'
    async with HostileServer(send(whole(200, body))) as server:
        outcome = await run_to_end(openai_config(server.root_url), stream=False, store=store)
    assert isinstance(outcome.last, Finished)
    assert outcome.last.final_response["content"] == "whole"
    assert outcome.last.metrics["usage_source"] == "estimated"


async def test_a_lone_surrogate_is_a_malformed_chunk_not_text_nobody_can_write(store):
    body = b'data: {"id": "c1", "choices": [{"index": 0, "delta": {"content": "kept"}}]}\n\n'
    body += b'data: {"id": "c1", "choices": [{"index": 0, "delta": {"content": "\\ud800"}}]}\n\n'
    async with HostileServer(send(body)) as server:
        outcome = await run_to_end(openai_config(server.root_url), store=store)
    assert outcome.last.error_type == "malformed_chunk"
    assert outcome.last.partial_response["content"] == "kept"
    saved_row(store, outcome)
