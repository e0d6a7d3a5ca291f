"""A run's I/O thread reads at a real-time priority while its stream is light, where
Linux allows it.

A frame's stamp is the kernel's arrival stamp of the packet that completed it, but the
kernel merges packets left waiting in a socket and keeps the newest one's stamp
(docs/design-notes.md, "Stamped by the kernel"): a reader that waits for a core longer
than the gap between two frames stamps both with the second's arrival. Traced (ftrace, a
paced stream beside a flat-out one on 2 cores): the reader was woken as each packet
arrived, then left runnable for 34 ms while its core ran another login's test run, and
for 118 ms behind a CPU hog and the app's own drawing — other sessions' scheduler groups,
which no nice or grouping of our own processes reaches. A real-time thread runs the
moment it is woken. So the I/O thread takes the lowest round-robin real-time priority
where the process may (root, or an RLIMIT_RTPRIO above 0; elsewhere nothing changes),
and steps back to the normal policy as soon as its stream is busy: a flat-out stream's
reader would otherwise hold a core from the app. Only that thread: the threads
it starts (the store's saves) start at the normal policy (SCHED_RESET_ON_FORK).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

# The thread steps back once its stream is busy: over at least its first BUSY_AFTER_MS of
# content, BUSY_CHUNKS_PER_S chunks or more (a flat-out stream: thousands a second; a paced
# model: 50 at 20 ms gaps, 300 at the fastest hosted models' pace). Or once it has used
# BUSY_SHARE of a core over the last CPU_WINDOW_S, whatever it is doing (a hostile server's
# endless bytes, one enormous frame): long enough that a run's start (the HTTP client made,
# the request built: 35 ms of CPU in a new reader) does not count.
BUSY_CHUNKS_PER_S = 500.0
BUSY_AFTER_MS = 50.0
BUSY_SHARE = 0.5
CPU_WINDOW_S = 0.25
WATCH_EVERY_S = 0.025
_REAL_TIME = getattr(os, "SCHED_RR", None)
_NORMAL = getattr(os, "SCHED_OTHER", None)


class IoPriority:
    """Real-time for the thread that makes it (if allowed) until it is busy."""

    def __init__(self) -> None:
        self.thread_id = threading.get_native_id()
        self.raised = _raise(self.thread_id)

    def watch(self, live: Callable[[], dict[str, Any]]) -> None:
        """On the running loop (the raised thread's): lower once the run is busy. `live`:
        the run's live figures (core.metrics.live_figures)."""
        if not self.raised:
            return
        loop = asyncio.get_running_loop()
        samples = deque([(time.thread_time(), time.monotonic())], maxlen=round(CPU_WINDOW_S / WATCH_EVERY_S) + 1)

        def look() -> None:
            samples.append((time.thread_time(), time.monotonic()))
            (cpu_then, then), (cpu, now) = samples[0], samples[-1]
            long_enough = now - then >= CPU_WINDOW_S
            if streams_flat_out(live()) or (long_enough and cpu - cpu_then >= BUSY_SHARE * (now - then)):
                self.lower()
            else:
                loop.call_later(WATCH_EVERY_S, look)

        loop.call_later(WATCH_EVERY_S, look)

    def lower(self) -> None:
        """Back to the normal policy (always allowed)."""
        if self.raised:
            self.raised = False
            os.sched_setscheduler(self.thread_id, _NORMAL, os.sched_param(0))


def streams_flat_out(live: dict[str, Any]) -> bool:
    if live["ttft_ms"] is None:
        return False
    content_ms = live["elapsed_ms"] - live["ttft_ms"]
    return content_ms >= BUSY_AFTER_MS and live["chunks"] * 1000.0 / content_ms >= BUSY_CHUNKS_PER_S


def _raise(thread_id: int) -> bool:
    if _REAL_TIME is None or _NORMAL is None:  # not Linux
        return False
    policy = _REAL_TIME | getattr(os, "SCHED_RESET_ON_FORK", 0)
    try:
        os.sched_setscheduler(thread_id, policy, os.sched_param(os.sched_get_priority_min(_REAL_TIME)))
    except OSError:  # not allowed: the run reads at the normal priority, as everywhere else
        return False
    return True
