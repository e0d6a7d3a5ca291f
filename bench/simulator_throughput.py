"""How many content chunks per second the simulator streams to one client on loopback.

Starts a SimulatorServer in-process, requests the `bench-20k` scenario (21,000
content chunks, no delays) with a raw asyncio socket client, and prints chunks/s
as the client saw them (request sent -> last byte) and as the server wrote them
(first -> last recorded frame). Client and server share one event loop and one
core here, so the client figure is a lower bound.

    .venv/bin/python bench/simulator_throughput.py [--runs 5] [--scenario bench-20k]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import orjson

from core.simulator import SimulatorServer

TERMINATOR = b"\r\n0\r\n\r\n"  # end of a chunked body
CONTENT_MARK = b'{"content":'  # every text delta; the opening role chunk does not match


async def stream_once(server: SimulatorServer, scenario: str) -> tuple[int, float, float]:
    """(content chunks seen by the client, client seconds, server seconds)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    body = orjson.dumps({"model": scenario, "stream": True, "messages": [{"role": "user", "content": "go"}]})
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    received = bytearray()
    started = time.perf_counter()
    writer.write(head + body)
    while True:
        data = await reader.read(1 << 20)
        if not data:
            break
        received += data
        if received.endswith(TERMINATOR):
            break
    elapsed = time.perf_counter() - started
    writer.close()
    exchange = server.exchanges[-1]
    await exchange.finished.wait()
    server_elapsed = exchange.frames[-1][0] - exchange.frames[0][0]
    return received.count(CONTENT_MARK), elapsed, server_elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scenario", default="bench-20k")
    args = parser.parse_args()
    async with SimulatorServer() as server:
        await stream_once(server, args.scenario)  # warm-up
        client_rates, server_rates = [], []
        for _ in range(args.runs):
            chunks, elapsed, server_elapsed = await stream_once(server, args.scenario)
            client_rates.append(chunks / elapsed)
            server_rates.append(chunks / server_elapsed)
        print(f"scenario {args.scenario}: {chunks} content chunks per stream, {args.runs} runs")
        print(f"client (request sent -> last byte): median {statistics.median(client_rates):,.0f} chunks/s, best {max(client_rates):,.0f}")
        print(f"server (first -> last frame written): median {statistics.median(server_rates):,.0f} chunks/s")


if __name__ == "__main__":
    asyncio.run(main())
