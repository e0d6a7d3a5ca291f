"""One simulator per process, started on first use: the app's default model on a fresh machine.

The server runs on its own daemon thread with its own event loop, so it keeps
serving whatever the caller's loop is doing (a Textual app, a blocking CLI run,
pytest). Importing this module starts nothing.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from pathlib import Path

from core.simulator.scenario import load_scenarios
from core.simulator.server import SimulatorServer

SCENARIO_DIR_ENV = "LLMWB_SCENARIO_DIR"  # one directory, or several joined with os.pathsep
START_TIMEOUT_S = 10.0
RECORDED_EXCHANGES = 50  # a long-lived server must not keep every frame it ever sent

_lock = threading.Lock()
_server: SimulatorServer | None = None
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None
load_errors: list[tuple[Path, Exception]] = []  # user scenario files skipped as broken


def _scenario_dirs_from_env() -> list[Path]:
    raw = os.environ.get(SCENARIO_DIR_ENV, "")
    return [Path(part).expanduser() for part in raw.split(os.pathsep) if part.strip()]


def _run(server: SimulatorServer, loop: asyncio.AbstractEventLoop, ready: concurrent.futures.Future[str]) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(server.start())
    except BaseException as exc:  # noqa: BLE001 - handed to the caller waiting on `ready`
        ready.set_exception(exc)
        loop.close()
        return
    ready.set_result(server.root_url)
    try:
        loop.run_forever()
    finally:
        loop.run_until_complete(server.stop())
        loop.close()


def embedded_root_url() -> str:
    """Start the process-wide simulator if needed (thread-safe) and return its root URL."""
    global _server, _loop, _thread
    with _lock:
        if _server is not None:
            return _server.root_url
        load_errors.clear()
        scenarios = load_scenarios(_scenario_dirs_from_env(), on_error=lambda path, exc: load_errors.append((path, exc)))
        # Inside the app nobody reads the frames it sent: record facts and timings only.
        server = SimulatorServer(
            scenarios, host="127.0.0.1", port=0, max_exchanges=RECORDED_EXCHANGES, record_frames=False
        )
        loop = asyncio.new_event_loop()
        ready: concurrent.futures.Future[str] = concurrent.futures.Future()
        thread = threading.Thread(target=_run, args=(server, loop, ready), name="llmwb-simulator", daemon=True)
        thread.start()
        root_url = ready.result(timeout=START_TIMEOUT_S)
        _server, _loop, _thread = server, loop, thread
        return root_url


def embedded_server() -> SimulatorServer | None:
    """The running embedded server, if started (its exchanges live on the simulator thread's loop)."""
    return _server


def shutdown_embedded() -> None:
    """Stop the embedded server (tests, clean exit); the next embedded_root_url() starts a new one."""
    global _server, _loop, _thread
    with _lock:
        loop, thread = _loop, _thread
        _server = _loop = _thread = None
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=START_TIMEOUT_S)
