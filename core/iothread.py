"""I/O loops: each run's HTTP exchange runs on a daemon thread with an asyncio loop
of its own, started with the run and ended with it.

Every run's bytes are read — and every frame stamped — there, never on the loop of
whoever consumes the events: a Textual render pass or a slow consumer delays what
is drawn, never what is measured. One loop per run rather than one shared by all:
on a shared loop a flat-out stream (21,000 chunks as fast as the socket gives them)
held a paced stream's frames back by 80–90 ms; on loops of their own the two only
share the interpreter lock, which changes hands every few ms. A thread rather than
a worker process: events reach the consumer without being pickled, and the store
and the loaded SDKs are shared (see docs/design-notes.md for the figures).

Daemon threads, so quitting never waits for them; runs in flight are cancelled by
their owners, and what they streamed is already checkpointed (core.runner).
"""

from __future__ import annotations

import asyncio
import threading
from itertools import count

_numbers = count(1)


def _serve(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
        # The run's saves went through the loop's default executor: let them finish.
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()


def start_io_loop() -> asyncio.AbstractEventLoop:
    """A new loop running on a new daemon thread; stop it (`loop.stop()`, from the
    loop itself or `call_soon_threadsafe`) when its work is done. Callbacks may be
    scheduled at once: they run as soon as the thread starts."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=_serve, args=(loop,), name=f"llmwb-io-{next(_numbers)}", daemon=True)
    thread.start()
    return loop
