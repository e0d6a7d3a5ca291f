"""The I/O loop: one daemon thread with its own asyncio loop, shared by every run of
the process and started on first use.

Every run's HTTP exchange is read — and every frame stamped — here, never on the
loop of whoever consumes the events. A Textual render pass or a slow consumer then
delays what is drawn, never what is measured. A thread rather than a worker
process: the bytes are stamped on a loop that nothing else runs on either way, and
a thread hands events over without pickling them, shares the store and the loaded
SDKs, and costs nothing to start (see the README's design notes).

A daemon, so quitting never waits for it; runs in flight are cancelled by their
owners, and what they streamed is already checkpointed (core.runner).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None


def _serve(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
    asyncio.set_event_loop(loop)
    loop.call_soon(ready.set)
    loop.run_forever()


def io_loop() -> asyncio.AbstractEventLoop:
    """The I/O loop, started if needed (thread-safe)."""
    global _loop, _thread
    loop = _loop
    if loop is not None:
        return loop
    with _lock:
        if _loop is None:
            loop = asyncio.new_event_loop()
            ready = threading.Event()
            thread = threading.Thread(target=_serve, args=(loop, ready), name="llmwb-io", daemon=True)
            thread.start()
            ready.wait()
            _loop, _thread = loop, thread
        return _loop


def on_io_thread() -> bool:
    return _thread is not None and threading.current_thread() is _thread


def submit(coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
    """Run `coro` as a task on the I/O loop; the future resolves when it ends."""
    return asyncio.run_coroutine_threadsafe(coro, io_loop())
