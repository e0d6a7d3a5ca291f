"""The simulator's Ollama wire, read raw: NDJSON lines as Ollama writes them, streaming
by default, durations on the last line that agree with the scenario's timing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx2
import pytest

from core.simulator import SimulatorServer, scenario_from_dict

SCENARIO = {
    "name": "paced", "api": "ollama", "text": "one two three four", "chunking": {"mode": "word"},
    "timing": {"first_token_ms": 50, "gap_ms": 10}, "usage": {"prompt_tokens": 7, "completion_tokens": 4},
}  # fmt: skip


@pytest.fixture
async def server() -> AsyncIterator[SimulatorServer]:
    async with SimulatorServer() as running:
        running.add_scenario(scenario_from_dict(SCENARIO))
        yield running


async def test_chat_streams_ndjson_by_default_with_durations_on_the_last_line(server: SimulatorServer) -> None:
    async with httpx2.AsyncClient(trust_env=False) as client:
        body = {"model": "paced", "messages": [{"role": "user", "content": "count"}]}  # no `stream`: Ollama streams
        response = await client.post(server.root_url + "/api/chat", json=body)
    assert response.headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [line["message"]["content"] for line in lines[:-1]] == ["one", " two", " three", " four"]
    assert all(line["done"] is False for line in lines[:-1])
    last = lines[-1]
    assert last["done"] is True and last["done_reason"] == "stop" and last["message"]["content"] == ""
    assert (last["prompt_eval_count"], last["eval_count"]) == (7, 4)
    # 50 ms to the first line, then three 10 ms gaps: the server's total is when the last line was due.
    assert last["total_duration"] == 80_000_000
    assert last["load_duration"] + last["prompt_eval_duration"] + last["eval_duration"] == last["total_duration"]
    exchange = server.exchanges[-1]
    # ...and the lines really were written on that schedule (the simulator's own write times).
    written_ms = (exchange.content_times[-1] - exchange.received_at) * 1000
    assert written_ms >= 80.0


async def test_non_stream_is_one_json_object_and_tags_lists_scenarios(server: SimulatorServer) -> None:
    async with httpx2.AsyncClient(trust_env=False) as client:
        whole = await client.post(server.root_url + "/api/chat", json={"model": "paced", "stream": False, "messages": []})
        tags = await client.get(server.root_url + "/api/tags")
        missing = await client.post(server.root_url + "/api/chat", json={"model": "nope", "messages": []})
    assert whole.headers["content-type"].startswith("application/json")
    assert whole.json()["message"]["content"] == "one two three four" and whole.json()["done"] is True
    assert "paced" in [model["name"] for model in tags.json()["models"]]
    assert missing.status_code == 404 and missing.json() == {"error": 'model "nope" not found, try pulling it first'}
