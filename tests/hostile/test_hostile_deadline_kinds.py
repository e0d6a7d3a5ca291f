"""The run's deadline holds for every provider kind: a server that trickles its
response headers a byte at a time (each byte well inside the read timeout) is cut
at the deadline whichever adapter is talking to it, and the run is saved."""

from __future__ import annotations

import asyncio

import pytest
from hostile_kit import HostileServer, Received, run_to_end, saved_row

from core.store.models import ModelConfig


def trickling_headers() -> object:
    async def handler(_request: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\n")
        await writer.drain()
        while not writer.is_closing():
            for byte in b"x-slow: abcdef\r\n":
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(0.02)  # the server's pace, not test synchronisation

    return handler


KINDS = [
    ("openai-compatible", "/v1"),
    ("openai-responses", "/v1"),
    ("anthropic", ""),
    ("ollama-native", ""),
]


@pytest.mark.parametrize(("provider", "suffix"), KINDS, ids=[kind for kind, _ in KINDS])
async def test_trickling_headers_end_at_the_deadline_for_every_kind(store, provider, suffix):
    async with HostileServer(trickling_headers()) as server:
        config = ModelConfig(
            name=f"trickle-{provider}", provider=provider, model="m", base_url=server.root_url + suffix,
            timeout=5, params={"max_retries": 0, "deadline": 0.5},
        )  # fmt: skip
        outcome = await asyncio.wait_for(run_to_end(config, store=store), timeout=30)
    assert outcome.last.error_type == "timeout"
    assert "waiting for the response headers" in outcome.last.error
    saved_row(store, outcome)
