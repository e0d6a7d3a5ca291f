"""Checks on a database file before llmwb writes anything to it.

Opening a file with the store switches it to WAL and runs migrations: both modify
it. A file another program made, one written by a newer llmwb, or one that is not
SQLite at all must be refused first, with the file left exactly as it was.
"""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

from core.store.migrations import APPLICATION_ID, LATEST, NewerSchema

LLMWB_TABLES = frozenset({"model_config", "tool_definition", "run", "run_frame"})
# The identity read waits at most this long for another process's lock, however long the
# store's own lock wait: a lock still held then is left to that wait.
IDENTITY_WAIT_S = 5.0


# The identity in one statement, so in one read transaction: read apart, another llmwb's
# first start could commit between the reads (its tables seen, the version from before),
# and the file was refused as another program's (eight `llmwb run`s started together).
IDENTITY_QUERY = (
    "SELECT (SELECT user_version FROM pragma_user_version),"
    " (SELECT application_id FROM pragma_application_id),"
    " (SELECT group_concat(name, char(31)) FROM sqlite_master WHERE type = 'table')"
)


def identity_of(row: tuple[Any, Any, Any]) -> tuple[int, int, set[str]]:
    """(schema version, application id, table names) from IDENTITY_QUERY's row."""
    version, app_id, names = row
    return int(version or 0), int(app_id or 0), set(names.split("\x1f")) if names else set()


class DatabaseRefused(Exception):
    """A database file llmwb will not open; the message is one line and says what to do."""


def check_existing(path: Path, lock_wait: float = IDENTITY_WAIT_S) -> bool:
    """Raise DatabaseRefused unless `path` is missing, empty, or an llmwb database this
    version can open; a file another process holds locked longer than `lock_wait` (the
    store's, capped at IDENTITY_WAIT_S) is taken as llmwb's, and its open waits for the lock
    as any write does. False when so taken on trust (its opener must judge it once it can
    read it, before writing), True when judged. Reads only, and only through SQLite:
    opening and closing the file any other way would drop every lock this process's open
    connections hold on it
    (POSIX locks belong to the process, and any close releases them all), and another
    process closing its last connection would then take this one's WAL away."""
    try:
        if path.is_dir():
            raise DatabaseRefused(f"{path} is a directory, not a database file")
        size = path.stat().st_size
    except FileNotFoundError:
        return True
    except OSError as error:
        raise DatabaseRefused(f"cannot read {path}: {error.strerror or error}") from None
    if not size:
        return True  # empty: SQLite makes it a new database
    identity = _read_identity(path, min(lock_wait, IDENTITY_WAIT_S))
    if identity is None:
        return False
    judge_identity(path, *identity)
    return True


def judge_identity(path: Path, version: int, app_id: int, tables: set[str]) -> None:
    """Raise DatabaseRefused unless this identity (schema version, application id, table
    names) is an llmwb database this version can open, or a new one."""
    if app_id not in (0, APPLICATION_ID):
        raise DatabaseRefused(
            f"{path} belongs to another program (SQLite application id {app_id:#x}); llmwb left it untouched"
        )
    if version > LATEST:
        raise DatabaseRefused(f"{path} was {NewerSchema(version)}")
    if tables and (version == 0 or not LLMWB_TABLES <= tables):
        listed = ", ".join(sorted(tables)[:6]) + (", …" if len(tables) > 6 else "")
        raise DatabaseRefused(
            f"{path} is another program's SQLite file (tables: {listed}); llmwb left it untouched"
            " — set LLMWB_HOME to another directory"
        )


def _read_identity(path: Path, lock_wait: float) -> tuple[int, int, set[str]] | None:
    uri = f"file:{quote(str(path))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=lock_wait)
    except sqlite3.Error as error:
        raise DatabaseRefused(f"cannot open {path}: {error}") from None
    try:
        identity = identity_of(conn.execute(IDENTITY_QUERY).fetchone())
    except sqlite3.OperationalError as error:
        if "locked" in str(error) or "busy" in str(error):
            return None  # another llmwb writing, most likely: its open waits for the lock, then judges
        raise DatabaseRefused(f"{path} is damaged or unreadable ({error}); restore a backup or move it away") from None
    except sqlite3.DatabaseError as error:
        if "not a database" in str(error):
            raise DatabaseRefused(
                f"{path} is not an llmwb database (not a SQLite file); move it away or set LLMWB_HOME"
            ) from None
        raise DatabaseRefused(f"{path} is damaged ({error}); restore a backup or move it away") from None
    finally:
        conn.close()
    return identity


def dumps_finite(value: Any) -> str:
    """JSON for a column. NaN and infinity (from a server or an old bug) become null:
    stored as `NaN`, they make SQLite's json_extract fail on the whole row."""
    try:
        return json.dumps(value, allow_nan=False)
    except ValueError:
        return json.dumps(_finite(value), allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value
