"""The app's runs, each streamed by a reader process of its own (core.readerchild).

A thread of the app's process is not enough to take a frame's stamp on time: it
shares the interpreter lock with the thread that draws, and a render pass, a garbage
collection or the UI thread being descheduled while holding the lock all made stamps
late by tens to hundreds of ms (docs/design-notes.md has the figures). In a
process of its own the run is read, stamped, checkpointed and saved exactly as the
CLI does it; its events come back over a socket in pickled batches, and are pushed
into the same RunHandle a thread run has, so the screens cannot tell the difference.

Workers are forked by a preloaded forker process, one spare waits ready, and a worker
whose run is over waits for the next (core.readerpool), so ctrl+r never waits for an
interpreter to start.

A worker that dies mid-run (killed, crashed) is noticed at once (its socket ends):
the run is saved with what streamed — the events that reached the app, or the worker's
last checkpoint if that holds more — and ends with a Failed event saying so.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import replace
from typing import Any

from core.events import Event, Failed, Phase, ReasoningDelta, RefusalDelta, TextDelta, ToolCallDelta, WireFrame
from core.handle import RunHandle
from core.metrics import MetricsRecorder, clock
from core.providers.base import INTERRUPTED
from core.readerpool import Worker, pool
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


def prewarm() -> bool:
    """Start the spare worker now (the app calls this once it is up). False when runs
    stream on threads of this process (LLMWB_READER=thread): then nothing is started."""
    if os.environ.get(READER_ENV) == "thread":
        return False
    threading.Thread(target=pool.top_up, name="llmwb-reader-prewarm", daemon=True).start()
    return True


class ReaderRunHandle(RunHandle):
    """A RunHandle whose run streams in a reader process."""

    def __init__(self, config: ModelConfig, request: ChatRequest, options: RunOptions) -> None:
        assert options.run_id is not None
        super().__init__(options.run_id, config.name, request.stream, self._live_figures)
        self._config, self._request, self._options = config, request, options
        self._worker: Worker | None = None
        self._cancel_asked = False
        self._figures: dict[str, Any] | None = None
        self._t0: float | None = None
        self._created_at = clock()
        self._seen: list[Event] = []  # what reached the app, kept for a worker that dies
        self._handed_over = threading.Event()  # a worker has the run (and any cancel asked), or it is over

    @property
    def reader_pid(self) -> int | None:
        """The worker streaming this run (None until one is assigned)."""
        worker = self._worker
        return worker.pid if worker is not None else None

    def attach(self, worker: Worker) -> None:
        """Hand the run to `worker` (any thread)."""
        worker.handle = self
        with self._lock:
            self._worker = worker
            cancel = self._cancel_asked
        if not worker.send(("run", self._job())):
            # Off the caller's thread: the reading thread may be saving this very run meanwhile.
            threading.Thread(target=self._end_if_its_death_was_missed, args=(worker,), daemon=True).start()
            return
        if cancel:
            worker.send(("cancel", (self.run_id, self.cancel_reason)))
        self._handed_over.set()

    def _end_if_its_death_was_missed(self, worker: Worker) -> None:
        """The worker was gone before the run reached it. Its thread reading the socket ends
        the run as the worker's death, unless that thread had already ended before `attach`
        gave the worker the run (a spare that died just as it was taken): then nothing else
        would, and the run would wait forever. Once the thread is over, whichever of the two
        finds the run still on the worker ends it."""
        worker.ended.wait()  # set just after the thread's last look at the worker's run
        if worker.handle is self:
            worker.handle = None
            self.reader_died(f"the reader process (pid {worker.pid}) ended before the run reached it")

    def wait_safe_without_this_process(self, timeout: float) -> bool:
        """Once its worker has the run and any cancel (sent before the app's end, which
        the worker reads after them), the worker saves the run, with the reason it was
        given, whether or not the app is still there (core.readerchild): the app's exit
        need not wait for the save (at a quit mid-comparison, most of the exit's time)."""
        return self._handed_over.wait(timeout)

    def _close(self) -> None:
        super()._close()
        self._handed_over.set()  # over and saved (its worker may have died, or never started)

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

    def store_news(self, kind: str, *args: str) -> None:
        """What the worker's store had to say, told by the app's store as if it had saved."""
        store = self._options.store
        if store is None:
            return
        if kind == "wait":
            log.warning(args[0])
            if store.on_wait is not None:
                store.on_wait(args[0])
        elif kind == "save_failed":
            run_id, message = args
            store.unsaved[run_id] = message
            if store.on_save_failed is not None:
                store.on_save_failed(run_id, message)

    def _live_figures(self) -> dict[str, Any]:
        figures, t0 = self._figures, self._t0
        if figures is None or t0 is None:
            return {
                "elapsed_ms": (clock() - self._created_at) * 1000.0, "ttfb_ms": None, "ttft_ms": None,
                "last_delta_ms": None, "chunks": 0, "tokens": 0, "tps": None, "retries": 0, "stream": self.stream,
            }  # fmt: skip
        # Elapsed runs on, from the worker's t0: perf_counter is one clock for every process.
        return {**figures, "elapsed_ms": (clock() - t0) * 1000.0}

    def cancel(self, reason: str | None = None) -> None:
        """The worker cancels the run's task, which closes the connection at once; the
        run is saved as cancelled (with `reason`, if given) and ends with a Failed
        event, as on a thread."""
        if self.finished:
            return
        with self._lock:
            self._note_reason(reason)
            self._cancel_asked = True
            worker = self._worker
        if worker is not None:
            worker.send(("cancel", (self.run_id, self.cancel_reason)))

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
    worker = pool.take_idle()
    if worker is not None:
        handle.attach(worker)
    else:
        threading.Thread(target=_fork_for, args=(handle,), name="llmwb-reader-fork", daemon=True).start()
    return handle


def _fork_for(handle: ReaderRunHandle) -> None:
    try:
        worker = pool.fork()
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
                group_position=options.group_position, parent_run_id=options.parent_run_id,
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
