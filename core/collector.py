"""The cyclic collector around a long-lived process's start-up (`llmwb serve`, `llmwb web`,
the reader forker)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_for_start_up() -> Iterator[None]:
    """Start-up without the cyclic collector, then what it made frozen: importing FastAPI,
    SQLAlchemy, Textual or the SDKs allocates a lot and frees next to nothing, and the young
    generation was collected hundreds of times meanwhile (~0.1 s of a server's ~0.6 s start,
    of the forker's ~0.8 s preload). What start-up made lives as long as the process; frozen,
    no collection walks it again (nor, in the forker, touches the pages its forks share)."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()
