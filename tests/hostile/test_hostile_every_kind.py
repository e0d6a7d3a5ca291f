"""Every provider kind holds the same line against a hostile server: the run's
deadline, the frame and response caps, no redirect followed, an HTML page named.
Each adapter talks to the server through its own stack (the openai SDK for chat
and Responses, the anthropic SDK, plain httpx for Ollama's NDJSON), so a guard
present on one kind says nothing about another."""

from __future__ import annotations

import asyncio

import pytest
from hostile_kit import HostileServer, Received, head, run_to_end, saved_row, send, trickle, whole

from core.events import Failed
from core.store.models import ModelConfig

# provider kind, base-URL suffix, the content type its stream comes with, how a frame starts
KINDS = [
    ("openai-compatible", "/v1", "text/event-stream", b"data: "),
    ("openai-responses", "/v1", "text/event-stream", b"data: "),
    ("anthropic", "", "text/event-stream", b"data: "),
    ("ollama-native", "", "application/x-ndjson", b'{"message": {"content": "'),
]
IDS = [kind[0] for kind in KINDS]
HTML = b"<!DOCTYPE html>\n<html><head><title>Sign in to the guest network</title></head></html>\n"


def config_for(provider: str, root_url: str, suffix: str, **params: object) -> ModelConfig:
    return ModelConfig(
        name=f"hostile-{provider}", provider=provider, model="m", base_url=root_url + suffix,
        timeout=5, params={"max_retries": 0, **params},
    )  # fmt: skip


def endless_line(content_type: str, opening: bytes) -> object:
    """A frame that never ends: its opening, then `y` after `y` with no line end."""

    async def handler(_request: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(head(content_type=content_type) + opening)
        while not writer.is_closing():
            writer.write(b"y" * 1000)
            await writer.drain()

    return handler


@pytest.mark.parametrize(("provider", "suffix", "content_type", "opening"), KINDS, ids=IDS)
async def test_trickling_headers_end_at_the_deadline(store, provider, suffix, content_type, opening):
    async with HostileServer(trickle(b"HTTP/1.1 200 OK\r\n", b"x-slow: abcdef\r\n", every_s=0.02)) as server:
        config = config_for(provider, server.root_url, suffix, deadline=0.5)
        outcome = await asyncio.wait_for(run_to_end(config, store=store), timeout=60)
    assert outcome.last.error_type == "timeout"
    assert "waiting for the response headers" in outcome.last.error
    saved_row(store, outcome)


@pytest.mark.parametrize(("provider", "suffix", "content_type", "opening"), KINDS, ids=IDS)
async def test_an_endless_frame_is_cut_at_the_frame_cap(store, provider, suffix, content_type, opening):
    async with HostileServer(endless_line(content_type, opening)) as server:
        config = config_for(provider, server.root_url, suffix, max_frame_bytes=50_000)
        outcome = await asyncio.wait_for(run_to_end(config, store=store), timeout=60)
    failure = outcome.last
    assert isinstance(failure, Failed) and failure.error_type == "too_large"
    assert "one frame passed 50000 bytes (max_frame_bytes)" in failure.error
    saved_row(store, outcome)


@pytest.mark.parametrize(("provider", "suffix", "content_type", "opening"), KINDS, ids=IDS)
async def test_a_redirect_is_not_followed(store, provider, suffix, content_type, opening):
    async with HostileServer() as elsewhere:
        reply = whole(307, b"", "text/plain", location=elsewhere.root_url + "/anywhere")
        async with HostileServer(send(reply)) as server:
            config = config_for(provider, server.root_url, suffix)
            outcome = await asyncio.wait_for(run_to_end(config, store=store), timeout=60)
    assert outcome.last.error_type == "redirect" and outcome.last.http_status == 307
    assert elsewhere.received == []
    saved_row(store, outcome)


@pytest.mark.parametrize(("provider", "suffix", "content_type", "opening"), KINDS, ids=IDS)
async def test_an_html_page_for_a_stream_is_named_and_kept(store, provider, suffix, content_type, opening):
    async with HostileServer(send(head(content_type="text/html") + HTML)) as server:
        config = config_for(provider, server.root_url, suffix)
        outcome = await asyncio.wait_for(run_to_end(config, store=store), timeout=60)
    failure = outcome.last
    assert isinstance(failure, Failed) and failure.http_status == 200
    assert failure.error_type == "malformed_chunk"
    assert "text/html" in failure.error and "<!DOCTYPE html>" in failure.error
    row = saved_row(store, outcome)
    assert HTML.decode().strip() in "".join(frame.data for frame in store.get_frames(row.id))


SSE_KINDS = [kind for kind in KINDS if kind[2] == "text/event-stream"]
BARE_ERROR = b'{"error": {"message": "quota exceeded for this key", "type": "insufficient_quota"}}'


@pytest.mark.parametrize(("provider", "suffix", "content_type", "opening"), SSE_KINDS, ids=[k[0] for k in SSE_KINDS])
async def test_an_event_stream_holding_a_bare_json_error_fails_with_its_message(store, provider, suffix, content_type, opening):
    """Some proxies answer an event stream with their error as bare JSON, no `data:`: not
    SSE, but the user must see it on the wire and read its message, not "ended early"."""
    async with HostileServer(send(head() + BARE_ERROR + b"\n\n")) as server:
        outcome = await asyncio.wait_for(run_to_end(config_for(provider, server.root_url, suffix), store=store), timeout=60)
    failure = outcome.last
    assert isinstance(failure, Failed)
    assert "quota exceeded for this key" in failure.error
    assert BARE_ERROR.decode() in outcome.wire
    saved_row(store, outcome)


@pytest.mark.parametrize(("provider", "suffix", "content_type", "opening"), SSE_KINDS, ids=[k[0] for k in SSE_KINDS])
async def test_a_line_that_is_no_sse_field_is_shown_on_the_wire_and_read_as_nothing(store, provider, suffix, content_type, opening):
    """A stray line (a proxy's notice) where a frame belongs: kept in the wire view as it
    came, read as neither content nor an error; `id`/`retry` fields alone stay no frame."""
    async with HostileServer(send(head() + b"upstream: warming up\n\n")) as ahead:
        notice = await asyncio.wait_for(run_to_end(config_for(provider, ahead.root_url, suffix), store=store), timeout=60)
    assert "upstream: warming up" in notice.wire
    assert isinstance(notice.last, Failed) and "warming up" not in notice.last.error  # not read as content or error
    async with HostileServer(send(head() + b"id: 3\nretry: 10\n\n")) as quiet:
        ids_only = await asyncio.wait_for(run_to_end(config_for(provider, quiet.root_url, suffix), store=store), timeout=60)
    assert ids_only.wire == []  # fields that carry nothing are not frames
