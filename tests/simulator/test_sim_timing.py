"""Timing truth: what a client measures matches what the scenario scripted and the server recorded.

Noise on a shared machine only ever makes a frame *late*. So each test measures
up to ATTEMPTS times and asserts on the first attempt that fits: a server that
really keeps time fits at once, one that does not never fits (it is never
early, and "late by more than the tolerance" every time is a real failure).
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Awaitable, Callable

import anthropic
import openai

from core.simulator import SimulatorServer
from core.simulator.script import content_gaps

from .helpers import add, collect_openai_stream, finished, user

FIRST_TOKEN_MS = 120
GAP_MS = 10
# Server-recorded time vs the script: never early; late by up to this on a loaded 2-core
# machine (a busy loop wakes late). What the client measures is compared with the
# server's record, which is the truth, not with the script.
SERVER_LATE_MS = 60
# A bare SDK client's TTFT vs the server's record: request build, connect and transit, on a
# machine whose other core runs another test worker.
CLIENT_VS_SERVER_MS = 50
# No frame is written earlier than its due time (the script's offsets from receipt) by more
# than this: a timer fires early by a hair. Late is load, and a loop that wakes late writes the
# frames it owes back to back (gaps of ~0 ms at load 9-10), so the gaps are not checked; the
# due times are, and the lateness cannot add up: the last frame's is bounded below.
EARLY_SLACK_MS = 2
# Eight: with four xdist workers, a CPU hog on each core (bench/flake_check.sh) and other work
# (load 10-12), three attempts in a row missed in two runs out of two: the client 73-1,461 ms
# behind the server's record, or the server's gaps ~0 ms (then checked, now its due times)
# when its loop woke late: the test process starved. Each attempt takes ~0.2 s; one that
# fits ends the test, and a server that does not keep time misses all eight.
ATTEMPTS = 8


async def first_fitting(measure: Callable[[], Awaitable[None]]) -> None:
    misses = []
    for _ in range(ATTEMPTS):
        try:
            await measure()
            return
        except AssertionError as miss:
            misses.append(str(miss).splitlines()[0])
    raise AssertionError(f"no attempt kept time: {misses}")


async def test_openai_ttft_matches_the_script_and_the_server_record(
    server: SimulatorServer, openai_client: openai.AsyncOpenAI
) -> None:
    add(server, name="paced", text="one two three four five six seven eight", chunking={"mode": "word"},
        timing={"first_token_ms": FIRST_TOKEN_MS, "gap_ms": GAP_MS})  # fmt: skip
    # Warm up: the first stream pays a TCP connect and the SDK's one-off model building.
    add(server, name="warm", text="w", timing={"first_token_ms": 0, "gap_ms": 0})
    await collect_openai_stream(await openai_client.chat.completions.create(model="warm", messages=user(), stream=True))

    async def measure() -> None:
        sent_at = time.perf_counter()
        stream = await openai_client.chat.completions.create(model="paced", messages=user(), stream=True)
        arrivals = []
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                arrivals.append(time.perf_counter())
        client_ttft_ms = (arrivals[0] - sent_at) * 1000
        exchange = await finished(server.exchanges[-1])
        server_ttft_ms = (exchange.first_content_at - exchange.received_at) * 1000
        assert FIRST_TOKEN_MS <= server_ttft_ms < FIRST_TOKEN_MS + SERVER_LATE_MS
        assert 0 < client_ttft_ms - server_ttft_ms < CLIENT_VS_SERVER_MS
        assert len(arrivals) == len(exchange.content_times) == 8
        # Paced, not sent in a burst: each frame written no earlier than its due time.
        written_ms = [(at - exchange.received_at) * 1000 for at in exchange.content_times]
        due_ms = [FIRST_TOKEN_MS + index * GAP_MS for index in range(8)]
        assert all(written > due - EARLY_SLACK_MS for written, due in zip(written_ms, due_ms)), (written_ms, due_ms)
        # The client's gaps are judged against the server's record (same clock), not the
        # script: a loaded client loop reads several frames in one wake-up (gaps of ~0 ms).
        # Every frame arrives after it was written, the first before the last was written
        # (streamed as scripted, not held back and sent at once).
        assert all(arrived >= written for arrived, written in zip(arrivals, exchange.content_times))
        assert arrivals[0] < exchange.content_times[-1]
        # Due times are absolute from receipt, so the last frame lands on schedule too.
        last_ms = (exchange.content_times[-1] - exchange.received_at) * 1000
        assert FIRST_TOKEN_MS + 7 * GAP_MS <= last_ms < FIRST_TOKEN_MS + 7 * GAP_MS + SERVER_LATE_MS

    await first_fitting(measure)


async def test_anthropic_ttft_matches_the_script(server: SimulatorServer, anthropic_client: anthropic.AsyncAnthropic) -> None:
    add(server, name="paced", text="one two three", chunking={"mode": "word"},
        timing={"first_token_ms": FIRST_TOKEN_MS, "gap_ms": GAP_MS})  # fmt: skip
    add(server, name="warm", text="w", timing={"first_token_ms": 0, "gap_ms": 0})
    async with anthropic_client.messages.stream(model="warm", max_tokens=16, messages=user()) as warm:
        await warm.get_final_message()

    async def measure() -> None:
        sent_at = time.perf_counter()
        client_ttft_ms = 0.0
        async with anthropic_client.messages.stream(model="paced", max_tokens=16, messages=user()) as stream:
            async for _ in stream.text_stream:
                client_ttft_ms = client_ttft_ms or (time.perf_counter() - sent_at) * 1000
        exchange = await finished(server.exchanges[-1])
        server_ttft_ms = (exchange.first_content_at - exchange.received_at) * 1000
        assert FIRST_TOKEN_MS <= server_ttft_ms < FIRST_TOKEN_MS + SERVER_LATE_MS
        assert 0 < client_ttft_ms - server_ttft_ms < CLIENT_VS_SERVER_MS
        # message_start and ping go out at once: first bytes long before the first token.
        assert (exchange.frames[0][0] - exchange.received_at) * 1000 < SERVER_LATE_MS

    await first_fitting(measure)


async def test_jittered_frames_land_on_their_seeded_schedule(server: SimulatorServer, openai_client: openai.AsyncOpenAI) -> None:
    scenario = add(server, name="jittery", text="abcdefghijkl", chunking={"size": 1},
                   timing={"first_token_ms": 0, "gap_ms": 8, "jitter_ms": 6, "seed": 5})  # fmt: skip
    gaps = content_gaps(scenario.timing)
    scheduled_ms = list(itertools.accumulate([0.0] + [next(gaps) * 1000 for _ in range(11)]))
    scheduled_gaps = [b - a for a, b in zip(scheduled_ms, scheduled_ms[1:])]
    assert max(scheduled_gaps) - min(scheduled_gaps) > 4  # the jitter is real

    async def measure() -> None:
        stream = await openai_client.chat.completions.create(model="jittery", messages=user(), stream=True)
        async for _chunk in stream:
            pass
        exchange = await finished(server.exchanges[-1])
        actual_ms = [(t - exchange.received_at) * 1000 for t in exchange.content_times]
        lateness = [actual - scheduled for actual, scheduled in zip(actual_ms, scheduled_ms, strict=True)]
        # Never early (a wrong schedule would put some frames early); typically ~1 ms late, and a
        # single frame may be held up by a busy machine, so the bound on the worst one is loose.
        report = f"lateness ms: {[round(x, 1) for x in lateness]}"
        assert min(lateness) > -0.5 and statistics.median(lateness) < SERVER_LATE_MS and max(lateness) < 2 * SERVER_LATE_MS, report

    for _ in range(2):  # the same seeded schedule on every request
        await first_fitting(measure)


async def test_whole_response_waits_as_long_as_the_stream_would(
    server: SimulatorServer, openai_client: openai.AsyncOpenAI
) -> None:
    add(server, name="slow-whole", text="one two three four five", chunking={"mode": "word"},
        timing={"first_token_ms": 50, "gap_ms": 10})  # fmt: skip

    async def measure() -> None:
        await openai_client.chat.completions.create(model="slow-whole", messages=user())
        exchange = await finished(server.exchanges[-1])
        took_ms = (exchange.first_content_at - exchange.received_at) * 1000
        assert 50 + 4 * 10 <= took_ms < 50 + 4 * 10 + SERVER_LATE_MS

    await first_fitting(measure)
