"""Fixtures for the Anthropic tests: a temp LLMWB_HOME and a loopback server that
replays a recorded stream byte for byte."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pytest


@pytest.fixture(autouse=True)
def llmwb_home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("LLMWB_HOME", str(tmp_path))
    monkeypatch.setenv("TEST_ANTHROPIC_KEY", "sk-ant-test")
    return tmp_path


@dataclass
class ReplayServer:
    """Answers every request with `body`, as an SSE stream (or JSON), and keeps what it was sent."""

    body: bytes
    content_type: str = "text/event-stream"
    requests: list[dict] = field(default_factory=list)
    request_headers: list[dict[str, str]] = field(default_factory=list)
    root_url: str = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        headers = {}
        for line in head.decode().split("\r\n")[1:]:
            if ":" in line:
                key, value = line.split(":", 1)
                headers[key.strip().lower()] = value.strip()
        payload = await reader.readexactly(int(headers.get("content-length", "0")))
        self.request_headers.append(headers)
        self.requests.append(orjson.loads(payload))
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: " + self.content_type.encode()
            + b"\r\nrequest-id: req_replay_1\r\nconnection: close\r\n\r\n" + self.body
        )  # fmt: skip
        await writer.drain()
        writer.close()


@pytest.fixture
async def replay() -> AsyncIterator:
    servers: list[asyncio.Server] = []

    async def start(body: bytes, content_type: str = "text/event-stream") -> ReplayServer:
        replay_server = ReplayServer(body, content_type)
        server = await asyncio.start_server(replay_server.handle, "127.0.0.1", 0)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        replay_server.root_url = f"http://127.0.0.1:{port}"
        return replay_server

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


@dataclass
class Outcome:
    events: list
    last: object  # Finished or Failed

    def of_type(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]


async def run_to_end(config, request, **options) -> Outcome:
    from core.runner import RunOptions, run

    events = [event async for event in run(config, request, RunOptions(**options))]
    return Outcome(events, events[-1])


@pytest.fixture
def collect():
    return run_to_end


@pytest.fixture
def anthropic_config():
    from core.store.models import ModelConfig

    def make(base_url: str, **fields) -> "ModelConfig":
        values = {
            "name": "claude-test", "provider": "anthropic", "model": "claude-sonnet-4-20250514",
            "base_url": base_url, "api_key_env": "TEST_ANTHROPIC_KEY", **fields,
        }  # fmt: skip
        return ModelConfig(**values)

    return make


@pytest.fixture
async def simulator():
    from core.simulator.server import SimulatorServer

    async with SimulatorServer() as server:
        yield server
