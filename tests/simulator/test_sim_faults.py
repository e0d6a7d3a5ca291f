"""Every scripted fault reproduces, on both protocols, as the SDKs would meet it in the wild."""

from __future__ import annotations

import anthropic
import httpx2
import openai
import orjson
import pytest

from core.simulator import SimulatorServer

from .helpers import add, collect_openai_stream, finished, user


async def test_429_with_retry_after(server: SimulatorServer, openai_client: openai.AsyncOpenAI,
                                    anthropic_client: anthropic.AsyncAnthropic) -> None:  # fmt: skip
    with pytest.raises(openai.RateLimitError) as oa:
        await openai_client.chat.completions.create(model="fault-429", messages=user(), stream=True)
    assert oa.value.response.headers["retry-after"] == "7" and oa.value.code == "rate_limit_exceeded"
    assert oa.value.response.headers["x-request-id"].startswith("req_")
    with pytest.raises(anthropic.RateLimitError) as an:
        await anthropic_client.messages.create(model="fault-429", max_tokens=8, messages=user())
    assert an.value.response.headers["retry-after"] == "7"
    assert an.value.body["error"]["type"] == "rate_limit_error"


@pytest.mark.parametrize(
    "model, openai_error, anthropic_error, anthropic_type",
    [
        ("fault-401", openai.AuthenticationError, anthropic.AuthenticationError, "authentication_error"),
        ("fault-500", openai.InternalServerError, anthropic.InternalServerError, "api_error"),
        ("fault-529", openai.InternalServerError, anthropic.OverloadedError, "overloaded_error"),
    ],
)
async def test_status_faults(server: SimulatorServer, openai_client: openai.AsyncOpenAI,
                             anthropic_client: anthropic.AsyncAnthropic, model: str, openai_error: type,
                             anthropic_error: type, anthropic_type: str) -> None:  # fmt: skip
    with pytest.raises(openai_error):
        await openai_client.chat.completions.create(model=model, messages=user())
    with pytest.raises(anthropic_error) as an:
        await anthropic_client.messages.create(model=model, max_tokens=8, messages=user(), stream=True)
    assert an.value.body["error"]["type"] == anthropic_type
    assert [e.status for e in server.exchanges] == [int(model[-3:])] * 2


async def test_drop_truncates_the_stream(server: SimulatorServer, openai_client: openai.AsyncOpenAI,
                                         anthropic_client: anthropic.AsyncAnthropic) -> None:  # fmt: skip
    received = []
    stream = await openai_client.chat.completions.create(model="fault-drop", messages=user(), stream=True)
    with pytest.raises(openai.APIConnectionError):
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                received.append(chunk.choices[0].delta.content)
    assert "".join(received) == "One two three four five"
    exchange = await finished(server.exchanges[-1])
    assert (exchange.outcome, exchange.content_frames, exchange.client_disconnected) == ("dropped", 5, False)
    assert not any(b"[DONE]" in frame for _, frame in exchange.frames)

    with pytest.raises(httpx2.RemoteProtocolError):  # the anthropic SDK lets the transport error through
        async with anthropic_client.messages.stream(model="fault-drop", max_tokens=8, messages=user()) as an:
            await an.get_final_message()
    exchange = await finished(server.exchanges[-1])
    assert exchange.outcome == "dropped" and not any(b"message_stop" in frame for _, frame in exchange.frames)


async def test_malformed_frame_after_three_chunks(server: SimulatorServer, openai_client: openai.AsyncOpenAI,
                                                  anthropic_client: anthropic.AsyncAnthropic) -> None:  # fmt: skip
    raw = await openai_client.chat.completions.with_streaming_response.create(
        model="fault-malformed", messages=user(), stream=True
    ).__aenter__()
    lines = [line async for line in raw.iter_lines() if line.startswith("data: ")]
    await raw.close()
    payloads = [line.removeprefix("data: ") for line in lines]
    bad = []
    for i, payload in enumerate(payloads[:-1]):
        try:
            orjson.loads(payload)
        except orjson.JSONDecodeError:
            bad.append(i)
    assert payloads[-1] == "[DONE]" and bad == [4]  # role chunk + 3 content chunks, then the bad one
    exchange = await finished(server.exchanges[-1])
    assert exchange.outcome == "complete" and exchange.content_frames == 8  # the stream went on

    with pytest.raises(ValueError):  # what the SDK makes of it
        async with anthropic_client.messages.stream(model="fault-malformed", max_tokens=8, messages=user()) as an:
            await an.get_final_message()


async def test_stall_shows_in_recorded_frame_times(server: SimulatorServer, openai_client: openai.AsyncOpenAI) -> None:
    result = await collect_openai_stream(
        await openai_client.chat.completions.create(model="fault-stall", messages=user(), stream=True)
    )
    assert result["text"] == "One two three four five six seven eight."
    exchange = await finished(server.exchanges[-1])
    gaps = [b - a for a, b in zip(exchange.content_times, exchange.content_times[1:])]
    # The stall sits between content frames 4 and 5 and nowhere else. No tight upper bound:
    # how late a loaded machine wakes the simulator's loop is not what is tested here.
    assert gaps[3] >= 1.5
    assert max(gaps[:3] + gaps[4:]) < 0.5 < gaps[3]


async def test_error_event_ends_the_stream(server: SimulatorServer, openai_client: openai.AsyncOpenAI,
                                           anthropic_client: anthropic.AsyncAnthropic) -> None:  # fmt: skip
    stream = await openai_client.chat.completions.create(model="fault-error-event", messages=user(), stream=True)
    with pytest.raises(openai.APIError, match="Overloaded"):
        await collect_openai_stream(stream)
    exchange = await finished(server.exchanges[-1])
    assert (exchange.outcome, exchange.content_frames) == ("error_event", 6)
    assert orjson.loads(exchange.frames[-1][1].removeprefix(b"data: "))["error"]["message"] == "Overloaded"

    with pytest.raises(anthropic.APIStatusError) as caught:
        async with anthropic_client.messages.stream(model="fault-error-event", max_tokens=8, messages=user()) as an:
            await an.get_final_message()
    assert caught.value.body == {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    assert server.exchanges[-1].frames[-1][1].startswith(b"event: error\n")


async def test_headers_then_nothing_ends_in_a_client_read_timeout(server: SimulatorServer) -> None:
    async with openai.AsyncOpenAI(base_url=server.root_url + "/v1", api_key="x", max_retries=0, timeout=0.3) as client:
        stream = await client.chat.completions.create(model="fault-headers-only", messages=user(), stream=True)
        assert stream.response.status_code == 200
        with pytest.raises(openai.APITimeoutError):
            await collect_openai_stream(stream)
    exchange = await finished(server.exchanges[-1])
    assert exchange.client_disconnected and exchange.frames == []


async def test_stream_faults_on_whole_responses(server: SimulatorServer, openai_client: openai.AsyncOpenAI) -> None:
    add(server, name="cut-whole", text="some text to cut", fault={"drop_after_chunks": 1})
    with pytest.raises(openai.APIConnectionError):
        await openai_client.chat.completions.create(model="cut-whole", messages=user())
    add(server, name="bad-whole", text="some text to spoil", fault={"malformed_after_chunks": 1})
    with pytest.raises(ValueError):  # the SDK's json.loads of the half body
        await openai_client.chat.completions.create(model="bad-whole", messages=user())
    with pytest.raises(openai.InternalServerError, match="Overloaded"):
        await openai_client.chat.completions.create(model="fault-error-event", messages=user())
