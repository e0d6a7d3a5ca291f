"""The sqlite3 store `llmwb run` saves with (core.store.lite): what it sets up on opening (no
notice to show, the lock wait on its connection, the journal files made private), which files
it still opens (an emptied `unsaved/` folder) or leaves to the full store (a pid another
process now carries), and a save the database refuses (kept at once) or a lock (logged)."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from core.seed import ensure_seeded
from core.store import Store
from core.store.db import SaveFailed
from core.store.lite import LiteStore
from core.store.rows import RunRow
from test_lite_store import seeded_database


def _running_row(path: Path, pid: int, marker: str | None) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO run (id, created_at, model_config_name, provider, model, stream, status, request, response,"
            " metrics, owner_pid, owner_start) VALUES ('running00001', '2026-01-01 00:00:00.000000', 'a', 'openai',"
            " 'm', 1, 'running', '{}', '{}', '{}', ?, ?)",
            (pid, marker),
        )
    conn.close()


def test_an_open_lite_store_has_nothing_to_tell_and_waits_its_lock_wait(tmp_path: Path) -> None:
    lite = LiteStore.open(seeded_database(tmp_path), lock_wait=0.25)
    assert lite is not None
    assert lite.notices == []  # the CLI prints these: it opens only a file already in WAL mode
    assert lite._conn.execute("PRAGMA busy_timeout").fetchone()[0] == 250
    lite.close()


def test_journal_files_in_use_left_readable_are_made_private(tmp_path: Path) -> None:
    path = seeded_database(tmp_path)
    app = Store(path)  # the app, open meanwhile: its writes sit in the -wal file
    ensure_seeded(app)
    app.save_config(app.list_configs()[0].model_copy(update={"model": "changed"}))
    journals = [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]
    for journal in journals:
        os.chmod(journal, 0o644)
    lite = LiteStore.open(path)
    modes = [stat.S_IMODE(journal.stat().st_mode) for journal in journals]
    assert lite is not None
    lite.close()
    app.close()
    assert modes == [0o600, 0o600]


def test_an_emptied_unsaved_folder_does_not_keep_the_lite_store_out(tmp_path: Path) -> None:
    path = seeded_database(tmp_path)
    (tmp_path / "unsaved").mkdir()  # every kept run imported: the folder stays, empty
    (tmp_path / "unsaved" / "notes.txt").write_text("not a kept run")
    lite = LiteStore.open(path)
    assert lite is not None
    lite.close()


def test_a_running_run_whose_pid_another_process_now_carries_is_left_to_the_full_store(tmp_path: Path) -> None:
    path = seeded_database(tmp_path)
    _running_row(path, os.getpid(), "another-boot:1")  # this pid, but not this process's start
    assert LiteStore.open(path) is None


def test_a_row_the_database_refuses_is_kept_at_once_not_waited_for(tmp_path: Path) -> None:
    lite = LiteStore.open(seeded_database(tmp_path))
    assert lite is not None
    told: list[str] = []
    lite.on_wait = told.append
    with pytest.raises(SaveFailed) as failed:
        lite.finish_run(RunRow(id="refused00001", model=None), [(0.0, "data: x")])  # type: ignore[arg-type]
    kept = tmp_path / "unsaved" / "refused00001.json"
    assert str(failed.value) == (
        f"could not save run refused00001 (NOT NULL constraint failed: run.model); kept in {kept},"
        " saved at the next start"
    )
    assert told == [] and kept.is_file()
    lite.close()


def test_a_save_waiting_for_a_lock_says_so_in_the_log(tmp_path: Path, monkeypatch, caplog) -> None:
    lite = LiteStore.open(seeded_database(tmp_path), lock_wait=12)
    assert lite is not None
    real = lite.write_finished_run
    attempts: list[int] = []

    def locked_once(run: RunRow, frames: object, *, saved: int = 0) -> None:
        attempts.append(saved)
        if len(attempts) == 1:
            raise sqlite3.OperationalError("database is locked")
        real(run, frames, saved=saved)  # type: ignore[arg-type]

    monkeypatch.setattr(lite, "write_finished_run", locked_once)
    with caplog.at_level(logging.WARNING, logger="llmwb"):
        lite.finish_run(RunRow(id="waitedfor001", status="ok"), [])
    assert [record.getMessage() for record in caplog.records] == [
        "the database is locked by another process; still trying to save run waitedfor001 (up to 24 s more)"
    ]
    row = lite.get_run("waitedfor001")
    assert row is not None and row.status == "ok"
    lite.close()
