"""The one entry point: `run(config, request)` → async iterator of events.

Timing, metrics, error mapping, cancellation and persistence live here, once,
for every provider. Every run is saved — finished, failed or cancelled — with
whatever arrived before it ended.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from typing import Any, AsyncIterator

from core.events import Event, Failed, Finished, RunStarted, WireFrame
from core.metrics import MetricsRecorder, Prices
from core.providers import base
from core.providers.base import ProviderError
from core.providers.registry import resolve
from core.request import ChatRequest
from core.store.models import ModelConfig, Run, new_run_id, utcnow

log = logging.getLogger("llmwb")


@dataclass
class RunOptions:
    store: Any = None  # core.store.Store, or None to keep nothing
    group_id: str | None = None  # compare runs share one
    parent_run_id: str | None = None  # a tool-result continuation's first turn
    wire_frames: bool = True  # yield WireFrame events (the wire view wants them; the CLI usually not)


def resolve_api_key(config: ModelConfig) -> str | None:
    """The key's value from the environment. Raises ProviderError naming the variable."""
    if not config.api_key_env:
        return None
    value = os.environ.get(config.api_key_env)
    if not value:
        raise ProviderError(
            f"API key missing: environment variable {config.api_key_env} is not set", base.MISSING_KEY
        )
    return value


def prices_of(config: ModelConfig) -> Prices:
    return Prices(input=config.price_input, cached_input=config.price_cached_input, output=config.price_output)


class _RunState:
    """What one run has gathered so far; turned into the final or error event."""

    def __init__(self, config: ModelConfig, request: ChatRequest, options: RunOptions) -> None:
        self.config = config
        self.request = request
        self.options = options
        self.recorder = MetricsRecorder(stream=request.stream)
        self.recorder.start()  # restarted just before the request goes out; this covers early failures
        self.frames: list[tuple[float, str]] = []
        self.decoder: Any = None
        self.row = Run(
            id=new_run_id(),
            model_config_name=config.name,
            provider=config.provider,
            model=config.model,
            stream=request.stream,
            request=request.to_dict(),
            group_id=options.group_id,
            parent_run_id=options.parent_run_id,
        )

    def response_snapshot(self, finish_override: str | None = None) -> dict[str, Any]:
        if self.decoder is None:
            return {
                "content": "", "reasoning": "", "tool_calls": [], "finish_reason": finish_override,
                "provider_finish_reason": None, "model": None, "id": None, "usage": None,
            }  # fmt: skip
        return self.decoder.response.snapshot(finish_override=finish_override)

    def metrics(self) -> dict[str, Any]:
        response = self.decoder.response if self.decoder else None
        return self.recorder.finish(
            usage=response.usage if response else None,
            output_text=response.output_text() if response else "",
            prices=prices_of(self.config),
        )

    async def save(self) -> None:
        store = self.options.store
        if store is None:
            return
        self.row.finished_at = utcnow()
        # Thousands of frames make this the slowest step of a run: keep it off the event loop.
        await asyncio.to_thread(store.finish_run, self.row, self.frames)


async def run(config: ModelConfig, request: ChatRequest, options: RunOptions | None = None) -> AsyncIterator[Event]:
    """Run `request` on `config`: yields RunStarted, deltas (and wire frames), then
    exactly one Finished or Failed. Never raises for provider trouble; a cancelled
    consumer (task cancel or `aclose()`) gets the run saved as cancelled."""
    options = options or RunOptions()
    state = _RunState(config, request, options)
    if options.store is not None:
        await asyncio.to_thread(options.store.create_run, state.row)
    log.info(
        "run %s start: config=%s provider=%s model=%s stream=%s",
        state.row.id, config.name, config.provider, config.model, request.stream,
    )  # fmt: skip
    yield RunStarted(run_id=state.row.id, model_config=config.name, stream=request.stream)

    finished = False
    try:
        async for event in _exchange(state):
            yield event
        metrics = state.metrics()
        final = state.response_snapshot()
        state.row.status, state.row.response, state.row.metrics = "ok", final, metrics
        await state.save()
        _log_end(state, metrics)
        finished = True
        yield Finished(final_response=final, metrics=metrics, run_id=state.row.id)
    except ProviderError as error:
        failure = _failure(state, error)
        await state.save()
        _log_end(state, failure.metrics)
        finished = True
        yield failure
    except Exception as error:  # a bug of ours must not lose the run or crash the caller
        log.exception("run %s failed inside llmwb", state.row.id)
        failure = _failure(state, ProviderError(f"internal error: {type(error).__name__}: {error}", base.INTERNAL))
        await state.save()
        finished = True
        yield failure
    finally:
        if not finished:  # cancelled, or the consumer stopped iterating
            _mark(state, "cancelled", "cancelled by the user", base.CANCELLED, None)
            state.row.response = state.response_snapshot(finish_override="cancelled")
            state.row.metrics = state.metrics()
            _log_end(state, state.row.metrics)
            await asyncio.shield(state.save())


async def _exchange(state: _RunState) -> AsyncIterator[Event]:
    """The request/response itself; raises ProviderError for anything that goes wrong."""
    resolved = resolve(state.config)
    api_key = resolve_api_key(state.config)
    stream = state.request.stream
    state.row.request = {
        **state.request.to_dict(),
        "endpoint": resolved.adapter.endpoint(resolved.config),
        "body": resolved.adapter.request_body(resolved.config, state.request, stream=stream),
    }
    decoder = state.decoder = resolved.adapter.decoder(state.request, stream=stream)
    recorder = state.recorder
    frames = state.frames
    want_frames = state.options.wire_frames
    log_frames = log.isEnabledFor(logging.DEBUG)
    recorder.start()
    async with resolved.adapter.open(resolved.config, state.request, api_key, stream=stream) as exchange:
        recorder.on_headers()
        recorder.request_id = exchange.request_id
        recorder.retries = exchange.retries
        t0 = recorder.t0
        async for frame in exchange.frames():
            offset_ms = (frame.at - t0) * 1000.0
            frames.append((offset_ms, frame.raw))
            recorder.last_byte_at = frame.at
            if log_frames:
                log.debug("run %s frame +%.1fms %s", state.row.id, offset_ms, frame.raw)
            if want_frames:
                yield WireFrame(offset_ms, frame.raw)
            deltas = decoder.feed(frame)
            if deltas:
                recorder.on_delta(frame.at)
                for delta in deltas:
                    yield delta
        decoder.finish()


def _mark(state: _RunState, status: str, error: str, error_type: str, http_status: int | None) -> None:
    state.row.status, state.row.error = status, error
    state.row.error_type, state.row.http_status = error_type, http_status


def _failure(state: _RunState, error: ProviderError) -> Failed:
    _mark(state, "error", error.message, error.error_type, error.http_status)
    partial = state.response_snapshot(finish_override="error")
    metrics = state.metrics()
    state.row.response, state.row.metrics = partial, metrics
    return Failed(
        error=error.message,
        error_type=error.error_type,
        http_status=error.http_status,
        retry_after=error.retry_after,
        partial_response=partial,
        metrics=metrics,
        run_id=state.row.id,
    )


def _log_end(state: _RunState, metrics: dict[str, Any]) -> None:
    log.info(
        "run %s end: status=%s ttft=%sms total=%sms tokens=%s+%s=%s chars=%s%s",
        state.row.id, state.row.status, metrics.get("ttft_ms"), metrics.get("total_ms"),
        metrics.get("prompt_tokens"), metrics.get("completion_tokens"), metrics.get("total_tokens"),
        metrics.get("output_chars"), f" error={state.row.error}" if state.row.error else "",
    )  # fmt: skip

