"""How long a save waits for another process's write lock (`LLMWB_LOCK_WAIT`), what the
user is told while it waits, and which failures are not waited for at all — for both
stores, which share the loop (core.store.lite.save_waiting_for_locks)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest

from core.seed import ensure_seeded
from core.store import Store
from core.store.db import SaveFailed
from core.store.lite import LiteStore, column_value, lock_wait_from_env, save_waiting_for_locks
from core.store.rows import RunRow


@pytest.mark.parametrize("value, seconds", [
    (None, 30.0), ("0.3", 0.3), ("12", 12.0), ("3599.5", 3599.5),
    ("0", 30.0), ("-1", 30.0), ("3600", 30.0), ("nan", 30.0), ("inf", 30.0), ("soon", 30.0), ("", 30.0),
])  # fmt: skip
def test_the_lock_wait_comes_from_the_environment_within_an_hour(monkeypatch, value, seconds):
    if value is None:
        monkeypatch.delenv("LLMWB_LOCK_WAIT", raising=False)
    else:
        monkeypatch.setenv("LLMWB_LOCK_WAIT", value)
    assert lock_wait_from_env() == seconds


def test_both_stores_take_the_lock_wait_from_the_environment_unless_given(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("LLMWB_LOCK_WAIT", "7")
    path = tmp_path / "llmwb.db"
    store = Store(path)
    ensure_seeded(store)
    assert store.lock_wait == 7.0 and Store(path, lock_wait=0.5).lock_wait == 0.5
    store.close()
    lite = LiteStore.open(path)
    assert lite is not None and lite.lock_wait == 7.0
    lite.close()
    lite = LiteStore.open(path, lock_wait=0.25)
    assert lite is not None and lite.lock_wait == 0.25
    lite.close()


def test_a_row_s_values_are_written_as_sqlalchemy_writes_them():
    when = datetime(2026, 1, 2, 3, 4, 5, 60, tzinfo=timezone.utc)
    assert column_value("created_at", when) == "2026-01-02 03:04:05.000060"
    assert column_value("stream", True) == 1 and column_value("stream", False) == 0
    assert column_value("metrics", {"ttft_ms": float("nan"), "é": 1}) == '{"ttft_ms": null, "\\u00e9": 1}'
    assert column_value("request", {}) == "{}"
    assert column_value("error", "boom") == "boom" and column_value("http_status", 429) == 429


class _Saver:
    """A store whose saves fail as scripted, recording what the user was told."""

    def __init__(self, failures: list[Exception], lock_wait: float = 12.0) -> None:
        self.failures = failures
        self.lock_wait = lock_wait
        self.attempts = 0
        self.told: list[str] = []
        self.on_wait = self.told.append

    def write_finished_run(self, run: RunRow, frames: object, *, saved: int) -> None:
        self.attempts += 1
        if self.failures:
            raise self.failures.pop(0)


def _save(saver: _Saver) -> Exception | None:
    busy = sqlite3.OperationalError
    return save_waiting_for_locks(saver, RunRow(id="runlocked001"), [], 0, busy, sqlite3.Error,
                                  lambda error: "locked" in str(error))  # fmt: skip


def test_a_locked_save_is_tried_three_times_telling_how_long_it_may_still_wait():
    saver = _Saver([sqlite3.OperationalError("database is locked")] * 2)
    assert _save(saver) is None and saver.attempts == 3
    assert saver.told == [
        "the database is locked by another process; still trying to save run runlocked001 (up to 24 s more)",
        "the database is locked by another process; still trying to save run runlocked001 (up to 12 s more)",
    ]


def test_a_save_locked_three_times_gives_the_last_lock_error_without_a_third_wait():
    last = sqlite3.OperationalError("database is locked (3)")
    saver = _Saver([sqlite3.OperationalError("database is locked")] * 2 + [last])
    saver.on_wait = None  # type: ignore[assignment]  # no listener: the log alone hears
    assert _save(saver) is last and saver.attempts == 3 and saver.told == []


@pytest.mark.parametrize("failure", [
    sqlite3.OperationalError("disk I/O error"), sqlite3.IntegrityError("NOT NULL"), OSError("disk full"),
    ValueError("Out of range float values are not JSON compliant"),
])  # fmt: skip
def test_a_failure_that_is_not_a_lock_is_not_waited_for(failure):
    saver = _Saver([failure])
    assert _save(saver) is failure and saver.attempts == 1 and saver.told == []


def test_a_save_that_works_at_once_tells_nothing():
    saver = _Saver([])
    assert _save(saver) is None and saver.attempts == 1 and saver.told == []


def test_the_lite_store_s_save_of_a_locked_file_is_kept_and_says_where(tmp_path: Path):
    path = tmp_path / "llmwb.db"
    seeding = Store(path)
    ensure_seeded(seeding)
    seeding.close()
    lite = LiteStore.open(path, lock_wait=0.01)
    assert lite is not None
    failed: list[tuple[str, str]] = []
    lite.on_save_failed = lambda run_id, message: failed.append((run_id, message))
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(SaveFailed) as raised:
            lite.finish_run(RunRow(id="lockedout001", status="ok"), [(0.0, "data: x")])
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    kept = tmp_path / "unsaved" / "lockedout001.json"
    assert str(raised.value) == (
        f"could not save run lockedout001 (database is locked); kept in {kept}, saved at the next start"
    )
    assert failed == [("lockedout001", str(raised.value))] and kept.is_file()


def _lite(tmp_path: Path) -> LiteStore:
    path = tmp_path / "llmwb.db"
    seeding = Store(path)
    ensure_seeded(seeding)
    seeding.close()
    lite = LiteStore.open(path, lock_wait=0.01)
    assert lite is not None
    return lite


@pytest.mark.parametrize("message, waits", [
    ("database is locked", 2), ("database is busy", 2), ("disk I/O error", 0),
])  # fmt: skip
def test_the_lite_store_waits_only_for_a_lock_or_a_busy_file(tmp_path: Path, monkeypatch, message, waits):
    lite = _lite(tmp_path)

    def fail(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError(message)

    monkeypatch.setattr(lite, "write_finished_run", fail)
    told: list[str] = []
    lite.on_wait = told.append
    with pytest.raises(SaveFailed):
        lite.finish_run(RunRow(id="waiting00001"), [])
    assert len(told) == waits


def test_a_lite_checkpoint_keeps_the_partial_answer(tmp_path: Path):
    lite = _lite(tmp_path)
    lite.create_run(RunRow(id="partial00001"))
    assert lite.checkpoint_run("partial00001", {"content": "half an answer"}, 0, [(1.0, "data: x")])
    row = lite.get_run("partial00001")
    assert row is not None and row.response == {"content": "half an answer"} and row.status == "running"


def test_a_save_failing_half_way_leaves_the_row_as_it_was_and_the_store_usable(tmp_path: Path):
    lite = _lite(tmp_path)
    lite.create_run(RunRow(id="halfway00001"))
    row = RunRow(id="halfway00001", status="ok", response={"content": "done"})
    with pytest.raises(sqlite3.Error):  # a frame SQLite cannot bind, after the row was written
        lite.write_finished_run(row, [(0.0, "data: fine"), (1.0, object())])  # type: ignore[list-item]
    kept = lite.get_run("halfway00001")
    assert kept is not None and (kept.status, kept.response) == ("running", {})  # rolled back
    lite.create_run(RunRow(id="afterward001"))  # no transaction left open
    assert lite.get_run("afterward001") is not None
