"""Fixtures for the tool tests: a temp LLMWB_HOME, the simulator, a run collector."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def llmwb_home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("LLMWB_HOME", str(tmp_path))
    monkeypatch.setenv("TEST_ANTHROPIC_KEY", "sk-ant-test")
    return tmp_path


@pytest.fixture
def store():
    from core.store import Store

    return Store()


@pytest.fixture
async def simulator():
    from core.simulator.scenario import Timing, builtin_scenarios
    from core.simulator.server import SimulatorServer

    scenarios = builtin_scenarios()
    for scenario in scenarios.values():
        scenario.timing = Timing(first_token_ms=0, gap_ms=0)  # the round trips test content, not timing
    async with SimulatorServer(scenarios) as server:
        yield server


async def run_to_end(config, request, **options):
    from core.runner import RunOptions, run

    events = [event async for event in run(config, request, RunOptions(wire_frames=False, **options))]
    return events[-1]


@pytest.fixture
def collect():
    return run_to_end
