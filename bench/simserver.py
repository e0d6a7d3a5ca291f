"""A simulator for the UI benches: in its own process (a remote provider; the
figures are the app's own — CPU, GIL, RSS) or on a thread of the bench's process
(as the app's embedded simulator runs, sharing the GIL and memory with the UI).

Either way `content_times()` gives the write time (`time.perf_counter`, one clock for
every process on the machine) of each content frame of the last exchange.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from multiprocessing.connection import Connection
from typing import Any

from core.simulator import SimulatorServer, scenario_from_dict

RECORDED_EXCHANGES = 50  # what the embedded simulator keeps (core/simulator/embedded.py)


def _server(scenario: dict[str, Any]) -> SimulatorServer:
    return SimulatorServer({scenario["name"]: scenario_from_dict(scenario)}, max_exchanges=RECORDED_EXCHANGES)


def _serve(scenario: dict[str, Any], conn: Connection) -> None:
    async def serve() -> None:
        server = _server(scenario)
        await server.start()
        conn.send(server.root_url)
        loop = asyncio.get_running_loop()
        while (request := await loop.run_in_executor(None, conn.recv)) != "stop":
            last = server.exchanges[-1] if server.exchanges else None
            if request == "head":
                conn.send(last.head_written_at if last else None)
            else:
                conn.send(last.content_times if request == "times" and last else [])
        await server.stop()

    asyncio.run(serve())


class ServerProcess:
    def __init__(self, scenario: dict[str, Any]) -> None:
        self._conn, child = multiprocessing.Pipe()
        self.process = multiprocessing.Process(target=_serve, args=(scenario, child), daemon=True)
        self.process.start()
        self.root_url: str = self._conn.recv()

    def content_times(self) -> list[float]:
        self._conn.send("times")
        return self._conn.recv()

    def head_written_at(self) -> float | None:
        """When the last exchange's response head was written (streamed responses)."""
        self._conn.send("head")
        return self._conn.recv()

    def stop(self) -> None:
        self._conn.send("stop")
        self.process.join(10)


class ServerThread:
    def __init__(self, scenario: dict[str, Any]) -> None:
        self.server = _server(scenario)
        self.loop = asyncio.new_event_loop()
        started = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(self.server.start())
            started.set()
            self.loop.run_forever()

        threading.Thread(target=serve, daemon=True).start()
        started.wait(10)
        self.root_url = self.server.root_url

    def content_times(self) -> list[float]:
        return self.server.exchanges[-1].content_times if self.server.exchanges else []

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)


def start_server(scenario: dict[str, Any], in_process: bool) -> ServerProcess | ServerThread:
    return ServerThread(scenario) if in_process else ServerProcess(scenario)
