"""Fixtures for the simulator tests: a fresh server on 127.0.0.1:0 per test, SDK clients bound to it.

No test sleeps to synchronise: they wait on RecordedExchange.finished, set by
the server when it is done with a request.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import anthropic
import openai
import pytest

from core.simulator import SimulatorServer


@pytest.fixture
async def server() -> AsyncIterator[SimulatorServer]:
    async with SimulatorServer() as running:
        yield running


@pytest.fixture
async def openai_client(server: SimulatorServer) -> AsyncIterator[openai.AsyncOpenAI]:
    # max_retries=0: the SDK would otherwise retry 429/5xx (honouring retry-after: 7 s).
    client = openai.AsyncOpenAI(base_url=server.root_url + "/v1", api_key="x", max_retries=0)
    yield client
    await client.close()


@pytest.fixture
async def anthropic_client(server: SimulatorServer) -> AsyncIterator[anthropic.AsyncAnthropic]:
    client = anthropic.AsyncAnthropic(base_url=server.root_url, api_key="x", max_retries=0)
    yield client
    await client.close()


@pytest.fixture(autouse=True)
def no_asyncio_complaints(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """The server must never make asyncio log: no unretrieved task errors, no writes to closed sockets."""
    yield
    complaints = [r.getMessage() for r in caplog.records if r.name == "asyncio" and r.levelno >= logging.WARNING]
    assert complaints == []
