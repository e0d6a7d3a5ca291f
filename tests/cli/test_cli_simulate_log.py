"""`llmwb simulate`'s line per request carries the server's side of a client's
figures — first content after the head (TTFT − TTFB) and the largest gap between
content writes (ITL max) — so a user can hold the workbench's numbers against it."""

from __future__ import annotations

import re

import httpx2

from core.simulator import SimulatorServer, scenario_from_dict
from tui.cli.simulate import _describe

SCRIPTED = {"name": "paced", "text": "a b c d e f", "chunking": {"mode": "word"}, "timing": {"first_token_ms": 60, "gap_ms": 25}}


async def ask(server: SimulatorServer, stream: bool) -> tuple[str, object]:
    body = {"model": "paced", "stream": stream, "messages": [{"role": "user", "content": "hi"}]}
    async with httpx2.AsyncClient(trust_env=False) as client:
        response = await client.post(server.root_url + "/v1/chat/completions", json=body, timeout=30)
        assert response.status_code == 200
    exchange = server.exchanges[-1]
    await exchange.finished.wait()
    return _describe(exchange), exchange


async def test_a_streamed_request_logs_when_content_came_after_the_head_and_the_largest_gap():
    async with SimulatorServer({"paced": scenario_from_dict(SCRIPTED)}) as server:
        line, exchange = await ask(server, stream=True)
    first = re.search(r"first content \+([\d.]+) ms after head", line)
    gap = re.search(r"max gap ([\d.]+) ms", line)
    assert first and gap, line
    # what the server's own write times say, not the script
    writes = exchange.content_times
    assert float(first.group(1)) == round((exchange.first_content_at - exchange.head_written_at) * 1000, 1)
    assert float(gap.group(1)) == round(max(b - a for a, b in zip(writes, writes[1:])) * 1000, 1)
    assert float(first.group(1)) > 0 and "6 chunks" in line


async def test_a_whole_answer_logs_no_stream_figures():
    async with SimulatorServer({"paced": scenario_from_dict(SCRIPTED)}) as server:
        line, _ = await ask(server, stream=False)
    assert "whole" in line and "first content" not in line and "max gap" not in line


async def test_a_long_lived_server_that_keeps_no_frames_still_logs_the_largest_gap():
    async with SimulatorServer({"paced": scenario_from_dict(SCRIPTED)}, record_frames=False) as server:
        line, exchange = await ask(server, stream=True)
    gap = re.search(r"max gap ([\d.]+) ms", line)
    assert gap and float(gap.group(1)) > 0, line
    assert len(exchange.content_times) == 0  # nothing per frame was kept
