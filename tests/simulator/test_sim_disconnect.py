"""A client that goes away is noticed and recorded, mid-stream or while the server is still waiting."""

from __future__ import annotations

import openai
import pytest

from core.simulator import SimulatorServer

from .helpers import add, finished, user


async def test_client_closing_mid_stream_is_recorded(server: SimulatorServer, openai_client: openai.AsyncOpenAI) -> None:
    add(server, name="long-paced", text="word " * 100, chunking={"mode": "word"},
        timing={"first_token_ms": 0, "gap_ms": 5})  # fmt: skip
    stream = await openai_client.chat.completions.create(model="long-paced", messages=user(), stream=True)
    seen = 0
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            seen += 1
            if seen == 3:
                break
    await stream.close()
    exchange = await finished(server.exchanges[-1])
    assert exchange.client_disconnected and exchange.outcome == "client_disconnected"
    assert 3 <= exchange.content_frames < 100


async def test_hang_up_before_the_first_token_ends_the_wait_early(
    server: SimulatorServer, openai_client: openai.AsyncOpenAI
) -> None:
    add(server, name="very-slow", text="never", timing={"first_token_ms": 30_000})
    stream = await openai_client.chat.completions.create(model="very-slow", messages=user(), stream=True)
    first = await stream.__anext__()  # the role chunk goes out at once; content is 30 s away
    assert first.choices[0].delta.role == "assistant"
    await stream.close()
    exchange = await finished(server.exchanges[-1], timeout=15.0)  # not 30 s: the server woke on the hang-up
    assert exchange.client_disconnected and exchange.content_frames == 0


async def test_client_timeout_on_a_whole_response_is_recorded(server: SimulatorServer) -> None:
    add(server, name="slow-whole", text="late", timing={"first_token_ms": 30_000})
    async with openai.AsyncOpenAI(base_url=server.root_url + "/v1", api_key="x", max_retries=0, timeout=0.2) as client:
        with pytest.raises(openai.APITimeoutError):
            await client.chat.completions.create(model="slow-whole", messages=user())
    exchange = await finished(server.exchanges[-1], timeout=2.0)
    assert exchange.client_disconnected and exchange.frames == []


async def test_stopping_the_server_ends_open_streams(openai_client: openai.AsyncOpenAI, server: SimulatorServer) -> None:
    add(server, name="endless", text="x", timing={"first_token_ms": 30_000})
    stream = await openai_client.chat.completions.create(model="endless", messages=user(), stream=True)
    await stream.__anext__()
    await server.stop()
    exchange = await finished(server.exchanges[-1], timeout=2.0)
    assert exchange.outcome != "complete"
    with pytest.raises(openai.APIConnectionError):
        await stream.__anext__()
