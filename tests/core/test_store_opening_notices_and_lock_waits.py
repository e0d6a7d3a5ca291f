"""What opening the SQLModel store tells the user and what it sets up: a file SQLite will not
put in WAL mode is one notice (a WAL file none), every connection waits the lock wait for
another process's lock, a locked file only postpones recovery to the next start, the
journal files an older llmwb left readable are made private, and which failed saves are
waited for and which go to `unsaved/` at once."""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import stat
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from core.store import Store
from core.store.db import SaveFailed
from core.store.rows import RunRow


def _busy_timeout_ms(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0)


def test_a_wal_file_opens_without_a_notice(tmp_path: Path, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="llmwb"):
        store = Store(tmp_path / "llmwb.db")
        store.create_run(RunRow(id="plain0000001"))  # a second connection of the pool, too
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    store.close()
    assert store.notices == [] and "WAL" not in caplog.text


def test_a_connection_sqlite_keeps_out_of_wal_is_told_once(tmp_path: Path, caplog) -> None:
    # A memory database is one SQLite will not put in WAL mode, as a file system without
    # shared memory; the store hears of it on its connect hook, whatever the file.
    store = Store(tmp_path / "llmwb.db")
    with caplog.at_level(logging.WARNING, logger="llmwb"):
        for _ in range(2):
            conn = sqlite3.connect(":memory:")
            store._configure_connection(conn, None)
            assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
            conn.close()
    store.close()
    notice = "the database is not in WAL mode (journal_mode=memory): runs may wait on each other"
    assert store.notices == [notice]
    assert [record.getMessage() for record in caplog.records] == [f"{store.path}: {notice}"]


def test_every_connection_waits_the_lock_wait_for_another_process_s_lock(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("LLMWB_LOCK_WAIT", "7")
    path = tmp_path / "llmwb.db"
    from_env, given = Store(path), Store(path, lock_wait=0.25)
    assert _busy_timeout_ms(from_env) == 7000 and _busy_timeout_ms(given) == 250
    from_env.close()
    given.close()


def test_a_locked_file_postpones_marking_orphaned_runs_to_the_next_start(tmp_path: Path, caplog) -> None:
    path = tmp_path / "llmwb.db"
    store = Store(path)
    store.create_run(RunRow(id="orphan000001"))
    store.close()
    with sqlite3.connect(path) as conn:  # a row from before owners were recorded: counted as gone
        conn.execute("UPDATE run SET owner_pid = NULL, owner_start = NULL")
    conn.close()
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process writing: WAL readers go on, writers wait
    try:
        with caplog.at_level(logging.WARNING, logger="llmwb"):
            locked_out = Store(path, lock_wait=0.05)
        assert locked_out.get_run("orphan000001").status == "running"  # type: ignore[union-attr]
        locked_out.close()
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert [record.getMessage().splitlines()[0] for record in caplog.records] == [
        "recovering unfinished runs postponed: (sqlite3.OperationalError) database is locked"
    ]
    later = Store(path, lock_wait=0.05)
    assert later.get_run("orphan000001").error_type == "interrupted"  # type: ignore[union-attr]
    later.close()


def test_a_journal_file_in_use_left_readable_is_made_private_by_the_next_open(tmp_path: Path) -> None:
    path = tmp_path / "llmwb.db"
    first = Store(path)
    first.create_run(RunRow(id="inthewal0001"))  # the write sits in the -wal file while `first` is open
    journals = [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]
    for journal in journals:
        os.chmod(journal, 0o644)
    second = Store(path)
    modes = [stat.S_IMODE(journal.stat().st_mode) for journal in journals]
    assert second.get_run("inthewal0001") is not None
    second.close()
    first.close()
    assert modes == [0o600, 0o600]


def test_a_locked_save_waits_even_when_nobody_listens_for_the_wait(store: Store, monkeypatch) -> None:
    real = store.write_finished_run
    attempts: list[int] = []

    def locked_once(run: RunRow, frames: object, *, saved: int = 0) -> None:
        attempts.append(saved)
        if len(attempts) == 1:
            raise OperationalError("INSERT INTO run …", {}, sqlite3.OperationalError("database is locked"))
        real(run, frames, saved=saved)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "write_finished_run", locked_once)
    assert store.on_wait is None
    store.finish_run(RunRow(id="waitedfor001", status="ok"), [(0.0, "data: x")])
    assert len(attempts) == 2 and store.get_run("waitedfor001").status == "ok"  # type: ignore[union-attr]
    assert [f.data for f in store.get_frames("waitedfor001")] == ["data: x"]


def test_a_row_the_database_refuses_is_kept_at_once_not_waited_for(store: Store) -> None:
    told: list[str] = []
    store.on_wait = told.append
    refused = RunRow(id="refused00001", model=None)  # type: ignore[arg-type]  # NOT NULL
    with pytest.raises(SaveFailed) as failed:
        store.finish_run(refused, [(0.0, "data: x")])
    kept = store.path.parent / "unsaved" / "refused00001.json"
    assert str(failed.value) == (
        f"could not save run refused00001 (NOT NULL constraint failed: run.model); kept in {kept},"
        " saved at the next start"
    )
    assert told == [] and kept.is_file()


def test_a_failure_is_a_lock_by_the_driver_s_words_not_by_the_run_s_data(store: Store, monkeypatch) -> None:
    # SQLAlchemy's message also quotes the statement's parameters: a run whose answer says
    # "locked" failing on a full disk is not a lock to wait for.
    def fail(run: RunRow, frames: object, *, saved: int = 0) -> None:
        raise OperationalError("INSERT INTO run …", ("the account is locked", "server busy"),
                               sqlite3.OperationalError("disk I/O error"))  # fmt: skip

    monkeypatch.setattr(store, "write_finished_run", fail)
    told: list[str] = []
    store.on_wait = told.append
    with pytest.raises(SaveFailed, match="^" + re.escape("could not save run diskfull0001 (disk I/O error);")):
        store.finish_run(RunRow(id="diskfull0001", response={"content": "the account is locked"}), [])
    assert told == []


def test_a_constraint_failure_is_kept_not_waited_for(store: Store, monkeypatch) -> None:
    def fail(run: RunRow, frames: object, *, saved: int = 0) -> None:
        raise IntegrityError("INSERT INTO run_frame …", {}, sqlite3.IntegrityError("UNIQUE constraint failed"))

    monkeypatch.setattr(store, "write_finished_run", fail)
    told: list[str] = []
    store.on_wait = told.append
    with pytest.raises(SaveFailed, match=re.escape("could not save run unique000001 (UNIQUE constraint failed);")):
        store.finish_run(RunRow(id="unique000001"), [])
    assert told == []
