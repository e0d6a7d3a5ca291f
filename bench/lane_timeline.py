"""A pytest plugin for bench/suite_lanes.py: each xdist worker writes when its first test
began and its last one ended, in seconds from the run's start (LANE_TIMELINE_T0), into
LANE_TIMELINE_DIR. What lies before the first test is the worker's start and collection."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

_span: list[float] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):  # type: ignore[no-untyped-def]
    started = time.time()
    yield
    if not _span:
        _span.append(started)
    _span[1:] = [time.time()]


def pytest_unconfigure(config: pytest.Config) -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    directory, t0 = os.environ.get("LANE_TIMELINE_DIR"), os.environ.get("LANE_TIMELINE_T0")
    if worker and directory and t0 and len(_span) == 2:
        first, last = (moment - float(t0) for moment in _span)
        (Path(directory) / f"{worker}.json").write_text(json.dumps([first, last]))
