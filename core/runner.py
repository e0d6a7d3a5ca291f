"""The one entry point: `run(config, request)` → async iterator of events.

Timing, metrics, error mapping, cancellation and persistence live here, once,
for every provider. Every run is saved — finished, failed or cancelled — with
whatever arrived before it ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable

from core.events import Event, Failed, Finished, RunStarted, WireFrame
from core.handle import RunHandle
from core.metrics import MetricsRecorder, Prices, clock, live_figures
from core.providers import base
from core.providers.base import Frame, ProviderError, SendLog
from core.providers.phases import PhaseLog, current_phases
from core.providers.registry import UnknownProvider, resolve
from core.redact import register_key_env, scrub_json, scrubber
from core.request import ChatRequest
from core.store.rows import RunRow, new_run_id, utcnow
from core.tail import read_tail

if TYPE_CHECKING:  # a config may be the table class or core.store.peek's ConfigView (`llmwb run`)
    from core.store.models import ModelConfig

log = logging.getLogger("llmwb")


@dataclass
class RunOptions:
    store: Any = None  # core.store.Store, or None to keep nothing
    group_id: str | None = None  # compare runs share one
    group_position: int | None = None  # and each has its column, from 0
    parent_run_id: str | None = None  # a tool-result continuation's first turn
    wire_frames: bool = True  # yield WireFrame events (the wire view wants them; the CLI usually not)
    phases: bool = False  # yield Phase events: connecting, sent, headers, retrying (the UI wants them)
    run_id: str | None = None  # chosen by the caller (core.readerproc knows it before its process starts the run)


# While a run streams, what arrived is written to its row this often, so a process
# killed mid-run (kill -9, power loss) leaves the row holding what streamed.
CHECKPOINT_EVERY_S = 0.25


def resolve_api_key(config: ModelConfig) -> str | None:
    """The key's value from the environment. Raises ProviderError naming the variable."""
    if not config.api_key_env:
        return None
    register_key_env((config.api_key_env,))  # its value is scrubbed from all that is kept or shown
    value = os.environ.get(config.api_key_env)
    if not value:
        raise ProviderError(
            f"API key missing: environment variable {config.api_key_env} is not set", base.MISSING_KEY
        )
    return value


def prices_of(config: ModelConfig) -> Prices:
    return Prices(input=config.price_input, cached_input=config.price_cached_input, output=config.price_output)


def prompt_text(request: ChatRequest) -> str:
    """What the request says, for estimating prompt tokens when usage is missing."""
    return request.system + "".join(message.content for message in request.messages)


class _RunState:
    """What one run has gathered so far; turned into the final or error event."""

    def __init__(self, config: ModelConfig, request: ChatRequest, options: RunOptions) -> None:
        self.config = config
        self.request = request
        self.options = options
        self.recorder = MetricsRecorder(stream=request.stream)
        self.recorder.start()  # re-stamped when the request goes out; this covers early failures
        self.frames: list[tuple[float, str]] = []
        self.decoder: Any = None
        self.http_status: int | None = None  # of the response being read, once headers are in
        self.phases = PhaseLog(None)
        self.saved_frames = 0  # frames already written by checkpoints
        self._checkpointer: asyncio.Task[None] | None = None
        self._writing: tuple[asyncio.Future[bool], int] | None = None  # a checkpoint write, up to frame n
        self._creating: asyncio.Future[None] | None = None  # the write of the run's start
        self.cancel_reason: Callable[[], str | None] = lambda: None  # the handle's, once it is made
        self.row = RunRow(
            id=options.run_id or new_run_id(),
            model_config_name=config.name,
            provider=config.provider,
            model=config.model,
            stream=request.stream,
            request=request.to_dict(),
            group_id=options.group_id,
            group_position=options.group_position,
            parent_run_id=options.parent_run_id,
        )

    def response_snapshot(self, finish_override: str | None = None) -> dict[str, Any]:
        if self.decoder is None:
            return {
                "content": "", "reasoning": "", "tool_calls": [], "finish_reason": finish_override,
                "provider_finish_reason": None, "model": None, "id": None, "usage": None,
            }  # fmt: skip
        return self.decoder.response.snapshot(finish_override=finish_override)

    def apply_send_log(self, send_log: SendLog | None) -> None:
        """Time the run from the adapter's transport stamps, when it has them."""
        if send_log is None or send_log.first_sent_at is None:
            return
        recorder = self.recorder
        recorder.t0 = send_log.first_sent_at
        if send_log.headers_at is not None:
            recorder.headers_at = send_log.headers_at
        recorder.retries = send_log.retries

    def metrics(self) -> dict[str, Any]:
        response = self.decoder.response if self.decoder else None
        return self.recorder.finish(
            usage=response.usage if response else None,
            output_text=response.output_text() if response else "",
            reasoning_text=response.reasoning if response else "",
            usage_note=response.usage_note if response else None,
            # Input is billed once a response starts; a refused request (4xx/5xx, no
            # connection) costs nothing, so it estimates no prompt tokens either.
            prompt_text=prompt_text(self.request) if self.http_status is not None and self.http_status < 400 else "",
            prices=prices_of(self.config),
        )

    async def create(self) -> None:
        """Save the run as `running` before anything is sent, so a crash leaves a trace."""
        store = self.options.store
        if store is None:
            return
        # A cancel here leaves the write going on in its thread: `save` waits for it to
        # land, or the final save (which inserts the row when it finds none) raced it.
        creating = self._creating = asyncio.ensure_future(asyncio.to_thread(store.create_run, self.row))
        try:
            await asyncio.shield(creating)
        except Exception:  # the run goes ahead; `save` inserts the row if this did not
            log.exception("run %s: could not save its start", self.row.id)

    def live(self) -> dict[str, Any]:
        """Figures while the run goes, from the stamps the final metrics are made of.
        Called from the consumer's thread: it only reads."""
        response = self.decoder.response if self.decoder else None
        chars = 0
        if response is not None:
            chars = sum(map(len, response.content_parts)) + sum(map(len, response.reasoning_parts))
            chars += sum(len(part) for call in list(response.tool_calls.values()) for part in call.argument_parts)
        return live_figures(self.recorder, output_chars=chars, retries=self.phases.retries_so_far())

    def start_checkpoints(self) -> None:
        if self.options.store is not None and self.request.stream:
            self._checkpointer = asyncio.create_task(self._checkpoints())

    async def _checkpoints(self) -> None:
        store = self.options.store
        while True:
            await asyncio.sleep(CHECKPOINT_EVERY_S)
            end = len(self.frames)
            if end == self.saved_frames:
                continue
            snapshot = self.response_snapshot()
            new_frames = self.frames[self.saved_frames : end]
            write = asyncio.to_thread(store.checkpoint_run, self.row.id, snapshot, self.saved_frames, new_frames)
            writing = self._writing = (asyncio.ensure_future(write), end)
            try:
                written = await asyncio.shield(writing[0])
            except Exception:  # a busy or full disk: the final save still tries
                log.exception("run %s: could not checkpoint it", self.row.id)
                return
            if not written:  # no `running` row to write to (its start was not saved)
                return
            self.saved_frames = end

    async def _stop_checkpoints(self) -> None:
        """Stop checkpointing and let a write in flight land (its frames then need no rewrite)."""
        task, self._checkpointer = self._checkpointer, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if self._writing is not None:
            # Stopped mid-write: the write goes on in its thread; let it land first.
            future, end = self._writing
            try:
                written = await future
            except Exception:
                return
            if written:
                self.saved_frames = max(self.saved_frames, end)

    async def save(self) -> None:
        store = self.options.store
        if store is None:
            return
        await self._stop_checkpoints()
        if self._creating is not None and not self._creating.done():
            with contextlib.suppress(Exception):  # logged by `create`, or the save inserts the row
                await self._creating
        self.row.finished_at = utcnow()
        if self.phases.request is not None:
            # The request as sent and every attempt's answer, for the wire view of a reopened run.
            self.row.request = {**self.row.request, "http": self.phases.record()}
        try:
            # Thousands of frames make this the slowest step of a run: keep it off the event loop.
            await asyncio.to_thread(store.finish_run, self.row, self.frames, saved=self.saved_frames)
        except Exception:  # a full disk must not turn a finished run into a crash
            log.exception("run %s: could not save it", self.row.id)


def start_run(config: ModelConfig, request: ChatRequest, options: RunOptions | None = None) -> RunHandle:
    """Start `request` on `config` on the I/O loop and return its handle at once (the
    run id is known before anything is sent). The handle delivers RunStarted, phases
    (when asked), deltas and wire frames, then exactly one Finished or Failed — also
    after `handle.cancel()`, which saves the run as cancelled."""
    options = options or RunOptions()
    state = _RunState(config, request, options)
    handle = RunHandle(state.row.id, config.name, request.stream, state.live)
    state.cancel_reason = lambda: handle.cancel_reason
    handle.start(_produce(state, handle.push))
    return handle


async def run(config: ModelConfig, request: ChatRequest, options: RunOptions | None = None) -> AsyncIterator[Event]:
    """Run `request` on `config`: yields RunStarted, deltas (and wire frames), then
    exactly one Finished or Failed. Never raises for provider trouble. The exchange
    runs on the I/O loop (`start_run`); this iterates its handle.

    A consumer that stops early should `aclose()` the iterator (or cancel its task):
    the run is then cancelled, and saved as cancelled before `aclose()` returns."""
    handle = start_run(config, request, options)
    try:
        async for batch in handle.batches():
            for event in batch:
                yield event
    finally:
        if not handle.finished:
            handle.cancel()
        await handle.wait()


async def _produce(state: _RunState, emit: Callable[[Event], None]) -> None:
    """The run, on the I/O loop: every event goes to `emit` as it happens."""
    config, request, options = state.config, state.request, state.options
    log.info(
        "run %s start: config=%s provider=%s model=%s stream=%s",
        state.row.id, config.name, config.provider, config.model, request.stream,
    )  # fmt: skip
    phases = state.phases = PhaseLog(emit if options.phases else None)
    current_phases.set(phases)  # the HTTP client's hooks report to it (this task's context only)
    # Set once the outcome is decided: a cancel that lands during the final save
    # must not turn a finished run into a cancelled one.
    finished = False
    try:
        # Inside the try: a cancel while the start is being saved still ends as "cancelled".
        await state.create()
        emit(RunStarted(run_id=state.row.id, model_config=config.name, stream=request.stream))
        state.start_checkpoints()
        await _exchange(state, emit)
        metrics = state.metrics()
        final = state.response_snapshot()
        state.row.status, state.row.response, state.row.metrics = "ok", final, metrics
        finished = True
        await state.save()
        _log_end(state, metrics)
        emit(Finished(final_response=final, metrics=metrics, run_id=state.row.id))
    except ProviderError as error:
        failure = _failure(state, error)
        finished = True
        await state.save()
        _log_end(state, failure.metrics)
        if error.wire_body is not None and options.wire_frames:
            emit(WireFrame(*_error_frame(state, error.wire_body)))
        emit(failure)
    except Exception as error:  # a bug of ours must not lose the run or crash the caller
        log.exception("run %s failed inside llmwb", state.row.id)
        failure = _failure(state, ProviderError(f"internal error: {type(error).__name__}: {error}", base.INTERNAL))
        finished = True
        await state.save()
        emit(failure)
    finally:
        if not finished:  # cancelled
            reason = state.cancel_reason() or "cancelled by the user"
            _mark(state, "cancelled", reason, base.CANCELLED, state.http_status)
            state.row.response = state.response_snapshot(finish_override="cancelled")
            state.row.metrics = state.metrics()
            _log_end(state, state.row.metrics)
            await _save_through_cancels(state)
            emit(
                Failed(
                    error=state.row.error or "", error_type=base.CANCELLED, partial_response=state.row.response,
                    metrics=state.row.metrics, http_status=state.http_status, run_id=state.row.id,
                    status="cancelled",
                )  # fmt: skip
            )


async def _save_through_cancels(state: _RunState) -> None:
    """Save a cancelled run even if more cancels arrive (the UI and a quitting app may
    both cancel it): the run's task ends only once its row is written, so whoever waits
    for the run to be saved never reads it half-way."""
    saving = asyncio.ensure_future(state.save())
    while not saving.done():
        try:
            await asyncio.shield(saving)
        except asyncio.CancelledError:
            continue


async def _exchange(state: _RunState, emit: Callable[[Event], None]) -> None:
    """The request/response itself; raises ProviderError for anything that goes wrong."""
    try:
        resolved = resolve(state.config)
    except UnknownProvider as error:
        raise ProviderError(str(error), base.BAD_REQUEST) from error
    api_key = resolve_api_key(state.config)
    stream = state.request.stream
    adapter = resolved.adapter
    request_row = {
        **state.request.to_dict(),
        "endpoint": adapter.endpoint(resolved.config),
        "body": adapter.request_body(resolved.config, state.request, stream=stream),
    }
    # A key pasted into a param or the prompt is not kept in the history either.
    state.row.request = scrub_json(request_row, scrubber((state.config.api_key_env,)))  # type: ignore[assignment]
    decoder = state.decoder = adapter.decoder(state.request, stream=stream)
    recorder = state.recorder
    frames = state.frames
    keep_frames = state.options.store is not None
    want_frames = state.options.wire_frames
    log_frames = log.isEnabledFor(logging.DEBUG)
    recorder.start()  # t0 for adapters that do not stamp the send themselves
    async with adapter.open(resolved.config, state.request, api_key, stream=stream) as exchange:
        send_log = getattr(exchange, "send_log", None)
        if send_log is None:
            recorder.on_headers()
            recorder.retries = exchange.retries
        else:
            state.apply_send_log(send_log)
        recorder.request_id = exchange.request_id
        state.http_status = exchange.status_code
        t0 = recorder.t0
        feed = decoder.feed
        on_delta = recorder.on_delta
        # The hot path: one iteration per SSE frame. Nothing here that a frame does not need.
        body = exchange.frames()
        async for frame in body:
            at = frame.at
            recorder.last_byte_at = at
            # The one stamp of this frame, in ms from t0: the wire frame, its deltas and
            # the metrics all read it, so a figure shown live is the figure saved.
            offset_ms = (at - t0) * 1000.0
            if keep_frames:
                frames.append((offset_ms, frame.raw))
            if want_frames:
                emit(WireFrame(offset_ms, frame.raw))
            if log_frames:
                log.debug("run %s frame +%.1fms %s", state.row.id, offset_ms, frame.raw)
            try:
                deltas = feed(frame)
            except ProviderError:  # what a frame said ends the run; the body may go on
                await read_tail(body, lambda tail: _keep_tail_frame(state, tail, emit))
                raise
            if deltas:
                on_delta(at)
                for delta in deltas:
                    delta.offset_ms = offset_ms
                    emit(delta)
        decoder.finish()


def _keep_tail_frame(state: _RunState, frame: Frame, emit: Callable[[Event], None]) -> None:
    offset_ms = (frame.at - state.recorder.t0) * 1000.0
    if state.options.store is not None:
        state.frames.append((offset_ms, frame.raw))
    if state.options.wire_frames:
        emit(WireFrame(offset_ms, frame.raw))


def _error_frame(state: _RunState, body: str) -> tuple[float, str]:
    """An error response's body as a wire frame, at the time its headers came in."""
    recorder = state.recorder
    at = recorder.headers_at if recorder.headers_at is not None else clock()
    return (at - recorder.t0) * 1000.0, body


def _mark(state: _RunState, status: str, error: str, error_type: str, http_status: int | None) -> None:
    state.row.status, state.row.error = status, error
    state.row.error_type, state.row.http_status = error_type, http_status


def _failure(state: _RunState, error: ProviderError) -> Failed:
    state.apply_send_log(error.send_log)
    if error.request_id and not state.recorder.request_id:
        state.recorder.request_id = error.request_id
    # An error inside a body (stream cut, error payload) keeps the status the headers had.
    http_status = error.http_status if error.http_status is not None else state.http_status
    _mark(state, "error", error.message, error.error_type, http_status)
    if error.wire_body is not None and state.options.store is not None:
        state.frames.append(_error_frame(state, error.wire_body))
    partial = state.response_snapshot(finish_override="error")
    metrics = state.metrics()
    state.row.response, state.row.metrics = partial, metrics
    return Failed(
        error=error.message,
        error_type=error.error_type,
        http_status=http_status,
        retry_after=error.retry_after,
        partial_response=partial,
        metrics=metrics,
        run_id=state.row.id,
    )


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}ms"


def _log_end(state: _RunState, metrics: dict[str, Any]) -> None:
    log.info(
        "run %s end: status=%s ttft=%s total=%s tokens=%s+%s=%s chars=%s%s",
        state.row.id, state.row.status, _ms(metrics.get("ttft_ms")), _ms(metrics.get("total_ms")),
        metrics.get("prompt_tokens"), metrics.get("completion_tokens"), metrics.get("total_tokens"),
        metrics.get("output_chars"), f" error={state.row.error}" if state.row.error else "",
    )  # fmt: skip

