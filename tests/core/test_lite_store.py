"""The sqlite3 store `llmwb run` saves with (core.store.lite) writes the rows the SQLModel
`Store` writes, byte for byte, and opens only a file a start would leave as it is."""

from __future__ import annotations

import copy
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from core.seed import ensure_seeded
from core.store import Store
from core.store.db import SaveFailed
from core.store.lite import LiteStore
from core.store.models import Run
from core.store.prune import Retention, save_retention
from core.store.recovery import unsaved_dir
from core.store.rows import COLUMNS, RunRow

FRAMES = [
    (0.0, 'data: {"choices":[{"delta":{"content":"h\\u00e9"}}]}'),
    (1.25, "data: {\"choices\":[{\"delta\":{\"content\":\"ll\u00f6 \U0001f600\"}}]}"),
    (2.000001, "data: [DONE]"),
    (1e-07, ": keep-alive comment"),
    (33.3, 'data: {"x": "\\n\\t quoted \\" "}'),
]


def _twins(tmp_path: Path) -> tuple[Store, LiteStore]:
    """The SQLModel store and the sqlite3 one, each on its own copy of one seeded file."""
    first = tmp_path / "full" / "llmwb.db"
    first.parent.mkdir()
    seeding = Store(first)
    ensure_seeded(seeding)
    seeding.close()
    second = tmp_path / "lite" / "llmwb.db"
    second.parent.mkdir()
    shutil.copy(first, second)
    lite = LiteStore.open(second)
    assert lite is not None
    return Store(first), lite


def _dump(path: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """Every run and frame cell as SQLite's own literal (type and bytes)."""
    with sqlite3.connect(path) as conn:
        runs = conn.execute(f"SELECT {', '.join(f'quote({c})' for c in COLUMNS)} FROM run ORDER BY id").fetchall()
        frames = conn.execute(
            "SELECT quote(run_id), quote(seq), quote(offset_ms), quote(data) FROM run_frame ORDER BY run_id, seq"
        ).fetchall()
    return runs, frames


def _rows() -> list[RunRow]:
    when = datetime(2026, 3, 4, 5, 6, 7, 0, tzinfo=timezone.utc)
    return [
        RunRow(
            id="streamed0001", created_at=when, model_config_name="démo", provider="openai", model="m/1",
            request={"messages": [{"role": "user", "content": "ünïcode \U0001f600"}], "params": {"t": 0.2}},
            owner_pid=os.getpid(), owner_start="boot:123",
        ),  # fmt: skip
        RunRow(
            id="cancelled002", created_at=when.replace(microsecond=123456), model_config_name="b",
            provider="anthropic", model="claude", stream=True, group_id="group1", request={}, owner_pid=None,
            owner_start=None,
        ),  # fmt: skip
        RunRow(
            id="refused00003", created_at=when.replace(year=2025), model_config_name="c", provider="openai",
            model="x", stream=False, parent_run_id="streamed0001",
            finished_at=datetime(2026, 3, 4, 5, 6, 8, 999999, tzinfo=timezone.utc),
        ),  # fmt: skip
    ]


def _play(store: Store | LiteStore, rows: list[RunRow]) -> None:
    """What the runner does to a store over three runs: a finished stream checkpointed twice,
    a cancelled one noted with a reason, an error whose start was never saved."""
    ok, cancelled, refused = copy.deepcopy(rows)
    store.create_run(ok)
    assert store.checkpoint_run(ok.id, {"content": "hé"}, 0, FRAMES[:2]) is True
    assert store.checkpoint_run(ok.id, {"content": "héllö", "nan": float("nan")}, 2, FRAMES[2:3]) is True
    ok.status, ok.response = "ok", {"content": "héllö 😀", "tool_calls": [], "usage": None}
    ok.metrics = {"ttft_ms": 12.345678901234, "tps": float("inf"), "chunks": 5, "estimated": True, "x": -0.0}
    ok.http_status, ok.finished_at = 200, datetime(2026, 3, 4, 5, 6, 9, 1, tzinfo=timezone.utc)
    store.finish_run(ok, FRAMES, saved=3)

    store.create_run(cancelled)
    assert store.checkpoint_run(cancelled.id, {"content": "part"}, 0, FRAMES[:1]) is True
    cancelled.status, cancelled.error, cancelled.error_type = "cancelled", "cancelled by the user", "cancelled"
    cancelled.response = {"content": "partial", "finish_reason": "cancelled"}
    cancelled.finished_at = datetime(2026, 3, 4, 5, 7, tzinfo=timezone.utc)
    store.finish_run(cancelled, FRAMES[:4], saved=1)
    store.note_cancel_reason(cancelled.id, "terminated (SIGTERM)")
    store.note_cancel_reason(ok.id, "not cancelled: left alone")

    assert store.checkpoint_run(refused.id, {"content": ""}, 0, FRAMES) is False  # no running row: nothing written
    refused.status, refused.error, refused.error_type, refused.http_status = "error", "HTTP 429", "rate_limit", 429
    store.finish_run(refused, [(3.5, '{"error": {"message": "slow down"}}')])


def test_the_sqlite3_store_writes_the_rows_the_sqlmodel_store_writes(tmp_path: Path) -> None:
    full, lite = _twins(tmp_path)
    rows = _rows()
    _play(full, rows)
    _play(lite, rows)
    full.close()
    lite.close()
    full_dump, lite_dump = _dump(full.path), _dump(lite.path)
    assert len(full_dump[0]) == 3 and len(full_dump[1]) == 5 + 4 + 1
    assert lite_dump == full_dump


def test_a_run_read_back_is_the_sqlmodel_stores(tmp_path: Path) -> None:
    full, lite = _twins(tmp_path)
    rows = _rows()
    _play(full, rows)
    _play(lite, rows)
    for run_id in ("streamed0001", "cancelled002", "refused00003"):
        theirs, ours = full.get_run(run_id), lite.get_run(run_id)
        assert theirs is not None and ours is not None
        ours_values, theirs_values = ours.values(), {column: getattr(theirs, column) for column in COLUMNS}
        for values in (ours_values, theirs_values):  # the zone is not stored: both stamps are UTC
            for column in ("created_at", "finished_at"):
                values[column] = values[column].replace(tzinfo=None)
        assert ours_values == theirs_values
    assert lite.get_run("nosuchrun000") is None
    assert [c.name for c in lite.list_configs()] == [c.name for c in full.list_configs()]
    assert lite.get_config("demo-fast") is not None and lite.get_config("nope") is None


def test_the_row_class_has_the_tables_columns_and_defaults() -> None:
    assert list(COLUMNS) == [column.name for column in Run.__table__.columns]  # type: ignore[attr-defined]
    row, table_row = RunRow(), Run()
    for column in COLUMNS:
        if column not in ("id", "created_at") and not Run.model_fields[column].is_required():
            assert getattr(row, column) == getattr(table_row, column), column


def test_a_save_the_lock_keeps_out_goes_to_unsaved_as_the_sqlmodel_stores_does(tmp_path: Path) -> None:
    full, lite = _twins(tmp_path)
    kept: dict[str, str] = {}
    for store in (full, lite):
        # Each store reopened with a short wait: the wait is its connection's busy timeout, set
        # when it connects (left at the default, the lite store waited 3 × 30 s here).
        store.close()
        store = Store(store.path, lock_wait=0.05) if isinstance(store, Store) else LiteStore.open(store.path, lock_wait=0.05)
        assert store is not None
        waits: list[str] = []
        store.on_wait = waits.append
        blocker = sqlite3.connect(store.path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        row = _rows()[0]
        row.status, row.finished_at = "ok", datetime(2026, 1, 1, tzinfo=timezone.utc)
        with pytest.raises(SaveFailed):
            store.finish_run(row, FRAMES)
        blocker.execute("ROLLBACK")
        blocker.close()
        assert len(waits) == 2 and row.id in store.unsaved
        kept[type(store).__name__] = (unsaved_dir(store) / f"{row.id}.json").read_text()  # type: ignore[arg-type]
    assert json.loads(kept["LiteStore"]) == json.loads(kept["Store"])
    assert LiteStore.open(lite.path) is None  # the next start imports it: the full store's job
    reopened = Store(lite.path)
    assert reopened.get_run("streamed0001") is not None and len(reopened.get_frames("streamed0001")) == len(FRAMES)


def seeded_database(tmp_path: Path) -> Path:
    """A database file as a first start leaves it: migrated and seeded, nothing left to do."""
    path = tmp_path / "llmwb.db"
    store = Store(path)
    ensure_seeded(store)
    store.close()
    return path


def test_a_file_with_nothing_to_do_opens(tmp_path: Path) -> None:
    path = seeded_database(tmp_path)
    with sqlite3.connect(path) as conn:  # a run streaming now, in a live process (this one)
        conn.execute(
            "INSERT INTO run (id, created_at, model_config_name, provider, model, stream, status, request, response,"
            " metrics, owner_pid) VALUES ('live00000001', '2026-01-01 00:00:00.000000', 'a', 'openai', 'm', 1,"
            " 'running', '{}', '{}', '{}', ?)",
            (os.getpid(),),
        )
    assert LiteStore.open(path) is not None


@pytest.mark.parametrize(
    "case", ["missing", "unsaved run", "orphaned run", "retention", "not WAL", "not seeded", "old schema"]
)
def test_a_file_a_start_would_change_is_left_to_the_full_store(tmp_path: Path, case: str) -> None:
    path = seeded_database(tmp_path) if case != "missing" else tmp_path / "llmwb.db"
    with sqlite3.connect(path) as conn:
        if case == "unsaved run":
            (tmp_path / "unsaved").mkdir()
            (tmp_path / "unsaved" / "abc.json").write_text("{}")
        elif case == "orphaned run":
            dead = subprocess.run([sys.executable, "-c", "print(__import__('os').getpid())"], capture_output=True)
            conn.execute(
                "INSERT INTO run (id, created_at, model_config_name, provider, model, stream, status, request,"
                " response, metrics, owner_pid) VALUES ('orphan000001', '2026-01-01 00:00:00.000000', 'a', 'openai',"
                " 'm', 1, 'running', '{}', '{}', '{}', ?)",
                (int(dead.stdout),),
            )
        elif case == "not WAL":
            conn.execute("PRAGMA journal_mode=DELETE")
        elif case == "not seeded":
            conn.execute("DELETE FROM meta")
        elif case == "old schema":
            conn.execute("PRAGMA user_version = 2")
    if case == "retention":
        store = Store(path)
        save_retention(store, Retention(keep=5))
        store.close()
    assert LiteStore.open(path) is None
