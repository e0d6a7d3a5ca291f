"""The simulator's recorded write times are when its bytes left, even when its own
process gets round to noting them late (core/simulator/wireclock.py)."""

from __future__ import annotations

import asyncio
import json
import sys
import time

import pytest

from core.simulator import SimulatorServer
from core.simulator.wireclock import WireClock

from .helpers import add, finished

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="kernel transmit stamps are Linux's")

# Stands in for the simulator losing its core right after a write returned: a time it
# took then would be this late.
LATE_AFTER_WRITE_S = 0.030

# A client in its own process (so the simulator's stall cannot delay it), reading with
# the kernel's receive stamps: one JSON line per read, [arrival on perf_counter's clock, text].
CLIENT = r"""
import json, socket, struct, sys, time
sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
sock.setsockopt(socket.SOL_SOCKET, 35, 1)  # SO_TIMESTAMPNS
body = json.dumps({"model": "paced", "stream": True, "messages": [{"role": "user", "content": "hi"}]}).encode()
sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
seen = b""
while b"[DONE]" not in seen:
    data, ancillary, _, _ = sock.recvmsg(65536, socket.CMSG_SPACE(16))
    if not data:
        break
    seen += data
    perf, wall = time.perf_counter(), time.time()
    seconds, nanoseconds = struct.unpack("ll", ancillary[0][2][:16])
    print(json.dumps([perf - (wall - (seconds + nanoseconds / 1e9)), data.decode()]), flush=True)
"""


async def test_write_times_are_the_wires_when_the_simulator_notes_them_late(simulator: SimulatorServer, monkeypatch) -> None:
    add(simulator, name="paced", api="openai", text="one two three four", chunking={"mode": "word"},
        timing={"first_token_ms": 50, "gap_ms": 40})  # fmt: skip
    real_send = WireClock.send

    def send_then_lose_the_core(self: WireClock, data: bytes) -> int:
        sent = real_send(self, data)
        stall_until = time.perf_counter() + LATE_AFTER_WRITE_S
        while time.perf_counter() < stall_until:
            pass
        return sent

    monkeypatch.setattr(WireClock, "send", send_then_lose_the_core)
    client = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CLIENT, str(simulator.port), stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(client.communicate(), 30)
    reads = [json.loads(line) for line in out.decode().splitlines()]
    exchange = await finished(simulator.exchanges[-1])

    def arrival_of(fragment: str) -> float:
        return next(at for at, text in reads if fragment in text)

    assert exchange.head_written_at is not None
    assert abs(exchange.head_written_at - arrival_of("HTTP/1.1 200")) < 0.001
    content = [(at, frame.decode()) for at, frame in exchange.frames if '"content":"' in frame.decode()]
    assert len(content) >= 4  # the words (and the role frame, with its empty content)
    for written_at, frame in content:
        assert abs(written_at - arrival_of(frame.strip())) < 0.001, frame
