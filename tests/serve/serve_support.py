"""Live servers for the serve tests: a scripted simulator on its own thread (so its
recorded write times are in this process's clock), and `llmwb serve` / `llmwb web`
as real subprocesses on 127.0.0.1, port 0."""

from __future__ import annotations

import asyncio
import json
import os
import select
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Iterator

import httpx2

from core.simulator import RecordedExchange, SimulatorServer, scenario_from_dict
from procs import end
from waiting import poll

START_TIMEOUT_S = 60.0  # a cold start on a loaded 2-core machine imports FastAPI, SQLModel, the SDKs
LLMWB = str(Path(sys.executable).parent / "llmwb")


class ThreadedSimulator:
    """A SimulatorServer on its own event loop thread, usable from sync tests."""

    def __init__(self) -> None:
        self.server = SimulatorServer(host="127.0.0.1", port=0)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="test-simulator", daemon=True)
        self._thread.start()
        self._call(self.server.start())

    def _call(self, coro: Any, timeout: float = 30.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    @property
    def openai_base_url(self) -> str:
        return self.server.root_url + "/v1"

    def add(self, **fields: Any) -> None:
        async def add_on_loop() -> None:
            self.server.add_scenario(scenario_from_dict(fields))

        self._call(add_on_loop())

    def exchanges(self, scenario: str) -> list[RecordedExchange]:
        return [e for e in list(self.server.exchanges) if e.scenario == scenario]

    def wait_finished(self, exchange: RecordedExchange, timeout: float = 30.0) -> RecordedExchange:
        self._call(asyncio.wait_for(exchange.finished.wait(), timeout), timeout + 5)
        return exchange

    def close(self) -> None:
        self._call(self.server.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


class LiveProcess:
    """`llmwb <command> --port 0 …` started as a user would; its first stdout line names its URL."""

    def __init__(self, home: Path, command: str, *args: str, env: dict[str, str] | None = None) -> None:
        env = {**os.environ, "LLMWB_HOME": str(home), **(env or {})}
        env.pop("LLMWB_LOG_LEVEL", None)
        self.log_path = home / f"{command}.stderr"
        self._stderr = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [LLMWB, command, "--port", "0", *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._stderr, env=env,
        )  # fmt: skip
        try:
            self.first_line = self._first_line()
        except BaseException:
            self.stop()
            raise
        self.url = next(word for word in self.first_line.split() if word.startswith("http://"))

    def _first_line(self) -> str:
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], START_TIMEOUT_S)
        line = self.process.stdout.readline().decode() if ready else ""
        if not line:
            self.stop()
            raise AssertionError(f"llmwb did not start: {self.log_path.read_text(errors='replace')[-3000:]}")
        return line

    def stop(self) -> None:
        end(self.process)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._stderr.close()


def client(token: str | None = None) -> httpx2.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx2.Client(trust_env=False, headers=headers, timeout=60.0)


def sse_events(lines: Iterator[str]) -> Iterator[Any]:
    """The `data:` payloads of an SSE body, JSON-decoded; `[DONE]` as the string itself."""
    for line in lines:
        if not line:
            continue
        assert line.startswith("data: "), f"not an SSE data line: {line!r}"
        payload = line[len("data: "):]
        yield payload if payload == "[DONE]" else json.loads(payload)


def wait_for_status(http: httpx2.Client, url: str, run_id: str, timeout: float = 30.0) -> dict[str, Any]:
    """The saved run once it is no longer `running`: the save happens after the
    hang-up, in the server, with nothing to wait on from here but the row itself."""

    def settled() -> dict[str, Any] | None:
        run = http.get(f"{url}/api/runs/{run_id}").json()
        return run if run["status"] != "running" else None

    return poll(settled, f"run {run_id} to be saved", timeout)
