"""Saving a run with the standard library's sqlite3, for `llmwb run`.

SQLAlchemy and SQLModel were ~40% of a 20,000-chunk `llmwb run --json`: imports the
bare SDK loop it is measured against never pays (bench/core_overhead.py). A run needs
only a few statements — read its config, insert its row, checkpoint it, save it with
its frames, note why it was cancelled — so this store writes them itself, against
the schema the migrations made, and the rows are the ones the SQLModel `Store` writes
for the same run, byte for byte (tests/store/test_lite_store.py holds them equal).

Only for a file a start would leave as it is: an llmwb database at this version's
schema, seeded, in WAL mode (core.store.peek's test), with nothing for a start to do —
no run in `unsaved/` to import, no run left `running` by a process that is gone, no
retention to apply. Otherwise `LiteStore.open` gives None and the caller opens the
`Store`, which migrates, seeds, recovers and prunes as ever.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Sequence

from core.paths import DB_FILE, UNSAVED_DIR, DataDirError, data_dir, tighten_file
from core.store.migrations import RETENTION_KEY
from core.store.owner import is_alive
from core.store.peek import ConfigView, opens_as_is, read_configs
from core.store.rows import COLUMNS, RunRow, utcnow
from core.store.safety import DatabaseRefused, check_existing, dumps_finite

log = logging.getLogger("llmwb")

DEFAULT_LOCK_WAIT = 30.0  # seconds SQLite waits for another process's write lock
SAVE_ATTEMPTS = 3  # a finished run's save waits up to this many lock waits before the fallback file
JSON_COLUMNS = frozenset({"request", "response", "metrics"})
# SQLAlchemy's SQLite DateTime: this text, without the zone (every stamp here is UTC).
_DATETIME = "%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d.%(microsecond)06d"

_INSERT_RUN = f"INSERT INTO run ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"
_UPSERT_RUN = _INSERT_RUN + " ON CONFLICT (id) DO UPDATE SET " + ", ".join(
    f"{column} = excluded.{column}" for column in COLUMNS if column != "id"
)
_INSERT_FRAMES = "INSERT INTO run_frame (run_id, seq, offset_ms, data) VALUES (?, ?, ?, ?)"


def column_value(column: str, value: Any) -> Any:
    """A field as the `run` table holds it (SQLAlchemy's JSON, DateTime and Boolean on SQLite)."""
    if column in JSON_COLUMNS:
        return dumps_finite(value)
    if isinstance(value, datetime):
        return _DATETIME % {
            "year": value.year, "month": value.month, "day": value.day, "hour": value.hour,
            "minute": value.minute, "second": value.second, "microsecond": value.microsecond,
        }  # fmt: skip
    if isinstance(value, bool):
        return int(value)
    return value


def lock_wait_from_env() -> float:
    """`LLMWB_LOCK_WAIT` seconds (default 30): how long one write waits for a lock (both stores)."""
    try:
        value = float(os.environ.get("LLMWB_LOCK_WAIT", DEFAULT_LOCK_WAIT))
    except ValueError:
        return DEFAULT_LOCK_WAIT
    return value if 0 < value < 3600 else DEFAULT_LOCK_WAIT


def save_waiting_for_locks(
    store: Any,
    run: RunRow,
    frames: Sequence[tuple[float, str]],
    saved: int,
    locked_error: type[Exception],
    database_error: type[Exception],
    is_busy: Callable[[Any], bool],
) -> Exception | None:
    """`store.write_finished_run`, waiting out a lock held elsewhere up to SAVE_ATTEMPTS
    lock waits (each wait told to the log and `store.on_wait`). Both stores save this way;
    they differ only in their driver's error classes. Returns None once saved, else why not."""
    for attempt in range(1, SAVE_ATTEMPTS + 1):
        try:
            store.write_finished_run(run, frames, saved=saved)
            return None
        except locked_error as locked:
            if not is_busy(locked) or attempt == SAVE_ATTEMPTS:
                return locked
            left = (SAVE_ATTEMPTS - attempt) * store.lock_wait
            message = (
                f"the database is locked by another process; still trying to save run {run.id} "
                f"(up to {left:.0f} s more)"
            )
            log.warning(message)
            if store.on_wait is not None:
                store.on_wait(message)
        except (database_error, OSError, ValueError) as other:  # disk full, a value SQLite refuses
            return other
    return None  # not reached: the last attempt returns


def _row_values(run: RunRow) -> list[Any]:
    return [column_value(column, getattr(run, column)) for column in COLUMNS]


class LiteStore:
    """The part of `core.store.Store` a headless run uses, on one sqlite3 connection."""

    def __init__(self, path: Path, connection: sqlite3.Connection, lock_wait: float) -> None:
        self.path = path
        self.lock_wait = lock_wait
        self.notices: list[str] = []  # the file is in WAL mode, or this store was not opened
        self.unsaved: dict[str, str] = {}
        self.on_wait: Callable[[str], None] | None = None
        self.on_save_failed: Callable[[str, str], None] | None = None
        self._conn = connection
        self._lock = threading.Lock()  # the runner saves from worker threads, the CLI reads after

    @classmethod
    def open(cls, path: Path | None = None, *, lock_wait: float | None = None) -> LiteStore | None:
        """The store for `path` (default: the data dir's), or None when only the full
        `Store` should open it (see the module's docstring)."""
        wait = lock_wait if lock_wait is not None else lock_wait_from_env()
        try:
            path = path or data_dir() / DB_FILE
            if not path.is_file() or _has_unsaved(path):
                return None
            check_existing(path, wait)
            for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                tighten_file(file)  # as the store does on opening
            connection = sqlite3.connect(path, timeout=wait, isolation_level=None, check_same_thread=False)
        except (DataDirError, DatabaseRefused, OSError, sqlite3.Error):
            return None
        try:
            if opens_as_is(connection) and _nothing_to_recover(connection):
                connection.execute("PRAGMA synchronous=NORMAL")
                connection.execute("PRAGMA foreign_keys=ON")
                return cls(path, connection, wait)
        except sqlite3.Error:
            pass
        connection.close()
        return None

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # model configs ------------------------------------------------------------
    def list_configs(self) -> list[ConfigView]:
        with self._lock:
            return read_configs(self._conn)

    def get_config(self, name: str) -> ConfigView | None:
        with self._lock:
            found = read_configs(self._conn, name)
        return found[0] if found else None

    # runs ---------------------------------------------------------------------
    def create_run(self, run: RunRow) -> None:
        with self._transaction() as conn:
            conn.execute(_INSERT_RUN, _row_values(run))

    def checkpoint_run(
        self, run_id: str, response: dict[str, Any], first_seq: int, frames: Sequence[tuple[float, str]]
    ) -> bool:
        """As `Store.checkpoint_run`: the partial response and new frames of a `running` row."""
        with self._transaction() as conn:
            cursor = conn.execute(
                "UPDATE run SET response = ? WHERE id = ? AND status = 'running'", (dumps_finite(response), run_id)
            )
            written = cursor.rowcount > 0
            if written:
                _insert_frames(conn, run_id, first_seq, frames)
        return written

    def finish_run(self, run: RunRow, frames: Sequence[tuple[float, str]], *, saved: int = 0) -> None:
        """As `Store.finish_run`: a lock held elsewhere is waited for up to SAVE_ATTEMPTS
        lock waits, then the run goes to `unsaved/` and SaveFailed is raised."""
        run.finished_at = run.finished_at or utcnow()
        error = save_waiting_for_locks(self, run, frames, saved, sqlite3.OperationalError, sqlite3.Error, _is_busy)
        if error is None:
            return
        from core.store.db import keep_unsaved  # noqa: PLC0415  (the rare path pays for SQLAlchemy)

        keep_unsaved(self, run, frames, error)

    def write_finished_run(self, run: RunRow, frames: Sequence[tuple[float, str]], *, saved: int = 0) -> None:
        """The row and its frames from `saved` on, in one transaction."""
        with self._transaction() as conn:
            conn.execute(_UPSERT_RUN, _row_values(run))
            conn.execute("DELETE FROM run_frame WHERE run_id = ? AND seq >= ?", (run.id, saved))
            _insert_frames(conn, run.id, saved, frames[saved:])

    def note_cancel_reason(self, run_id: str, reason: str) -> None:
        with self._transaction() as conn:
            conn.execute("UPDATE run SET error = ? WHERE id = ? AND status = 'cancelled'", (reason, run_id))

    def get_run(self, run_id: str) -> RunRow | None:
        with self._lock:
            row = self._conn.execute(f"SELECT {', '.join(COLUMNS)} FROM run WHERE id = ?", (run_id,)).fetchone()
        return None if row is None else _run_from_row(row)

    def _transaction(self) -> _Transaction:
        return _Transaction(self._lock, self._conn)


class _Transaction:
    """One write transaction under the store's lock: BEGIN IMMEDIATE takes the file's
    write lock at once (waiting up to the lock wait), so a save never fails half-way
    on a lock another process took after it read."""

    def __init__(self, lock: threading.Lock, conn: sqlite3.Connection) -> None:
        self._lock, self._conn = lock, conn

    def __enter__(self) -> sqlite3.Connection:
        self._lock.acquire()
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._lock.release()
            raise
        return self._conn

    def __exit__(self, kind: object, error: object, traceback: object) -> None:
        try:
            self._conn.execute("COMMIT" if kind is None else "ROLLBACK")
        finally:
            self._lock.release()


def _insert_frames(conn: sqlite3.Connection, run_id: str, first_seq: int, frames: Sequence[tuple[float, str]]) -> None:
    if frames:
        conn.executemany(_INSERT_FRAMES, [(run_id, seq, at, data) for seq, (at, data) in enumerate(frames, first_seq)])


def _run_from_row(row: tuple[Any, ...]) -> RunRow:
    import json  # noqa: PLC0415

    values = dict(zip(COLUMNS, row))
    for column in JSON_COLUMNS:
        values[column] = json.loads(values[column]) if values[column] is not None else None
    for column in ("created_at", "finished_at"):
        if values[column] is not None:
            values[column] = datetime.fromisoformat(values[column])
    values["stream"] = bool(values["stream"])
    return RunRow(**values)


def _has_unsaved(path: Path) -> bool:
    folder = path.parent / UNSAVED_DIR
    return folder.is_dir() and any(folder.glob("*.json"))


def _nothing_to_recover(conn: sqlite3.Connection) -> bool:
    """No run left `running` by a process that is gone, and no retention to apply."""
    if conn.execute("SELECT 1 FROM meta WHERE key = ?", (RETENTION_KEY,)).fetchone() is not None:
        return False
    running = conn.execute("SELECT owner_pid, owner_start FROM run WHERE status = 'running'").fetchall()
    return all(is_alive(pid, marker) for pid, marker in running)


def _is_busy(error: sqlite3.OperationalError) -> bool:
    text = str(error).lower()
    return "locked" in text or "busy" in text
