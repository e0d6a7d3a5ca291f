"""A non-streamed call the `anthropic` SDK refuses to send (it could outlast ten
minutes): a bad_request that says why, and nothing sent to the server."""

from __future__ import annotations

from core.events import Failed
from core.request import ChatRequest


async def test_a_huge_max_tokens_without_streaming_is_refused_before_sending(replay, anthropic_config, collect):
    server = await replay(b"{}", content_type="application/json")
    config = anthropic_config(server.root_url, params={"max_tokens": 500_000})
    outcome = await collect(config, ChatRequest.from_prompt("Write a book.", stream=False))

    assert isinstance(outcome.last, Failed), outcome.last
    assert outcome.last.error_type == "bad_request"
    assert "Streaming is required" in outcome.last.error
    assert server.requests == []
