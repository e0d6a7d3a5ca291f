"""Fixtures for the compare tests: simulator model configs in a temp store."""

from __future__ import annotations

import pytest
from compare_support import SIM_MODELS, sim_config

from core.store import Store


@pytest.fixture
def sim_store(store: Store) -> Store:
    for name in SIM_MODELS:
        store.save_config(sim_config(name, price_input=1.0, price_output=2.0))
    return store
