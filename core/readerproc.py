"""The app's runs, each streamed by a reader process of its own (core.readerchild).

A thread of the app's process is not enough to take a frame's stamp on time: it
shares the interpreter lock with the thread that draws, and a render pass, a garbage
collection or the UI thread being descheduled while holding the lock all made stamps
late by tens to hundreds of ms (the README's design notes have the figures). In a
process of its own the run is read, stamped, checkpointed and saved exactly as the
CLI does it; its events come back over a pipe in pickled batches, and are pushed
into the same RunHandle a thread run has, so the screens cannot tell the difference.

Workers are `python -m core.readerchild` (spawned, never forked from this threaded
process), in a session of their own (a closed terminal's SIGHUP reaches the app,
which ends the runs and has them saved). One spare is kept started and warm, so
ctrl+r does not wait for an interpreter to start; a worker whose run is over waits
for the next one. Closing the pipe ends a worker: at exit, and if the app dies.

A worker that dies mid-run (killed, crashed) is noticed at once (its pipe ends): the
run is saved with what streamed — the events that reached the app, or the worker's
last checkpoint if that holds more — and ends with a Failed event saying so.
"""

from __future__ import annotations

import atexit
import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from core.events import Event, Failed, Phase, ReasoningDelta, RefusalDelta, TextDelta, ToolCallDelta, WireFrame
from core.handle import RunHandle
from core.metrics import MetricsRecorder, clock
from core.providers.base import INTERRUPTED
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


class _Worker:
    def __init__(self) -> None:
        to_child, self._to_child_w = os.pipe()
        self._from_child_r, from_child = os.pipe()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (_PACKAGE_ROOT, os.environ.get("PYTHONPATH"))))}
        log_path = _log_path()
        if log_path:
            env["LLMWB_READER_LOG"] = log_path
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "core.readerchild"], stdin=to_child, stdout=from_child,
                stderr=_stderr(log_path), start_new_session=True, close_fds=True, env=env,
            )  # fmt: skip
        finally:
            os.close(to_child)
            os.close(from_child)
        self._out = Connection(self._to_child_w, readable=False)
        self._in = Connection(self._from_child_r, writable=False)
        self._send_lock = threading.Lock()
        self.handle: ReaderRunHandle | None = None
        self.gone = False
        threading.Thread(target=self._read, name=f"llmwb-reader-{self.process.pid}", daemon=True).start()

    def send(self, message: tuple[str, Any]) -> bool:
        try:
            with self._send_lock:
                self._out.send(message)
        except (OSError, ValueError):  # the worker is gone, or closed: its pipe's end says so
            return False
        return True

    def close(self) -> None:
        """End the worker: it sees the end of its pipe, finishes (and saves) a run still
        going, and exits."""
        with self._send_lock:
            if not self._out.closed:
                self._out.close()

    def _read(self) -> None:
        receive, loads = self._in.recv_bytes, pickle.loads
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
        self.gone = True
        self._in.close()
        handle, self.handle = self.handle, None
        code = _exit_code(self.process)
        if handle is not None:
            handle.reader_died(_describe_exit(code))
        self.close()


def _exit_code(process: subprocess.Popen[bytes]) -> int | None:
    try:
        return process.wait(timeout=5)
    except subprocess.TimeoutExpired:  # its pipe closed, yet it lives on: no use to anyone
        process.kill()
        return process.wait()


def _describe_exit(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited (status {code})"


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
        self._idle: list[_Worker] = []
        self._starting = 0
        self._closed = False
        self._everyone: list[_Worker] = []

    def take(self) -> _Worker:
        with self._lock:
            worker = None
            while self._idle and worker is None:
                candidate = self._idle.pop()
                if not candidate.gone and candidate.process.poll() is None:
                    worker = candidate
        if worker is None:
            worker = self._spawn()
        self.top_up()
        return worker

    def _spawn(self) -> _Worker:
        worker = _Worker()
        with self._lock:
            self._everyone = [w for w in self._everyone if not w.gone] + [worker]
        return worker

    def top_up(self) -> None:
        """Start spares in the background until SPARES wait ready."""
        with self._lock:
            wanted = SPARES - len(self._idle) - self._starting
            if self._closed or wanted <= 0:
                return
            self._starting += wanted
        for _ in range(wanted):
            threading.Thread(target=self._start_spare, name="llmwb-reader-spare", daemon=True).start()

    def _start_spare(self) -> None:
        try:
            worker = self._spawn()
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
        """Every worker's pipe closed: idle ones exit at once, busy ones once their run is saved."""
        with self._lock:
            self._closed = True
            everyone, self._idle = self._everyone, []
        for worker in everyone:
            worker.close()


_pool = _Pool()
atexit.register(_pool.close)


def prewarm() -> bool:
    """Start the spare worker now (the app calls this once it is up). False when runs
    stream on threads of this process (LLMWB_READER=thread): then nothing is started."""
    if os.environ.get(READER_ENV) == "thread":
        return False
    _pool.top_up()
    return True


class ReaderRunHandle(RunHandle):
    """A RunHandle whose run streams in a reader process."""

    def __init__(self, config: ModelConfig, request: ChatRequest, options: RunOptions, worker: _Worker) -> None:
        super().__init__(options.run_id or new_run_id(), config.name, request.stream, self._live_figures)
        self._config, self._request, self._options = config, request, options
        self._worker = worker
        self._figures: dict[str, Any] | None = None
        self._t0: float | None = None
        self._created_at = clock()
        self._seen: list[Event] = []  # what reached the app, kept for a worker that dies
        self._started = True

    def receive(self, events: list[Event], figures: dict[str, Any], t0: float) -> None:
        """A batch from the worker (on the thread reading its pipe)."""
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
        if not self.finished:
            self._worker.send(("cancel", self.run_id))

    def reader_died(self, how: str) -> None:
        """The worker ended mid-run: save what streamed, with the reason, and end the run."""
        message = f"the reader process {how} mid-run; what streamed before it is kept"
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
    saves; the handle is returned at once, its run id known."""
    options = options or RunOptions()
    worker = _pool.take()
    options = RunOptions(**{**vars(options), "run_id": options.run_id or new_run_id()})
    handle = ReaderRunHandle(config, request, options, worker)
    worker.handle = handle
    handle._track()
    store = options.store
    job = {
        "config": config.model_dump(),
        "request": request,
        "store": str(store.path) if store is not None else None,
        "options": {key: value for key, value in vars(options).items() if key != "store"},
        # The key as this process has it now, and every name whose value is hidden.
        "env": {config.api_key_env: os.environ[config.api_key_env]}
        if config.api_key_env and config.api_key_env in os.environ
        else {},
        "key_envs": registered_key_envs(),
        "owner": current_owner(),
    }
    if not worker.send(("run", job)):
        handle.reader_died(_describe_exit(_exit_code(worker.process)))
    return handle


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
