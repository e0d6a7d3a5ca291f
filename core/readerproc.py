"""The app's runs, each streamed by a reader process of its own (core.readerchild).

A thread of the app's process is not enough to take a frame's stamp on time: it
shares the interpreter lock with the thread that draws, and a render pass, a garbage
collection or the UI thread being descheduled while holding the lock all made stamps
late by tens to hundreds of ms (the README's design notes have the figures). In a
process of its own the run is read, stamped, checkpointed and saved exactly as the
CLI does it; its events come back over a socket in pickled batches, and are pushed
into the same RunHandle a thread run has, so the screens cannot tell the difference.

Workers are forked by the forker, `python -m core.readerchild`: spawned once (never a
fork of this threaded process), it preloads what a run needs and forks a worker in
milliseconds. The forker and its workers live in a session of their own (a closed
terminal's SIGHUP reaches the app, which ends the runs and has them saved). One spare
worker waits ready, so ctrl+r never waits for one; a worker whose run is over waits
for the next. A worker ends when its socket does: at exit, and if the app dies.

A worker that dies mid-run (killed, crashed) is noticed at once (its socket ends):
the run is saved with what streamed — the events that reached the app, or the worker's
last checkpoint if that holds more — and ends with a Failed event saying so.
"""

from __future__ import annotations

import atexit
import logging
import os
import pickle
import socket
import struct
import subprocess
import sys
import threading
from dataclasses import replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from core.events import Event, Failed, Phase, ReasoningDelta, RefusalDelta, TextDelta, ToolCallDelta, WireFrame
from core.handle import RunHandle
from core.metrics import MetricsRecorder, clock
from core.providers.base import INTERRUPTED
from core.readerchild import FORKER_FD_ENV, LOG_ENV
from core.redact import registered_key_envs
from core.request import ChatRequest
from core.response import ResponseBuilder
from core.runner import RunOptions, prices_of, prompt_text
from core.store.models import ModelConfig, Run, new_run_id, utcnow
from core.store.owner import current_owner

log = logging.getLogger("llmwb")

# "thread" runs the app's runs on I/O threads of its own process instead (core.runner.start_run),
# for comparing the two (bench/tui_truth.py) or where processes cannot be started.
READER_ENV = "LLMWB_READER"
SPARES = 1  # started ahead, warm, waiting for a run
MAX_IDLE = 2  # workers kept after their run, for the next ones
_PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)


class _Forker:
    """The forker process (`python -m core.readerchild`): started once, it forks workers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._requests: socket.socket | None = None

    def _start(self) -> None:
        ours, theirs = socket.socketpair()
        env = {**os.environ, FORKER_FD_ENV: str(theirs.fileno())}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (_PACKAGE_ROOT, os.environ.get("PYTHONPATH"))))
        log_path = _log_path()
        if log_path:
            env[LOG_ENV] = log_path
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "core.readerchild"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=_stderr(log_path), pass_fds=(theirs.fileno(),), start_new_session=True, env=env,
            )  # fmt: skip
        finally:
            theirs.close()
        self._requests = ours

    def start(self) -> None:
        with self._lock:
            if self._requests is None:
                self._start()

    def fork(self) -> tuple[int, int]:
        """A new worker: (its pid, the app's end of its socket). Waits for the forker to
        have preloaded (only the first time: seconds, on a loaded machine)."""
        with self._lock:
            for attempt in (1, 2):
                if self._requests is None or (self._process is not None and self._process.poll() is not None):
                    self._start()
                assert self._requests is not None
                ours, theirs = socket.socketpair()
                try:
                    socket.send_fds(self._requests, [b"f"], [theirs.fileno()])
                    pid = struct.unpack("!q", _receive_exactly(self._requests, 8))[0]
                    return pid, ours.detach()
                except OSError:
                    ours.close()
                    self._requests.close()
                    self._requests = None  # it died: a new one, once
                    if attempt == 2:
                        raise
                finally:
                    theirs.close()
        raise AssertionError("unreachable")

    def close(self) -> None:
        with self._lock:
            if self._requests is not None:
                self._requests.close()  # the forker exits; its workers end on their own sockets
                self._requests = None


def _receive_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        part = sock.recv(size - len(data))
        if not part:
            raise ConnectionResetError("the reader forker ended")
        data += part
    return data


class _Worker:
    def __init__(self, pid: int, fd: int) -> None:
        self.pid = pid
        self._fd = fd
        self._connection = Connection(fd)
        self._send_lock = threading.Lock()
        self.handle: ReaderRunHandle | None = None
        self.gone = False
        self.ended = threading.Event()  # its socket ended: the worker exited (or closed it, dying)
        threading.Thread(target=self._read, name=f"llmwb-reader-{pid}", daemon=True).start()

    def send(self, message: tuple[str, Any]) -> bool:
        with self._send_lock:
            if self.gone:
                return False
            try:
                self._connection.send(message)
            except OSError:  # the worker is gone, or told to end: its socket's end says so
                return False
        return True

    def close(self) -> None:
        """End the worker: it sees the end of its socket, finishes (and saves) a run still
        going, and exits. Only writes are shut: the thread reading it still owns the fd."""
        with self._send_lock:
            if self.gone:
                return
            sock = socket.socket(fileno=self._fd)
            try:
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            finally:
                sock.detach()

    def _read(self) -> None:
        receive, loads = self._connection.recv_bytes, pickle.loads
        while True:
            try:
                message = loads(receive())
            except (EOFError, OSError):
                break
            handle = self.handle
            if handle is None:
                continue
            if message[0] == "events":
                handle.receive(message[1], message[2], message[3])
            else:  # ("done", run_id): saved
                self.handle = None
                handle._close()
                _pool.release(self)
        with self._send_lock:
            self.gone = True
            self._connection.close()
        handle, self.handle = self.handle, None
        if handle is not None:
            handle.reader_died(f"the reader process (pid {self.pid}) ended mid-run; what streamed before it is kept")
        self.ended.set()


def _log_path() -> str | None:
    for logger in (log, logging.getLogger()):
        for handler in logger.handlers:
            path = getattr(handler, "baseFilename", None)
            if path:
                return str(path)
    return None


def _stderr(log_path: str | None) -> Any:
    """A crash's traceback goes to the log file: the terminal belongs to the app."""
    if log_path:
        try:
            return open(log_path, "ab")  # noqa: SIM115 - handed to the child; ours closes with GC
        except OSError:
            pass
    return subprocess.DEVNULL


class _Pool:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._forker = _Forker()
        self._idle: list[_Worker] = []
        self._starting = 0
        self._closed = False
        self._everyone: list[_Worker] = []

    def take_idle(self) -> _Worker | None:
        """A worker waiting ready, if there is one; never waits. Spares are topped up."""
        with self._lock:
            worker = None
            while self._idle and worker is None:
                candidate = self._idle.pop()
                if not candidate.gone:
                    worker = candidate
        self.top_up()
        return worker

    def fork(self) -> _Worker:
        """A new worker (waits for the forker's preloading the first time)."""
        worker = _Worker(*self._forker.fork())
        with self._lock:
            self._everyone = [w for w in self._everyone if not w.gone] + [worker]
            closed = self._closed
        if closed:
            worker.close()
        return worker

    def top_up(self) -> None:
        """Fork spares in the background until SPARES wait ready."""
        with self._lock:
            wanted = SPARES - len(self._idle) - self._starting
            if self._closed or wanted <= 0:
                return
            self._starting += wanted
        for _ in range(wanted):
            threading.Thread(target=self._start_spare, name="llmwb-reader-spare", daemon=True).start()

    def _start_spare(self) -> None:
        try:
            worker = self.fork()
        except OSError:
            log.exception("could not start a reader process")
            with self._lock:
                self._starting -= 1
            return
        with self._lock:
            self._starting -= 1
            keep = not self._closed
            if keep:
                self._idle.append(worker)
        if not keep:
            worker.close()

    def release(self, worker: _Worker) -> None:
        with self._lock:
            keep = not self._closed and len(self._idle) < MAX_IDLE
            if keep:
                self._idle.append(worker)
        if not keep:
            worker.close()

    def close(self) -> None:
        """Every socket shut: idle workers exit at once, busy ones once their run is saved,
        the forker at once."""
        with self._lock:
            self._closed = True
            everyone, self._idle = self._everyone, []
        for worker in everyone:
            worker.close()
        self._forker.close()


_pool = _Pool()
atexit.register(_pool.close)


def prewarm() -> bool:
    """Start the spare worker now (the app calls this once it is up). False when runs
    stream on threads of this process (LLMWB_READER=thread): then nothing is started."""
    if os.environ.get(READER_ENV) == "thread":
        return False
    threading.Thread(target=_pool.top_up, name="llmwb-reader-prewarm", daemon=True).start()
    return True


class ReaderRunHandle(RunHandle):
    """A RunHandle whose run streams in a reader process."""

    def __init__(self, config: ModelConfig, request: ChatRequest, options: RunOptions) -> None:
        assert options.run_id is not None
        super().__init__(options.run_id, config.name, request.stream, self._live_figures)
        self._config, self._request, self._options = config, request, options
        self._worker: _Worker | None = None
        self._cancel_asked = False
        self._figures: dict[str, Any] | None = None
        self._t0: float | None = None
        self._created_at = clock()
        self._seen: list[Event] = []  # what reached the app, kept for a worker that dies
        self._started = True

    @property
    def reader_pid(self) -> int | None:
        """The worker streaming this run (None until one is assigned)."""
        worker = self._worker
        return worker.pid if worker is not None else None

    def attach(self, worker: _Worker) -> None:
        """Hand the run to `worker` (any thread)."""
        worker.handle = self
        with self._lock:
            self._worker = worker
            cancel = self._cancel_asked
        if not worker.send(("run", self._job())):
            return  # its thread reading the socket ends the run as the worker's death
        if cancel:
            worker.send(("cancel", self.run_id))

    def _job(self) -> dict[str, Any]:
        options = self._options
        return {
            "config": self._config.model_dump(),
            "request": self._request,
            "store": str(options.store.path) if options.store is not None else None,
            "options": {key: value for key, value in vars(options).items() if key != "store"},
            # The environment as this process has it now (a key set since the worker
            # started, a scenario directory), and every name whose value is hidden.
            "environ": dict(os.environ),
            "key_envs": registered_key_envs(),
            "owner": current_owner(),
        }

    def receive(self, events: list[Event], figures: dict[str, Any], t0: float) -> None:
        """A batch from the worker (on the thread reading its socket)."""
        self._seen.extend(events)
        self._figures, self._t0 = figures, t0
        self.push_batch(events)

    def _live_figures(self) -> dict[str, Any]:
        figures, t0 = self._figures, self._t0
        if figures is None or t0 is None:
            return {
                "elapsed_ms": (clock() - self._created_at) * 1000.0, "ttfb_ms": None, "ttft_ms": None,
                "last_delta_ms": None, "chunks": 0, "tokens": 0, "tps": None, "retries": 0, "stream": self.stream,
            }  # fmt: skip
        # Elapsed runs on, from the worker's t0: perf_counter is one clock for every process.
        return {**figures, "elapsed_ms": (clock() - t0) * 1000.0}

    def cancel(self) -> None:
        """The worker cancels the run's task, which closes the connection at once; the
        run is saved as cancelled and ends with a Failed event, as on a thread."""
        if self.finished:
            return
        with self._lock:
            self._cancel_asked = True
            worker = self._worker
        if worker is not None:
            worker.send(("cancel", self.run_id))

    def reader_died(self, message: str) -> None:
        """The worker ended mid-run: save what streamed, with the reason, and end the run."""
        log.error("run %s: %s", self.run_id, message)
        failed = _salvage(self._config, self._request, self._options, self.run_id, self._seen, message)
        self.push_batch([failed])
        self._close()


def start_app_run(config: ModelConfig, request: ChatRequest, options: RunOptions | None = None) -> RunHandle:
    """How the app starts a run: in a reader process, unless LLMWB_READER=thread."""
    if os.environ.get(READER_ENV) == "thread":
        from core.runner import start_run

        return start_run(config, request, options)
    return start_run_in_reader(config, request, options)


def start_run_in_reader(config: ModelConfig, request: ChatRequest, options: RunOptions | None = None) -> RunHandle:
    """`core.runner.start_run`, streamed by a reader process: the same events, stamps and
    saves. Returns at once with the run id known: a waiting spare takes the run now;
    without one, a worker is forked on a thread (the caller's loop never waits for it)."""
    options = options or RunOptions()
    options = replace(options, run_id=options.run_id or new_run_id())
    handle = ReaderRunHandle(config, request, options)
    handle._track()
    worker = _pool.take_idle()
    if worker is not None:
        handle.attach(worker)
    else:
        threading.Thread(target=_fork_for, args=(handle,), name="llmwb-reader-fork", daemon=True).start()
    return handle


def _fork_for(handle: ReaderRunHandle) -> None:
    try:
        worker = _pool.fork()
    except OSError as error:
        log.exception("could not start a reader process")
        handle.reader_died(f"could not start a reader process for the run: {error}")
        return
    handle.attach(worker)


def _salvage(
    config: ModelConfig, request: ChatRequest, options: RunOptions, run_id: str, seen: list[Event], message: str
) -> Failed:
    """The Failed event for a run whose worker died, and its row saved: the response and
    figures rebuilt from the events that arrived (stamped in the worker), the frames
    after those the worker's checkpoints wrote."""
    builder = ResponseBuilder()
    recorder = MetricsRecorder(stream=request.stream)  # t0 = 0: the events carry ms from t0
    frames: list[tuple[float, str]] = []
    http_status = None
    for event in seen:
        if isinstance(event, WireFrame):
            frames.append((event.offset_ms, event.data))
            recorder.last_byte_at = event.offset_ms / 1000.0
            continue
        if isinstance(event, Phase):
            if event.phase == "headers":
                recorder.headers_at, http_status = event.offset_ms / 1000.0, event.http_status
            continue
        if isinstance(event, TextDelta):
            builder.add_text(event.content)
        elif isinstance(event, ReasoningDelta):
            builder.add_reasoning(event.reasoning)
        elif isinstance(event, RefusalDelta):
            builder.add_refusal(event.refusal)
        elif isinstance(event, ToolCallDelta):
            builder.add_tool_delta(event.index, event.id, event.name, event.arguments_delta)
        else:
            continue
        if event.offset_ms is not None:
            recorder.on_delta(event.offset_ms / 1000.0)
            recorder.last_byte_at = max(recorder.last_byte_at or 0.0, event.offset_ms / 1000.0)
    response = builder.snapshot(finish_override="error")
    metrics = recorder.finish(
        usage=None, output_text=builder.output_text(), reasoning_text=builder.reasoning, prices=prices_of(config),
        prompt_text=prompt_text(request) if http_status is not None and http_status < 400 else "",
    )  # fmt: skip
    if options.store is not None:
        response = _save_salvaged(options, config, request, run_id, response, metrics, frames, http_status, message)
    return Failed(
        error=message, error_type=INTERRUPTED, partial_response=response, metrics=metrics,
        http_status=http_status, run_id=run_id,
    )  # fmt: skip


def _save_salvaged(
    options: RunOptions, config: ModelConfig, request: ChatRequest, run_id: str, response: dict[str, Any],
    metrics: dict[str, Any], frames: list[tuple[float, str]], http_status: int | None, message: str,
) -> dict[str, Any]:  # fmt: skip
    """Write the run as failed; returns the response kept (the worker's last checkpoint
    when it holds more than what reached the app)."""
    store = options.store
    try:
        row = store.get_run(run_id)
        if row is not None and row.status != "running":
            return row.response or response  # the worker saved it after all
        if row is None:  # it died before saving the run's start
            row = Run(
                id=run_id, model_config_name=config.name, provider=config.provider, model=config.model,
                stream=request.stream, request=request.to_dict(), group_id=options.group_id,
                parent_run_id=options.parent_run_id,
            )  # fmt: skip
        checkpointed = row.response or {}
        if len(str(checkpointed.get("content") or "")) > len(str(response.get("content") or "")):
            response = {**checkpointed, "finish_reason": "error"}
        saved = len(store.get_frames(run_id))
        row.status, row.error, row.error_type, row.http_status = "error", message, INTERRUPTED, http_status
        row.response, row.metrics, row.finished_at = response, metrics, utcnow()
        store.finish_run(row, frames, saved=saved)
    except Exception:  # a full disk must not lose the Failed event too
        log.exception("run %s: could not save it after its reader process ended", run_id)
    return response
