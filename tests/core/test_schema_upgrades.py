"""A file written by an older llmwb is upgraded in place on opening, its runs kept; one
written by a newer llmwb is refused with the versions named."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from core.store import Store
from core.store.migrations import APPLICATION_ID, LATEST, NewerSchema, upgrade
from core.store.models import Run
from core.store.owner import current_owner


def _schema_2_file(path: Path) -> None:
    """A version-2 file: no run owners, no column positions, no application id, one run left running."""
    Store(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("DROP INDEX ix_run_running")
        for column in ("owner_pid", "owner_start", "group_position"):
            conn.execute(f"ALTER TABLE run DROP COLUMN {column}")
        conn.execute(
            "INSERT INTO run (id, created_at, model_config_name, provider, model, stream, status, request, response,"
            " metrics) VALUES ('old000000001', '2025-01-01 00:00:00.000000', 'a', 'openai', 'm', 1, 'ok', '{}',"
            " '{\"content\": \"kept\"}', '{}')"
        )
        conn.execute("PRAGMA application_id = 0")
        conn.execute("PRAGMA user_version = 2")
    conn.close()


def test_a_schema_2_file_gains_run_owners_positions_and_its_identity(tmp_path: Path) -> None:
    path = tmp_path / "llmwb.db"
    _schema_2_file(path)
    store = Store(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        columns = {row[1] for row in conn.execute("PRAGMA table_info(run)")}
        indexes = {row[1] for row in conn.execute("PRAGMA index_list(run)")}
    conn.close()
    assert {"owner_pid", "owner_start", "group_position"} <= columns
    assert "ix_run_running" in indexes
    old = store.get_run("old000000001")
    assert old is not None and old.response == {"content": "kept"} and old.owner_pid is None
    assert old.group_position is None
    store.create_run(Run(id="new000000001", model_config_name="b", provider="p", model="m", group_id="g",
                         group_position=2))  # fmt: skip
    new = store.get_run("new000000001")
    assert new is not None and new.group_position == 2 and new.owner_pid == current_owner()[0]
    assert Store(path).get_run("old000000001") is not None  # opening again changes nothing


def test_the_upgrade_steps_run_once_each_in_order_from_the_file_s_version(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    with engine.begin() as conn:
        assert upgrade(conn) == LATEST
        assert conn.execute(text("PRAGMA user_version")).scalar() == LATEST
        assert upgrade(conn) == LATEST  # nothing left to do
        tables = {row[0] for row in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))}
    assert {"model_config", "tool_definition", "run", "run_frame", "meta"} <= tables
    engine.dispose()


def test_a_newer_file_is_refused_with_both_versions(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'newer.db'}")
    with engine.begin() as conn:
        conn.execute(text(f"PRAGMA user_version = {LATEST + 3}"))
        with pytest.raises(NewerSchema) as refused:
            upgrade(conn)
    engine.dispose()
    assert refused.value.version == LATEST + 3
    assert str(refused.value) == f"made by a newer llmwb (schema {LATEST + 3} > {LATEST}); upgrade llmwb to open it"
