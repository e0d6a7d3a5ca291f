"""Writing responses: plain JSON, whole (non-streamed) completions, and scripted streams.

The streaming loop is protocol-blind: a renderer (wire.py) hands it frames
tagged META / CONTENT / CONTENT_END, and the loop applies the scenario's timing
to CONTENT frames and fires "after N chunks" faults at the checkpoint before
each content frame (and at CONTENT_END).

Speed: with no gap, frames are gathered into ~64 KB batches, each written as
one HTTP chunk, and the loop waits on the socket only when a megabyte is
queued. Every frame still gets its own record, stamped with its batch's write
time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.simulator import anthropic_wire, ollama_wire, openai_wire
from core.simulator.http import Connection, response_head
from core.simulator.scenario import Scenario
from core.simulator.script import Plan, content_gaps, scripted_duration_s
from core.simulator.wire import CONTENT_END, META, WireRenderer

FLUSH_BYTES = 64 * 1024  # gap-0 streams are written in batches of about this size...
MAX_BUFFERED = 1024 * 1024  # ...and wait for the socket only when this much is queued


class UnrecordedFrames(list):  # type: ignore[type-arg]
    """Stands in for `RecordedExchange.frames` (and `content_times`) where nobody reads
    them (the embedded simulator inside the app, `llmwb simulate`): a 100k-chunk answer
    would otherwise keep ~40 MB of frames alive for as long as the server runs."""

    def append(self, _frame: tuple[float, bytes]) -> None:
        return None

    def extend(self, _frames: object) -> None:
        return None


@dataclass(eq=False)
class RecordedExchange:
    """One HTTP request and exactly what the server wrote back, with timestamps.

    Appended to SimulatorServer.exchanges as soon as the request is read; `finished`
    is set when the server is done with it, so tests await it instead of sleeping.
    Times are time.perf_counter() values of the server's process.
    """

    method: str
    path: str
    headers: dict[str, str]  # request headers, names lower-cased
    body: dict[str, Any] | None  # parsed JSON request body
    received_at: float  # perf_counter() when the request was fully read
    frames: list[tuple[float, bytes]] = field(default_factory=list)  # (when its write left: Connection.written_at, bytes)
    first_content_at: float | None = None
    head_written_at: float | None = None  # when a streamed response's head left (Connection.written_at)
    client_disconnected: bool = False
    finished: asyncio.Event = field(default_factory=asyncio.Event)  # set when handling is over, whatever the outcome
    status: int | None = None
    protocol: str | None = None  # "openai" | "responses" | "anthropic" for the generation endpoints
    scenario: str | None = None
    streamed: bool = False
    # complete | http_error | client_disconnected | dropped | error_event | server_stopped | server_error
    outcome: str = "pending"
    completed_at: float | None = None
    connection_id: int = 0  # exchanges on one kept-alive connection share it
    content_frames: int = 0  # content-bearing frames written (text, reasoning, tool-call deltas)
    content_times: list[float] = field(default_factory=list)  # write time of each content frame, in order
    # Kept even when content_times is not (a long-lived server): the log's ITL max.
    last_content_at: float | None = None
    max_content_gap: float = 0.0  # seconds, the largest between two content writes
    error: str | None = None  # the simulator's own exception, for outcome "server_error"


class FrameBatch:
    """Frames waiting to be written as one HTTP chunk; times are recorded per frame at write."""

    __slots__ = ("conn", "exchange", "frames", "size", "content")

    def __init__(self, conn: Connection, exchange: RecordedExchange) -> None:
        self.conn = conn
        self.exchange = exchange
        self.frames: list[bytes] = []
        self.size = 0
        self.content = 0

    def add(self, frame: bytes, content: bool = False) -> None:
        self.frames.append(frame)
        self.size += len(frame)
        self.content += content

    def flush(self) -> bool:
        """Write what is pending; False if the client is gone."""
        if not self.frames:
            return not self.conn.gone
        frames = self.frames
        payload = b"".join(frames)
        if not self.conn.write(b"%x\r\n%s\r\n" % (len(payload), payload)):
            return False
        written_at = self.conn.written_at
        self.exchange.frames.extend([(written_at, frame) for frame in frames])
        if self.content:
            exchange = self.exchange
            if exchange.first_content_at is None:
                exchange.first_content_at = written_at
            elif exchange.last_content_at is not None:
                exchange.max_content_gap = max(exchange.max_content_gap, written_at - exchange.last_content_at)
            exchange.last_content_at = written_at
            exchange.content_frames += self.content
            exchange.content_times.extend([written_at] * self.content)
        self.frames = []
        self.size = 0
        self.content = 0
        return True


async def send_json(
    conn: Connection,
    exchange: RecordedExchange,
    status: int,
    payload: bytes,
    extra_headers: Mapping[str, str] | None = None,
    *,
    outcome: str = "complete",
) -> bool:
    headers = {**json_headers(payload), **(extra_headers or {})}
    exchange.status = status
    if not conn.write(response_head(status, headers) + payload):
        return False
    exchange.frames.append((conn.written_at, payload))
    exchange.outcome = outcome
    return await conn.drain(FLUSH_BYTES)


async def send_error(
    conn: Connection,
    exchange: RecordedExchange,
    protocol: str,
    status: int,
    message: str,
    headers: Mapping[str, str] | None = None,
) -> bool:
    if protocol == "anthropic":
        payload = anthropic_wire.error_body(status, message)
    elif protocol == "ollama":
        payload = ollama_wire.error_body(message)
    else:
        payload = openai_wire.error_body(status, message)
    return await send_json(conn, exchange, status, payload, headers, outcome="http_error")


async def whole(conn: Connection, exchange: RecordedExchange, scenario: Scenario, wire: WireRenderer, plan: Plan) -> bool:
    """Non-streamed: wait as long as the stream would have taken, then send the whole body.

    Stream faults map onto a whole response as: headers_then_nothing -> headers only;
    drop -> half the body, then close; malformed -> half the body (invalid JSON);
    error_event -> an overloaded error status; stall -> added to the wait.
    """
    fault = scenario.fault
    delay = scripted_duration_s(scenario.timing, len(plan.steps))
    if fault.stall_after_chunks is not None and fault.stall_after_chunks <= len(plan.steps):
        delay += fault.stall_s
    if not await conn.pause(exchange.received_at + delay - time.perf_counter()):
        exchange.outcome = "client_disconnected"
        return False
    if fault.error_event_after_chunks is not None:
        status = 529 if wire.protocol == "anthropic" else 503
        message = fault.error_message or "Overloaded"
        return await send_error(conn, exchange, wire.protocol, status, message, wire.response_headers())
    payload = wire.nonstream_body()
    headers = {"content-type": "application/json", **wire.response_headers()}
    exchange.status = 200
    if fault.headers_then_nothing:
        headers["content-length"] = str(len(payload))
        conn.write(response_head(200, headers))
        await conn.wait_hang_up()
        exchange.outcome = "client_disconnected"
        return False
    truncated = fault.drop_after_chunks is not None or fault.malformed_after_chunks is not None
    if truncated:
        full_length = len(payload)
        payload = payload[: full_length // 2]
        # Dropped: promise the full length and close early. Malformed: a complete, bad body.
        headers["content-length"] = str(full_length if fault.drop_after_chunks is not None else len(payload))
    else:
        headers["content-length"] = str(len(payload))
    if not conn.write(response_head(200, headers) + payload):
        exchange.outcome = "client_disconnected"
        return False
    written_at = conn.written_at
    exchange.frames.append((written_at, payload))
    exchange.first_content_at = written_at
    exchange.content_frames = 1
    exchange.content_times.append(written_at)
    if fault.drop_after_chunks is not None:
        await conn.drain(0)
        conn.transport.abort()
        exchange.outcome = "dropped"
        return False
    exchange.outcome = "complete"
    return await conn.drain(FLUSH_BYTES)


async def stream(conn: Connection, exchange: RecordedExchange, scenario: Scenario, wire: WireRenderer) -> bool:
    fault = scenario.fault
    headers = {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        "transfer-encoding": "chunked",
        "connection": "keep-alive",
        **wire.response_headers(),
    }
    exchange.status = 200
    if not conn.write(response_head(200, headers)):
        exchange.outcome = "client_disconnected"
        return False
    exchange.head_written_at = conn.written_at
    if fault.headers_then_nothing:
        await conn.drain(FLUSH_BYTES)
        await conn.wait_hang_up()
        exchange.outcome = "client_disconnected"
        return False

    batch = FrameBatch(conn, exchange)
    gaps = content_gaps(scenario.timing)
    # Frames are due on an absolute schedule from request receipt, so sleep overshoot
    # does not accumulate and total duration matches the script.
    due = exchange.received_at + scenario.timing.first_token_ms / 1000.0
    sent = 0  # content frames so far
    paced = scenario.timing.gap_ms > 0 or scenario.timing.jitter_ms > 0
    for data, kind in wire.stream_frames():
        if kind == META:
            batch.add(data)
            if batch.size >= FLUSH_BYTES and not await _flush_and_yield(batch):
                return _lost(exchange)
            continue

        # A checkpoint before each content frame and at the end of content: "after N chunks" faults.
        if fault.malformed_after_chunks == sent:
            batch.add(wire.malformed_frame())
        if fault.stall_after_chunks == sent:
            if not batch.flush() or not await conn.pause(fault.stall_s):
                return _lost(exchange)
            due = max(due, time.perf_counter())
        if fault.error_event_after_chunks == sent:
            batch.add(wire.error_frame(fault.error_message or "Overloaded"))
            if not batch.flush() or not conn.write(b"0\r\n\r\n"):
                return _lost(exchange)
            exchange.outcome = "error_event"
            return await conn.drain(FLUSH_BYTES)
        if fault.drop_after_chunks == sent:
            if not batch.flush():
                return _lost(exchange)
            await conn.drain(0)  # the N frames must reach the client before the cut
            conn.transport.abort()
            exchange.outcome = "dropped"
            return False
        if kind == CONTENT_END:
            continue

        if sent:
            due += next(gaps)
        delay = due - time.perf_counter()
        if delay > 0 and (not batch.flush() or not await conn.pause(delay)):
            return _lost(exchange)
        batch.add(data, content=True)
        sent += 1
        if sent == 1 or paced:
            # Paced frames (and the first, which TTFT measures) each get their own write
            # and timestamp; only unpaced streams are batched.
            if not batch.flush():
                return _lost(exchange)
        elif batch.size >= FLUSH_BYTES and not await _flush_and_yield(batch):
            return _lost(exchange)

    if not batch.flush() or not conn.write(b"0\r\n\r\n"):
        return _lost(exchange)
    exchange.outcome = "complete"
    return await conn.drain(FLUSH_BYTES)


async def _flush_and_yield(batch: FrameBatch) -> bool:
    """Flush a full batch and let the loop breathe (hang-up watcher, other clients)."""
    if not batch.flush():
        return False
    conn = batch.conn
    if conn.transport.get_write_buffer_size() > MAX_BUFFERED:
        return await conn.drain(MAX_BUFFERED // 4)
    await asyncio.sleep(0)
    return not conn.gone


def _lost(exchange: RecordedExchange) -> bool:
    exchange.outcome = "client_disconnected"
    return False


def json_headers(payload: bytes, *, close: bool = False) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "content-length": str(len(payload)),
        "connection": "close" if close else "keep-alive",
    }


