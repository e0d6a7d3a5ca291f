"""Servers that misreport: an error event without an `error` key, an HTML page (or
other text) where an event stream or JSON was asked for."""

from __future__ import annotations

import pytest
from hostile_kit import (
    HostileServer,
    anthropic_config,
    head,
    openai_chunk,
    openai_config,
    run_to_end,
    saved_row,
    send,
    sse,
    whole,
)

from core.events import Failed, Finished

HTML = b"<!DOCTYPE html>\n<html><head><title>Sign in to the guest network</title></head><body>portal</body></html>\n"


async def test_an_openai_error_event_without_an_error_key_is_a_provider_error(store):
    body = sse(openai_chunk("partial")) + sse({"message": "upstream model crashed", "code": 503}, event="error")
    async with HostileServer(send(body)) as server:
        outcome = await run_to_end(openai_config(server.root_url), store=store)
    failure = outcome.last
    assert isinstance(failure, Failed)
    assert failure.error_type != "stream_cut"
    assert failure.error == "provider error in stream: upstream model crashed (503)"
    assert failure.partial_response["content"] == "partial"
    saved_row(store, outcome)


@pytest.mark.parametrize("data", ['"quota exhausted"', "quota exhausted", "[1]"])
async def test_an_error_event_with_any_body_is_a_provider_error(store, data):
    body = sse(openai_chunk("partial")) + b"event: error\ndata: " + data.encode() + b"\n\n"
    async with HostileServer(send(body)) as server:
        outcome = await run_to_end(openai_config(server.root_url), store=store)
    assert outcome.last.error_type == "provider_error"
    assert outcome.last.error.startswith("provider error in stream:")


async def test_an_anthropic_error_event_without_an_error_key_is_a_provider_error(store):
    start = {"type": "message_start", "message": {"id": "msg_1", "model": "m", "usage": {"input_tokens": 3}}}
    body = sse(start, event="message_start") + sse({"detail": "gateway gave up"}, event="error")
    async with HostileServer(send(body)) as server:
        outcome = await run_to_end(anthropic_config(server.root_url), store=store)
    assert outcome.last.error_type == "provider_error"
    assert "gateway gave up" in outcome.last.error


@pytest.mark.parametrize("content_type", ["text/html; charset=utf-8", "text/plain", ""])
async def test_an_html_page_for_a_streamed_request_is_recorded_and_named(store, content_type):
    reply = (
        f"HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\nconnection: close\r\n\r\n".encode()
        if content_type
        else b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n"
    )
    async with HostileServer(send(reply + HTML)) as server:
        outcome = await run_to_end(openai_config(server.root_url), store=store)
    failure = outcome.last
    assert isinstance(failure, Failed)
    shown = content_type or "no content type"
    assert failure.error == f"the server answered with {shown}, not an event stream: <!DOCTYPE html>"
    assert failure.error_type == "malformed_chunk" and failure.http_status == 200
    assert outcome.wire == [HTML.decode()]  # on the wire view, as sent
    row = saved_row(store, outcome)
    assert [frame.data for frame in store.get_frames(row.id)] == [HTML.decode()]


async def test_an_html_page_for_a_whole_request_is_named(store):
    async with HostileServer(send(whole(200, HTML, "text/html"))) as server:
        outcome = await run_to_end(openai_config(server.root_url), stream=False, store=store)
    assert outcome.last.error == "the server answered with text/html, not JSON: <!DOCTYPE html>"
    assert outcome.wire == [HTML.decode()]


async def test_an_event_stream_labelled_as_text_is_still_read(store):
    """Mislabelled SSE (text/plain, or no type) is common: it must still stream."""
    body = head(content_type="text/plain") + sse(openai_chunk("fine"), openai_chunk(finish="stop"), "[DONE]")
    async with HostileServer(send(body)) as server:
        outcome = await run_to_end(openai_config(server.root_url), store=store)
    assert isinstance(outcome.last, Finished) and outcome.last.final_response["content"] == "fine"
