"""The simulator's record of a stream holds the server's side of a client's figures — its
first content after the head (TTFT − TTFB) and the largest gap between content writes
(ITL max) — from its own write times; `llmwb simulate` logs them per request (its line
is read in tests/simulator/test_sim_embedded_cli.py)."""

from __future__ import annotations

import httpx2

from core.simulator import RecordedExchange, SimulatorServer, scenario_from_dict

SCRIPTED = {"name": "paced", "text": "a b c d e f", "chunking": {"mode": "word"}, "timing": {"first_token_ms": 60, "gap_ms": 25}}


async def ask(server: SimulatorServer, stream: bool) -> RecordedExchange:
    body = {"model": "paced", "stream": stream, "messages": [{"role": "user", "content": "hi"}]}
    async with httpx2.AsyncClient(trust_env=False) as client:
        response = await client.post(server.root_url + "/v1/chat/completions", json=body, timeout=30)
        assert response.status_code == 200
    exchange = server.exchanges[-1]
    await exchange.finished.wait()
    return exchange


async def test_a_stream_s_record_has_its_first_content_after_the_head_and_its_largest_gap():
    async with SimulatorServer({"paced": scenario_from_dict(SCRIPTED)}) as server:
        exchange = await ask(server, stream=True)
    writes = exchange.content_times
    assert exchange.streamed and exchange.content_frames == len(writes) == 6
    assert exchange.head_written_at is not None and exchange.first_content_at == writes[0]
    assert exchange.first_content_at > exchange.head_written_at
    assert exchange.max_content_gap == max(b - a for a, b in zip(writes, writes[1:])) > 0


async def test_a_long_lived_server_that_keeps_no_frames_still_has_the_largest_gap():
    async with SimulatorServer({"paced": scenario_from_dict(SCRIPTED)}, record_frames=False) as server:
        exchange = await ask(server, stream=True)
    assert len(exchange.content_times) == 0  # nothing per frame was kept
    assert exchange.content_frames == 6 and exchange.first_content_at is not None
    assert exchange.max_content_gap > 0
