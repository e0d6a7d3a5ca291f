"""First start seeds the demo models once; a user's deletions stick."""

from __future__ import annotations

from sqlalchemy import text

from core.seed import demo_configs, ensure_seeded
from core.store import Store
from core.store.migrations import LATEST
from core.store.models import ModelConfig

DEMO_NAMES = {c.name for c in demo_configs()}


def test_seeds_once_and_deleted_demos_stay_deleted(home):
    store = Store()
    assert ensure_seeded(store) is True
    configs = {c.name: c for c in store.list_configs()}
    assert set(configs) == DEMO_NAMES
    assert all(c.provider == "simulator" and c.model == c.name and c.base_url is None for c in configs.values())
    assert configs["demo-flaky"].params == {"max_retries": 0}
    assert configs["demo-fast"].price_output > 0

    store.remove_config("echo")
    assert ensure_seeded(Store()) is False
    assert "echo" not in {c.name for c in Store().list_configs()}


def test_an_older_file_with_user_configs_is_upgraded_not_seeded(home):
    store = Store()
    store.save_config(ModelConfig(name="mine", provider="openai", model="gpt-4o-mini"))
    with store.engine.begin() as conn:  # make it look like a schema-1 file from before seeding existed
        conn.execute(text("DROP TABLE meta"))
        conn.execute(text("PRAGMA user_version = 1"))
    store.engine.dispose()

    upgraded = Store()
    with upgraded.engine.connect() as conn:
        assert conn.execute(text("PRAGMA user_version")).scalar() == LATEST
    assert ensure_seeded(upgraded) is False
    assert [c.name for c in upgraded.list_configs()] == ["mine"]
