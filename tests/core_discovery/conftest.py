"""The canned loopback server every discovery test asks (test_discovery.CannedServer)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from test_discovery import CannedServer


@pytest.fixture
async def canned() -> AsyncIterator[CannedServer]:
    server = CannedServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
