"""The reader process's side (`python -m core.readerchild`, started by core.readerproc).

It runs the app's runs, one at a time, exactly as the CLI does (core.runner.start_run:
the exchange on an I/O thread, stamped where the bytes arrive, checkpointed and saved
to the same SQLite file), and sends the events back over its stdout pipe in pickled
batches. Its interpreter lock is its own: the app drawing, collecting garbage or
being descheduled holding its lock delays when the events are seen, never the stamps.

Protocol (multiprocessing.connection framing, pickled tuples):
  app → here   ("run", job dict) · ("cancel", run_id) · end of file: finish and exit
  here → app   ("events", [Event, …], live figures, t0) · ("done", run_id)
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import queue
import signal
import sys
import threading
from multiprocessing.connection import Connection
from typing import Any

log = logging.getLogger("llmwb")

# Events per message: pickling holds this process's lock, and the run's reads wait
# for it; a few thousand events pickle in a millisecond or two.
MAX_BATCH = 2000
EXIT_AFTER_EOF_S = 30.0  # the app is gone: a run still saving gets this long, then the process ends


class _Control:
    """Reads the app's messages on a thread of its own, so a cancel lands mid-run."""

    def __init__(self, inbound: Connection) -> None:
        self.inbound = inbound
        self.jobs: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.lock = threading.Lock()
        self.current: Any = None  # the RunHandle streaming now
        self.cancelled: set[str] = set()
        threading.Thread(target=self._read, name="llmwb-reader-control", daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                kind, payload = self.inbound.recv()
            except (EOFError, OSError):
                break
            if kind == "run":
                self.jobs.put(payload)
            elif kind == "cancel":
                self.cancel(payload)
        # The app is gone (or done with us): stop the run going, let it save, then exit.
        with self.lock:
            handle = self.current
        if handle is not None:
            self.cancel(handle.run_id)
        self.jobs.put(None)
        threading.Timer(EXIT_AFTER_EOF_S, os._exit, args=(1,)).start()

    def cancel(self, run_id: str) -> None:
        with self.lock:
            self.cancelled.add(run_id)
            handle = self.current
        if handle is not None and handle.run_id == run_id:
            handle.cancel()

    def began(self, handle: Any) -> None:
        with self.lock:
            self.current = handle
            cancelled = handle.run_id in self.cancelled
        if cancelled:
            handle.cancel()

    def ended(self) -> None:
        with self.lock:
            self.current = None


def _warm_up(control: _Control) -> None:
    """While idle: what the first run would otherwise import or start before it sends
    (several seconds of CPU on a loaded 2-core machine). Step by step, stopping when a
    run arrives: an import going on beside a run would hold the lock its reads need."""
    from core.providers.http import load_sdk

    steps = (
        lambda: __import__("core.runner"),
        lambda: asyncio.run(load_sdk("openai", "openai.resources.chat")),  # most configs, the simulator too
        _start_simulator,
    )  # not anthropic: 3 s of CPU, seldom needed first; a run for it imports it then
    for step in steps:
        if not control.jobs.empty():
            return
        step()


def _start_simulator() -> None:
    from core.simulator.embedded import embedded_root_url

    embedded_root_url()  # the default model's simulator, here: beside the reader, not the UI


def _stores() -> Any:
    from core.store import Store

    opened: dict[str, Store] = {}

    def store_at(path: str | None) -> Store | None:
        if path is None:
            return None
        if path not in opened:
            opened[path] = Store(path)
        return opened[path]

    return store_at


async def _forward(handle: Any, outbound: Connection) -> None:
    async for batch in handle.batches():
        for start in range(0, len(batch), MAX_BATCH):
            live = handle.live()
            t0 = _clock() - live["elapsed_ms"] / 1000.0
            outbound.send_bytes(pickle.dumps(("events", batch[start : start + MAX_BATCH], live, t0), -1))
    await handle.wait()
    outbound.send_bytes(pickle.dumps(("done", handle.run_id), -1))


def _clock() -> float:
    from core.metrics import clock

    return clock()


def _run_one(job: dict[str, Any], control: _Control, outbound: Connection, store_at: Any) -> None:
    from core.redact import register_key_env
    from core.runner import RunOptions, start_run
    from core.store.models import ModelConfig
    from core.store.owner import adopt_owner

    os.environ.update(job["env"])  # the key as the app has it now
    register_key_env(job["key_envs"])
    adopt_owner(*job["owner"])  # the row belongs to the app: its SIGTERM handling finds it
    options = RunOptions(store=store_at(job["store"]), **job["options"])
    handle = start_run(ModelConfig(**job["config"]), job["request"], options)
    control.began(handle)
    try:
        asyncio.run(_forward(handle, outbound))
    finally:
        control.ended()


def _log_to(path: str | None) -> None:
    if not path:
        return
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(f"%(asctime)s %(levelname)s reader[{os.getpid()}] %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)


def main() -> None:
    # The protocol owns fds 0 and 1; anything printed goes to stderr instead.
    inbound = Connection(os.dup(0), writable=False)
    outbound = Connection(os.dup(1), readable=False)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(2, 1)
    # The app ends its runs on ctrl+c itself (cancel, save); a SIGINT sent to a whole
    # process group must not kill a run under it first.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _log_to(os.environ.get("LLMWB_READER_LOG"))
    control = _Control(inbound)
    if control.jobs.empty():
        try:
            _warm_up(control)
        except Exception:  # noqa: BLE001 - a run will meet the same trouble and report it
            log.exception("reader process: warm-up failed")
    store_at = _stores()
    while (job := control.jobs.get()) is not None:
        try:
            _run_one(job, control, outbound, store_at)
        except (BrokenPipeError, OSError):
            break  # the app is gone
    sys.exit(0)


if __name__ == "__main__":
    main()
