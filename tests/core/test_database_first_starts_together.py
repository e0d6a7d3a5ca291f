"""Two llmwb first starts on one new data dir (core.store.safety): while one reads the file's
identity, the other's first start may commit llmwb's tables and schema version. Read in
several statements, the reader saw the tables but the version from before and refused the
file as another program's (seen: eight `llmwb run`s started together, under load)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from core.store import migrations, safety
from core.store.safety import LLMWB_TABLES, check_existing


def _first_start_elsewhere(path: Path, connect: Any) -> None:
    """What another llmwb's first start commits: its tables and its version, in one transaction."""
    other = connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    for table in sorted(LLMWB_TABLES):
        other.execute(f"CREATE TABLE {table} (id TEXT PRIMARY KEY)")
    other.execute(f"PRAGMA user_version = {migrations.LATEST}")
    other.execute("COMMIT")
    other.close()


class _OtherStartsBetweenStatements:
    """A connection that lets the other start commit before its second statement."""

    def __init__(self, conn: sqlite3.Connection, path: Path, connect: Any) -> None:
        self._conn, self._path, self._connect = conn, path, connect
        self.statements = 0

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        self.statements += 1
        if self.statements == 2:
            _first_start_elsewhere(self._path, self._connect)
        return self._conn.execute(sql, *args)

    def close(self) -> None:
        self._conn.close()


def test_another_first_start_committing_while_the_identity_is_read_does_not_get_the_file_refused(
    tmp_path: Path, monkeypatch
) -> None:
    path = tmp_path / "llmwb.db"
    made = sqlite3.connect(path)
    made.execute("CREATE TABLE scratch (x)")
    made.execute("DROP TABLE scratch")  # a file with pages, and nothing in it yet
    made.commit()
    made.close()
    assert path.stat().st_size > 0
    connect = sqlite3.connect
    opened: list[_OtherStartsBetweenStatements] = []

    def interleaved(*args: Any, **kwargs: Any) -> _OtherStartsBetweenStatements:
        opened.append(_OtherStartsBetweenStatements(connect(*args, **kwargs), path, connect))
        return opened[-1]

    monkeypatch.setattr(safety.sqlite3, "connect", interleaved)
    assert check_existing(path) is True  # judged: a new file, not another program's
    assert len(opened) == 1
