"""The reader processes' side (core.readerproc is the app's).

`python -m core.readerchild` is the forker: a single-threaded process that imports
what a run needs once (the runner, the store, the OpenAI SDK, the transport, a TLS
context), then forks a worker whenever the app asks (the app sends it one end of a
socket pair). A worker so starts in milliseconds with all of that loaded, and a fork
of a process that never started a thread is safe.

A worker runs the app's runs, one at a time, exactly as the CLI does
(core.runner.start_run: the exchange on an I/O thread, stamped where the bytes arrive,
checkpointed and saved to the same SQLite file), and sends the events back in pickled
batches. Its interpreter lock is its own: the app drawing, collecting garbage or being
descheduled holding its lock delays when the events are seen, never the stamps.

Worker protocol (multiprocessing.connection framing, pickled tuples):
  app → worker   ("run", job dict) · ("cancel", (run_id, reason or None)) · end of file: finish and exit
  worker → app   ("events", [Event, …], live figures, t0) · ("done", run_id) ·
                 ("news", "wait" | "save_failed", …): the store's word for the user
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import queue
import signal
import socket
import struct
import threading
from multiprocessing.connection import Connection
from typing import Any

from core.collector import paused_for_start_up

log = logging.getLogger("llmwb")

# Events per message: pickling holds this process's lock, and the run's reads wait
# for it; a few thousand events pickle in a millisecond or two.
MAX_BATCH = 2000
# At most one message per this long while events keep coming: a flat-out stream sent a
# message per chunk (470-870 a second each), and in the app every one wakes a thread that
# takes the interpreter lock from the UI thread to unpickle it. The app draws at 15 Hz at
# most and the events carry their stamps, so holding them this long changes no figure.
SEND_INTERVAL_S = 0.02
FORKER_FD_ENV = "LLMWB_READER_FD"  # the forker's end of its socket to the app
LOG_ENV = "LLMWB_READER_LOG"  # the app's log file, if it has one
APP_GONE = "the app ended mid-run; its reader process saved what streamed"
EXIT_AFTER_EOF_S = 30.0  # the app is gone: a run still saving gets this long, then the process ends


class _Control:
    """Reads the app's messages on a thread of its own, so a cancel lands mid-run."""

    def __init__(self, inbound: Connection) -> None:
        self.inbound = inbound
        self.jobs: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.lock = threading.Lock()
        self.current: Any = None  # the RunHandle streaming now
        self.cancelled: dict[str, str | None] = {}  # run id -> why
        # Runs cut short only because the app went away: the app's own cancel (ctrl+q
        # with its reason, the user's ctrl+g) arrives before its end and keeps its reason.
        self.orphaned: set[str] = set()
        self.app_gone = False
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
                self.cancel(*payload)
        # The app is gone (or done with us): stop the run going, let it save, then exit.
        self.app_left()
        self.jobs.put(None)
        timer = threading.Timer(EXIT_AFTER_EOF_S, os._exit, args=(1,))
        timer.daemon = True
        timer.start()

    def app_left(self) -> None:
        """Cancel the run going, if the app had not; it is saved saying the app ended."""
        with self.lock:
            self.app_gone = True
            handle = self.current
            if handle is not None and handle.run_id not in self.cancelled and not handle.finished:
                self.orphaned.add(handle.run_id)
        if handle is not None:
            self.cancel(handle.run_id)

    def cancel(self, run_id: str, reason: str | None = None) -> None:
        with self.lock:
            self.cancelled[run_id] = self.cancelled.get(run_id) or reason
            handle = self.current
        if handle is not None and handle.run_id == run_id:
            handle.cancel(reason)

    def began(self, handle: Any) -> None:
        with self.lock:
            self.current = handle
            cancelled = handle.run_id in self.cancelled
            reason = self.cancelled.get(handle.run_id)
        if cancelled:
            handle.cancel(reason)

    def ended(self) -> None:
        with self.lock:
            self.current = None


def _preload() -> None:
    """What the first run would otherwise import before it sends (seconds of CPU on a
    loaded 2-core machine), without starting a thread: the forker must stay forkable."""
    import core.runner  # noqa: F401
    import core.simulator.embedded  # noqa: F401
    import core.store.db  # noqa: F401  (SQLAlchemy: core.store alone loads it lazily)
    from core.providers import http
    from core.providers.registry import adapter_for

    adapter_for("openai")
    http._import_all(("openai", "openai.resources.chat", *http._TRANSPORT_MODULES))  # most configs, the simulator too
    if not http._shared_tls:
        http._shared_tls.append(http._tls_context())
    # Stamps on for as long as the app runs (the workers inherit the socket that asks).
    from core.providers.netstamp import keep_stamping_on

    keep_stamping_on()


def _start_simulator() -> None:
    from core.simulator.embedded import embedded_root_url

    embedded_root_url()  # the default model's simulator, here: beside the reader, not the UI


_sending = threading.Lock()  # events go from the main thread, the store's news from its saving threads


def _send(outbound: Connection, message: tuple[Any, ...]) -> None:
    payload = pickle.dumps(message, -1)
    with _sending:
        outbound.send_bytes(payload)


def _tell(outbound: Connection, message: tuple[Any, ...]) -> None:
    try:
        _send(outbound, message)
    except OSError:
        pass  # the app is gone: nobody to tell


def _stores(outbound: Connection) -> Any:
    """The store at a path, opened once; what it has to tell a user (a save waiting on a
    lock, a save given up and kept in unsaved/) goes to the app, which shows it."""
    from core.store import Store

    opened: dict[str, Store] = {}

    def store_at(path: str | None) -> Store | None:
        if path is None:
            return None
        if path not in opened:
            store = opened[path] = Store(path)
            store.on_wait = lambda message: _tell(outbound, ("news", "wait", message))
            store.on_save_failed = lambda run_id, message: _tell(outbound, ("news", "save_failed", run_id, message))
        return opened[path]

    return store_at


async def _forward(handle: Any, outbound: Connection) -> None:
    sent_at: float | None = None
    async for batch in handle.batches():
        if sent_at is not None and (wait := sent_at + SEND_INTERVAL_S - _clock()) > 0:
            await asyncio.sleep(wait)  # what arrives meanwhile goes with it: the stamps are taken
            batch += handle.drain()
        sent_at = _clock()
        for start in range(0, len(batch), MAX_BATCH):
            live = handle.live()
            t0 = _clock() - live["elapsed_ms"] / 1000.0
            _send(outbound, ("events", batch[start : start + MAX_BATCH], live, t0))
    await handle.wait()
    _send(outbound, ("done", handle.run_id))


def _clock() -> float:
    from core.metrics import clock

    return clock()


def _run_one(job: dict[str, Any], control: _Control, outbound: Connection, store_at: Any) -> None:
    from core.redact import register_key_env
    from core.runner import RunOptions, start_run
    from core.store.models import ModelConfig
    from core.store.owner import adopt_owner

    _take_environ(job["environ"])
    register_key_env(job["key_envs"])
    adopt_owner(*job["owner"])  # the row belongs to the app: its SIGTERM handling finds it
    options = RunOptions(store=store_at(job["store"]), **job["options"])
    handle = start_run(ModelConfig(**job["config"]), job["request"], options)
    control.began(handle)
    try:
        asyncio.run(_forward(handle, outbound))
    except OSError:  # a send broke: the app is gone (its socket's end may not have been read yet)
        control.app_left()
        raise
    finally:
        control.ended()
        # The app gone (its socket ended, or broke under a send): the run was cancelled;
        # this process ends only once it is saved, saying why.
        if control.app_gone:
            handle.wait_blocking(EXIT_AFTER_EOF_S)
            if options.store is not None and handle.run_id in control.orphaned:
                options.store.note_cancel_reason(handle.run_id, APP_GONE)


def _take_environ(environ: dict[str, str]) -> None:
    """The app's environment as it is now: this worker may have started long before."""
    from core.simulator.embedded import SCENARIO_DIR_ENV, shutdown_embedded

    if environ == os.environ:
        return
    scenarios_changed = environ.get(SCENARIO_DIR_ENV) != os.environ.get(SCENARIO_DIR_ENV)
    os.environ.clear()
    os.environ.update(environ)
    if scenarios_changed:
        shutdown_embedded()  # started again, on the app's scenario files, when a run needs it


def _log_to(path: str | None) -> None:
    if not path:
        return
    from core.redact import redact

    class _Redacted(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:  # keys never reach the file, as in the app's log
            return redact(super().format(record), rescan=False)

    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(_Redacted("%(asctime)s %(levelname)s reader[%(process)d] %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)


def _worker(fd: int) -> None:
    connection = Connection(fd)
    control = _Control(connection)
    if control.jobs.empty():
        try:
            _start_simulator()
        except Exception:  # noqa: BLE001 - a run on it will meet the same trouble and report it
            log.exception("reader process: could not start the simulator")
    store_at = _stores(connection)
    while (job := control.jobs.get()) is not None:
        try:
            _run_one(job, control, connection, store_at)
        except OSError:
            break  # the app is gone


def _serve_forks(requests: socket.socket) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # workers are reaped by the kernel
    while True:
        try:
            message, fds, _flags, _address = socket.recv_fds(requests, 16, 1)
        except OSError:
            return
        if not message:
            return  # the app is gone: workers end on their own sockets
        if not fds:
            continue
        pid = os.fork()
        if pid == 0:
            requests.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            try:
                _worker(fds[0])
            finally:
                os._exit(0)  # never the forker's exit path
        os.close(fds[0])
        requests.sendall(struct.pack("!q", pid))


def main() -> None:
    requests = socket.socket(fileno=int(os.environ.pop(FORKER_FD_ENV)))
    # The app ends its runs on ctrl+c itself (cancel, save); a SIGINT sent to a whole
    # process group must not kill a run under it first.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _log_to(os.environ.get(LOG_ENV))
    with paused_for_start_up():  # what the workers inherit is frozen: their collections never walk it
        try:
            _preload()
        except Exception:  # noqa: BLE001 - a run will meet the same trouble and report it
            log.exception("reader forker: preloading failed")
    if threading.active_count() != 1:
        log.warning("reader forker: %d threads after preloading; forks may inherit a held lock", threading.active_count())
    _serve_forks(requests)


if __name__ == "__main__":
    main()
