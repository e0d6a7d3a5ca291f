"""A database another llmwb holds locked while llmwb starts (core.store.safety): it is
llmwb's own file, busy, never "another program's" or "damaged"; the start waits the
store's lock wait (LLMWB_LOCK_WAIT, here a small one) and says the database is locked,
and once the lock is let go the file opens with everything in it.

The other llmwb is a second sqlite3 connection holding an exclusive lock: what a writer
in exclusive locking mode, or any writer of a file SQLite keeps out of WAL, holds."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from core.store import Store
from core.store.lite import LiteStore
from core.store.rows import RunRow
from core.store.safety import DatabaseRefused, check_existing

LOCK_WAIT_S = 0.05


def _llmwb_file_with_a_run(path: Path) -> Path:
    store = Store(path)
    store.create_run(RunRow(id="kept00000001", model="m1"))
    store.close()
    return path


@contextmanager
def _held_by_another_llmwb(path: Path, journal_mode: str) -> Iterator[None]:
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute(f"PRAGMA journal_mode={journal_mode}")
    if journal_mode == "WAL":
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")  # WAL readers are shut out only in this mode
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.mark.parametrize("journal_mode", ["WAL", "DELETE"])
def test_a_file_another_llmwb_holds_locked_waits_for_the_lock_and_is_never_refused(
    tmp_path: Path, journal_mode: str
) -> None:
    path = _llmwb_file_with_a_run(tmp_path / "llmwb.db")
    before = path.read_bytes()
    with _held_by_another_llmwb(path, journal_mode):
        check_existing(path, LOCK_WAIT_S)  # not refused: neither another program's, nor damaged
        with pytest.raises(OperationalError, match="database is locked"):
            Store(path, lock_wait=LOCK_WAIT_S)  # the store's own wait, in the driver's words
        assert LiteStore.open(path, lock_wait=LOCK_WAIT_S) is None  # left to the full store
    if journal_mode == "WAL":
        assert path.read_bytes() == before  # nothing was written while it was locked
    store = Store(path, lock_wait=LOCK_WAIT_S)
    kept = store.get_run("kept00000001")
    store.close()
    assert kept is not None and kept.model == "m1"


def test_another_programs_file_locked_when_first_read_is_still_refused_before_llmwb_writes_its_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A locked file is taken as llmwb's at the first read (it cannot be read); if it was
    another program's, held locked then and let go before llmwb's own open, the open judges
    it again under its write lock: refused, no llmwb table written beside the program's."""
    path = tmp_path / "llmwb.db"
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    other.execute("INSERT INTO invoices VALUES (1, 9.5)")
    other.commit()
    other.close()
    # The first read as it goes while the other program holds the file: inconclusive, passed.
    monkeypatch.setattr("core.store.db.check_existing", lambda _path, _wait: False)

    with pytest.raises(DatabaseRefused, match="another program's SQLite file .*invoices"):
        Store(path, lock_wait=LOCK_WAIT_S)

    kept = sqlite3.connect(path)
    assert [row[0] for row in kept.execute("SELECT name FROM sqlite_master WHERE type = 'table'")] == ["invoices"]
    assert kept.execute("SELECT total FROM invoices").fetchall() == [(9.5,)]
    assert kept.execute("PRAGMA user_version").fetchone() == (0,)
    assert kept.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # not switched to WAL either
    kept.close()
