"""Requests the simulator refuses (no such route, a GET where a POST goes, a body that is no
JSON object, no model) are answered in the provider's error shape, and recorded as a user
reads them in `llmwb simulate`'s log: which protocol, what status, how it ended; a stream
is what Ollama sends unless told otherwise, and only when asked elsewhere."""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.simulator import RecordedExchange, SimulatorServer

from .conftest import plain_http_client
from .helpers import add


async def _send(server: SimulatorServer, method: str, path: str, content: bytes = b"") -> tuple[int, Any, RecordedExchange]:
    async with plain_http_client() as client:
        response = await client.request(method, server.root_url + path, content=content, headers={"X-Probe": "yes"})
    exchange = server.exchanges[-1]
    await exchange.finished.wait()
    return response.status_code, response.json(), exchange


@pytest.mark.parametrize("method, path, content, status, protocol, message", [
    ("GET", "/nope", b"", 404, None, "No route for GET /nope"),
    ("GET", "/v1/messages", b"", 405, "anthropic", "Use POST for /v1/messages"),
    ("GET", "/api/chat", b"", 405, "ollama", "Use POST for /api/chat"),
    ("POST", "/v1/chat/completions", b"[1, 2]", 400, "openai", "The request body is not a JSON object"),
    ("POST", "/v1/responses", b"{not json", 400, "responses", "The request body is not a JSON object"),
    ("POST", "/v1/chat/completions", b'{"model": ""}', 400, "openai", "You must provide a model parameter"),
])  # fmt: skip
async def test_a_refused_request_is_answered_and_recorded(
    method: str, path: str, content: bytes, status: int, protocol: str | None, message: str
) -> None:
    done: list[RecordedExchange] = []
    async with SimulatorServer(on_exchange_done=done.append) as server:
        answered, body, exchange = await _send(server, method, path, content)
    said = body["error"] if protocol == "ollama" else body["error"]["message"]
    assert (answered, said) == (status, message)
    assert (exchange.method, exchange.path, exchange.status, exchange.protocol) == (method, path, status, protocol)
    assert (exchange.outcome, exchange.client_disconnected, exchange.scenario, exchange.error) == ("http_error", False, None, None)
    assert exchange.headers["x-probe"] == "yes" and exchange.body == (json.loads(content) if content.startswith(b"{\"") else None)
    assert exchange.completed_at is not None and exchange.completed_at >= exchange.received_at
    assert done == [exchange]  # the log's line comes once, when the request is over


async def test_ollama_streams_unless_told_not_to_and_the_others_only_when_asked(server: SimulatorServer) -> None:
    add(server, name="plain", text="hello there", timing={"first_token_ms": 0, "gap_ms": 0})
    asked = {"model": "plain", "messages": [{"role": "user", "content": "hi"}]}
    streamed = {}
    for path, extra in (("/api/chat", {}), ("/api/chat", {"stream": False}), ("/v1/chat/completions", {}),
                        ("/v1/chat/completions", {"stream": True})):  # fmt: skip
        async with plain_http_client() as client:
            response = await client.post(server.root_url + path, json={**asked, **extra})
        exchange = server.exchanges[-1]
        await exchange.finished.wait()
        assert response.status_code == 200 and exchange.outcome == "complete" and exchange.scenario == "plain"
        streamed[(path, json.dumps(extra))] = exchange.streamed
    assert list(streamed.values()) == [True, False, False, True]
