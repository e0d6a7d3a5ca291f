"""Model configs read straight from the database file with the standard library's
sqlite3, for commands that only show them (`llmwb models list`): no SQLAlchemy and
no SQLModel, which are most of such a command's start-up (bench/core_overhead.py).

Only from a file the store itself would open as it is — an llmwb database at this
version's schema, seeded, in WAL mode — and read-only. Anything else (a first start,
an upgrade due, a refused or damaged file, a lock) gives None, and the caller opens
the `Store`, which deals with it. The rows are the `model_config` table's, with the
same meaning as `ModelConfig`'s fields (kinds.py holds what both derive from them).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

from core.paths import DB_FILE, DataDirError, data_dir, tighten_file
from core.store import kinds
from core.store.migrations import APPLICATION_ID, LATEST, SEEDED_KEY
from core.store.safety import DatabaseRefused, check_existing


@dataclass(frozen=True)
class ConfigView:
    """A model config as read from its row: `ModelConfig`'s fields and read-only methods
    (what `llmwb models list` shows and what `llmwb run` streams with)."""

    id: int
    name: str
    provider: str
    model: str
    base_url: str | None
    api_key_env: str | None
    params: dict[str, Any]
    price_input: float
    price_cached_input: float | None
    price_output: float
    timeout: float | None

    def key_status(self) -> str:
        return kinds.key_status(self.provider, self.api_key_env)

    def effective_base_url(self) -> str | None:
        return kinds.effective_base_url(self.provider, self.base_url)

    def model_copy(self, *, update: dict[str, Any] | None = None) -> ConfigView:
        """A copy with some fields replaced, as `ModelConfig.model_copy` (a run's --timeout,
        the embedded simulator's base URL)."""
        return replace(self, **(update or {}))


_COLUMNS = ", ".join(ConfigView.__dataclass_fields__)
_PARAMS = list(ConfigView.__dataclass_fields__).index("params")


def peek_configs(path: Path | None = None) -> list[ConfigView] | None:
    """Every model config, ordered by name as `Store.list_configs`; None when only the
    store should open this file."""
    try:
        path = path or data_dir() / DB_FILE
        if not path.is_file():
            return None
        check_existing(path)
        for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            tighten_file(file)  # as the store does on opening (files from before llmwb made them private)
        conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=5)
    except (DataDirError, DatabaseRefused, OSError, sqlite3.Error):
        return None
    try:
        if not opens_as_is(conn):
            return None
        return read_configs(conn)
    except (sqlite3.Error, ValueError, TypeError):
        return None
    finally:
        conn.close()


def read_configs(conn: sqlite3.Connection, name: str | None = None) -> list[ConfigView]:
    """The `model_config` rows (the one called `name`, if given), ordered by name."""
    if name is None:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM model_config ORDER BY name").fetchall()
    else:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM model_config WHERE name = ?", (name,)).fetchall()
    return [ConfigView(*_decoded(row)) for row in rows]


def opens_as_is(conn: sqlite3.Connection) -> bool:
    """What the store would change on opening is already so: schema, WAL, seeding."""
    return (
        conn.execute("PRAGMA user_version").fetchone()[0] == LATEST
        and conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        and str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal"
        and conn.execute("SELECT 1 FROM meta WHERE key = ?", (SEEDED_KEY,)).fetchone() is not None
    )


def _decoded(row: tuple[Any, ...]) -> list[Any]:
    values = list(row)
    if values[_PARAMS] is not None:  # a JSON column, as SQLAlchemy's JSON type reads it
        values[_PARAMS] = json.loads(values[_PARAMS])
    return values
