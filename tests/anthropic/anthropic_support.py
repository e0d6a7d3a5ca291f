"""Helpers the Anthropic tests import (conftest.py holds only fixtures: its module
name is shared with every other test directory's conftest)."""

from __future__ import annotations

from pathlib import Path

# Copies of shared/fixtures/anthropic-sdk (streams recorded from the live API), kept
# with the tests so they run wherever the repository is checked out.
FIXTURES = Path(__file__).parent / "recorded"


def scripted(name: str, **fields):
    """A scenario from a dict, served without delays unless `timing` is given."""
    from core.simulator.scenario import scenario_from_dict

    return scenario_from_dict({"name": name, "api": "anthropic", "timing": {"first_token_ms": 0, "gap_ms": 0}, **fields})


def builtin_without_delays(name: str):
    from core.simulator.scenario import Timing, builtin_scenarios

    scenario = builtin_scenarios()[name]
    scenario.timing = Timing(first_token_ms=0, gap_ms=0)
    return scenario
