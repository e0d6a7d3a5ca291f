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
