"""Fixtures for the simulator tests: a fresh server on 127.0.0.1:0 per test, SDK clients bound to it.

No test sleeps to synchronise: they wait on RecordedExchange.finished, set by
the server when it is done with a request.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import anthropic
import httpx2
import openai
import pytest

from core.simulator import SimulatorServer


@pytest.fixture
async def server() -> AsyncIterator[SimulatorServer]:
    async with SimulatorServer() as running:
        yield running
    # Whatever a test provokes, the simulator itself must not have hit an exception.
    assert [e.error for e in running.exchanges if e.error] == []


def plain_http_client() -> httpx2.AsyncClient:
    # Everything here is plain http on loopback; skipping the TLS trust store saves ~70 ms a client.
    return httpx2.AsyncClient(verify=False, trust_env=False)


@pytest.fixture
async def openai_client(server: SimulatorServer) -> AsyncIterator[openai.AsyncOpenAI]:
    # max_retries=0: the SDK would otherwise retry 429/5xx (honouring retry-after: 7 s).
    client = openai.AsyncOpenAI(
        base_url=server.root_url + "/v1", api_key="x", max_retries=0, http_client=plain_http_client()
    )
    yield client
    await client.close()


@pytest.fixture
async def anthropic_client(server: SimulatorServer) -> AsyncIterator[anthropic.AsyncAnthropic]:
    client = anthropic.AsyncAnthropic(base_url=server.root_url, api_key="x", max_retries=0, http_client=plain_http_client())
    yield client
    await client.close()


@pytest.fixture(autouse=True)
def no_asyncio_complaints(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """The server must never make asyncio log: no unretrieved task errors, no writes to closed sockets."""
    yield
    complaints = [r.getMessage() for r in caplog.records if r.name == "asyncio" and r.levelno >= logging.WARNING]
    assert complaints == []

