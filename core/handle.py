"""A run going on its I/O loop (core.iothread) or in a reader process (core.readerproc),
seen from any thread.

The runner pushes events here from the I/O loop (or the reader process's events
are pushed here, batch by batch, by the thread that reads its pipe); a consumer takes them in batches,
either awaiting them (`batches()`, `events()`: the CLI, comparisons, tests) or
draining what has arrived without waiting (`drain()`: the UI, on its flush clock).
Either way the consumer's pace changes when events are seen, never their stamps.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from core.events import Event
from core.iopriority import IoPriority
from core.iothread import start_io_loop

_running: set["RunHandle"] = set()  # runs not saved yet, for `settle` at exit


class RunHandle:
    def __init__(self, run_id: str, model_config: str, stream: bool, live: Callable[[], dict[str, Any]]) -> None:
        self.run_id = run_id
        self.model_config = model_config
        self.stream = stream
        self._live = live
        self._lock = threading.Lock()
        self._buffer: list[Event] = []
        self._waiter: tuple[asyncio.AbstractEventLoop, asyncio.Future[None]] | None = None
        self._pushed_last = False  # the runner pushed its last event
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started = False
        self._done: concurrent.futures.Future[None] = concurrent.futures.Future()  # the run is saved
        self.cancel_reason: str | None = None  # saved as the cancelled run's error, when given

    # --- the runner's side (I/O loop) ------------------------------------------------

    def start(self, produce: Coroutine[Any, Any, None]) -> None:
        self._track()
        loop = self._loop = start_io_loop()
        loop.call_soon_threadsafe(self._create_task, loop, produce)

    def _track(self) -> None:
        _running.add(self)
        self._done.add_done_callback(lambda _: _running.discard(self))

    def _create_task(self, loop: asyncio.AbstractEventLoop, produce: Coroutine[Any, Any, None]) -> None:
        self._task = loop.create_task(self._main(produce))

    async def _main(self, produce: Coroutine[Any, Any, None]) -> None:
        self._started = True
        # Real-time where allowed (core.iopriority), before anything is sent: every stamp is
        # taken on this thread, which ends with the run.
        IoPriority().watch(self._live)
        try:
            await produce
        except asyncio.CancelledError:
            pass  # the runner saved the run as cancelled and pushed its last event
        finally:
            self._close()
            asyncio.get_running_loop().stop()  # this run's loop: its thread ends

    def _close(self) -> None:
        """The last event is pushed and the run is saved."""
        with self._lock:
            self._pushed_last = True
            waiter, self._waiter = self._waiter, None
        if waiter is not None:
            _wake(waiter)
        if not self._done.done():
            self._done.set_result(None)

    def push(self, event: Event) -> None:
        with self._lock:
            self._buffer.append(event)
            waiter = self._waiter
            if waiter is not None:
                self._waiter = None
        if waiter is not None:
            _wake(waiter)

    def push_batch(self, events: list[Event]) -> None:
        with self._lock:
            self._buffer.extend(events)
            waiter = self._waiter
            if waiter is not None:
                self._waiter = None
        if waiter is not None:
            _wake(waiter)

    # --- the consumer's side (any thread) ---------------------------------------------

    @property
    def finished(self) -> bool:
        """The run is over and saved (its events may still wait to be drained)."""
        return self._done.done()

    @property
    def all_pushed(self) -> bool:
        """The runner pushed its last event (drain once more and nothing is left)."""
        return self._pushed_last

    @property
    def exhausted(self) -> bool:
        """Over, and every event taken."""
        with self._lock:
            return self._pushed_last and not self._buffer

    def drain(self) -> list[Event]:
        """Every event that arrived since the last call; never waits."""
        with self._lock:
            events, self._buffer = self._buffer, []
        return events

    async def batches(self) -> AsyncIterator[list[Event]]:
        """Events as they arrive, in batches (everything waiting when the consumer looks)."""
        loop = asyncio.get_running_loop()
        while True:
            with self._lock:
                events, self._buffer = self._buffer, []
                if not events:
                    if self._pushed_last:
                        return
                    waiter: asyncio.Future[None] = loop.create_future()
                    self._waiter = (loop, waiter)
            if events:
                yield events
            else:
                await waiter

    async def events(self) -> AsyncIterator[Event]:
        async for batch in self.batches():
            for event in batch:
                yield event

    def live(self) -> dict[str, Any]:
        """Live figures from the core's stamps (core.metrics.live_figures)."""
        return self._live()

    def cancel(self, reason: str | None = None) -> None:
        """Stop the run: its task on the I/O loop is cancelled, which closes the
        connection at once; the run is saved as cancelled and ends with a Failed event.
        `reason` (e.g. the app was quit) is its error, else "cancelled by the user"."""
        self._note_reason(reason)
        assert self._loop is not None
        try:
            self._loop.call_soon_threadsafe(self._cancel_on_loop)
        except RuntimeError:  # the loop is closed: the run is over already
            pass

    def _note_reason(self, reason: str | None) -> None:
        if reason is not None and self.cancel_reason is None:
            self.cancel_reason = reason

    def _cancel_on_loop(self) -> None:
        if self._done.done():
            return
        if not self._started:  # the task's first step is queued: cancel once it has begun
            asyncio.get_running_loop().call_soon(self._cancel_on_loop)
            return
        assert self._task is not None
        self._task.cancel()

    async def wait(self, timeout: float | None = None) -> bool:
        """Wait (at most `timeout` s) until the run is saved; True if it is."""
        try:
            await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(self._done)), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    def wait_blocking(self, timeout: float | None = None) -> bool:
        try:
            self._done.result(timeout)
        except concurrent.futures.TimeoutError:
            return False
        return True

    def wait_safe_without_this_process(self, timeout: float) -> bool:
        """Wait until this process may end without losing the run: here, once it is saved
        (a reader process's run says otherwise: core.readerproc)."""
        return self.wait_blocking(timeout)


def _wake(waiter: tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]) -> None:
    loop, future = waiter
    try:
        loop.call_soon_threadsafe(_resolve, future)
    except RuntimeError:  # the consumer's loop is closed: nobody is waiting any more
        pass


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def settle(timeout: float, reason: str | None = None) -> bool:
    """At exit: cancel every run still going (saved with `reason` as the error, when
    given) and give them `timeout` seconds in all to be saved (what they streamed is
    already checkpointed). True if all were."""
    handles = list(_running)
    for handle in handles:
        handle.cancel(reason)
    deadline = time.monotonic() + timeout
    return all(handle.wait_blocking(max(deadline - time.monotonic(), 0.0)) for handle in handles)


def hand_over(timeout: float) -> bool:
    """At exit, once every run was cancelled (`settle(0.0, reason)`): wait, `timeout`
    seconds in all, until no run needs this process any more (saved, or held by a
    reader process that saves it whether or not this process is there). True if none
    does."""
    deadline = time.monotonic() + timeout
    return all(
        handle.wait_safe_without_this_process(max(deadline - time.monotonic(), 0.0)) for handle in list(_running)
    )
