"""`llmwb models list` and `llmwb run` read configs straight from the file (core.store.peek):
the same configs, fields and key status the store gives, and None — the store's job —
for any file the store would change or refuse."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from core.seed import ensure_seeded
from core.store import Store
from core.store.models import ModelConfig
from core.store.peek import ConfigView, opens_as_is, peek_configs, read_configs


def _seeded(path: Path) -> Path:
    store = Store(path)
    ensure_seeded(store)
    store.save_config(ModelConfig(name="aaa-first", provider="openai-compatible", model="m/1",
                                  base_url="http://127.0.0.1:9/v1", api_key_env="MY_KEY",
                                  params={"temperature": 0.5, "stop": ["\n"]}, price_input=1.5,
                                  price_cached_input=0.25, price_output=6.0, timeout=12.5))  # fmt: skip
    store.save_config(ModelConfig(name="local", provider="ollama", model="qwen"))
    store.close()
    return path


def test_peeked_configs_are_the_store_s_by_name_with_every_field(tmp_path: Path, monkeypatch) -> None:
    path = _seeded(tmp_path / "llmwb.db")
    peeked = peek_configs(path)
    assert peeked is not None
    stored = Store(path).list_configs()
    assert [c.name for c in peeked] == [c.name for c in stored]
    fields = list(ConfigView.__dataclass_fields__)
    for view, config in zip(peeked, stored):
        assert [getattr(view, f) for f in fields] == [getattr(config, f) for f in fields]
    first, local = peeked[0], next(c for c in peeked if c.name == "local")
    assert first.name == "aaa-first" and first.params == {"temperature": 0.5, "stop": ["\n"]}
    monkeypatch.delenv("MY_KEY", raising=False)
    assert first.key_status() == "missing"
    monkeypatch.setenv("MY_KEY", "sk-x")
    assert first.key_status() == "set"
    assert local.key_status() == "not needed" and local.effective_base_url() == "http://localhost:11434/v1"
    assert first.effective_base_url() == "http://127.0.0.1:9/v1"
    moved = first.model_copy(update={"timeout": 3.0, "base_url": None})
    assert (moved.timeout, moved.base_url, moved.name, first.timeout) == (3.0, None, "aaa-first", 12.5)
    assert first.model_copy() == first


def test_one_config_is_read_by_its_name(tmp_path: Path) -> None:
    path = _seeded(tmp_path / "llmwb.db")
    with sqlite3.connect(path) as conn:
        assert [c.name for c in read_configs(conn, "local")] == ["local"]
        assert read_configs(conn, "nope") == []
        assert opens_as_is(conn)
    conn.close()


def test_the_data_dir_s_file_is_the_default(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("LLMWB_HOME", str(tmp_path))
    assert peek_configs() is None  # no file yet: the store makes it
    _seeded(tmp_path / "llmwb.db")
    assert [c.name for c in peek_configs() or []][:1] == ["aaa-first"]


@pytest.mark.parametrize("change", ["other app id", "old version", "no seed", "bad params", "not sqlite", "folder"])
def test_a_file_the_store_would_change_or_refuse_is_not_peeked(tmp_path: Path, change: str) -> None:
    path = tmp_path / "llmwb.db"
    if change == "folder":
        path.mkdir()
        assert peek_configs(path) is None
        return
    _seeded(path)
    if change == "not sqlite":
        path.write_bytes(b"not a database at all" * 10)
        for suffix in ("-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
    else:
        statement = {
            "other app id": "PRAGMA application_id = 7",
            "old version": "PRAGMA user_version = 1",
            "no seed": "DELETE FROM meta",
            "bad params": "UPDATE model_config SET params = '{broken' WHERE name = 'local'",
        }[change]
        with sqlite3.connect(path) as conn:
            conn.execute(statement)
        conn.close()
    assert peek_configs(path) is None
