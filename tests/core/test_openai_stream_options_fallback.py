"""A server that refuses `stream_options` gets the same call once more without it; any
other refusal is reported as it came, and not sent twice."""

from __future__ import annotations

import pytest
from runkit import SSE_HEAD, RawServer, chunk, json_response, openai_config, run_to_end, sse

from core.events import Failed, Finished


def refusing(status: int, message: str):
    async def handler(request, writer):
        if "stream_options" in request.body:
            writer.write(json_response(status, {"error": {"message": message, "type": "invalid_request_error"}}))
            return
        writer.write(SSE_HEAD + sse(chunk({"content": "fine"}, "stop"), "[DONE]"))

    return handler


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (400, "Unrecognized request argument supplied: stream_options"),
        (422, "Extra inputs are not permitted: stream_options.include_usage"),
        (400, "include_usage is not supported by this server"),
        (422, "STREAM_OPTIONS: unknown field"),
    ],
)
async def test_a_refused_stream_options_is_retried_without_it(status, message):
    async with RawServer(refusing(status, message)) as server:
        outcome = await run_to_end(openai_config(server.root_url, "m"), "hi")
    assert isinstance(outcome.last, Finished), outcome.last
    assert outcome.streamed_text == "fine"
    assert ["stream_options" in r.body for r in server.requests] == [True, False]
    assert outcome.last.metrics["usage_source"] == "estimated"


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (400, "max_tokens is too large"),  # a 400 about something else
        (423, "stream_options is locked"),  # names it, but not a refusal of the body
        (500, "stream_options handler crashed"),
    ],
)
async def test_any_other_error_fails_the_run_after_one_request(status, message):
    async with RawServer(refusing(status, message)) as server:
        outcome = await run_to_end(openai_config(server.root_url, "m"), "hi")
    assert isinstance(outcome.last, Failed), outcome.last
    assert len(server.requests) == 1
    assert message in outcome.last.error
