"""Stopping `llmwb serve` in the middle of a stream keeps the run, saved as cancelled."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx2
import pytest

from core.store import Store
from serve_support import LiveProcess, ThreadedSimulator, client, sse_events


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_stopping_the_server_mid_stream_saves_the_run_as_cancelled(serve_home: Path, sim: ThreadedSimulator, signum: int) -> None:
    server = LiveProcess(serve_home, "serve")
    received = ""
    try:
        with client() as http, http.stream("POST", server.url + "/api/debug/chat",
                                           json={"model_id": "sim-hang", "prompt": "hi", "stream": True}) as response:  # fmt: skip
            events = sse_events(response.iter_lines())
            while len(received.split()) < 3:  # everything before the stall
                received += next(events).get("content", "")
            (run_id,) = [r["id"] for r in http.get(server.url + "/api/runs").json() if r["status"] == "running"]
            server.process.send_signal(signum)
            # The stream is cut, without [DONE]: a client can tell it did not end normally.
            with pytest.raises(httpx2.RemoteProtocolError):
                list(events)
        server.process.wait(timeout=60)  # uvicorn re-raises the signal once it has shut down
    finally:
        server.stop()
    assert "Traceback" not in server.log_path.read_text(errors="replace")
    store = Store(serve_home / "llmwb.db")
    run = store.get_run(run_id)
    assert run.response["content"] == received
    assert run.status == "cancelled" and run.response["finish_reason"] == "cancelled"
