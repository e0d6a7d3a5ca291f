"""Numbered schema migrations, applied in order; the version lives in `PRAGMA user_version`.

A newer app opens an older file and upgrades it in place. Add a migration as the
next number; never edit one that has shipped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from sqlalchemy import Connection

# SQLAlchemy is imported by the steps, not here: LATEST is read by commands that never
# open the store with it (core.store.peek).

class NewerSchema(Exception):
    """The file was written by a newer llmwb; it is left untouched."""

    def __init__(self, version: int) -> None:
        super().__init__(f"made by a newer llmwb (schema {version} > {LATEST}); upgrade llmwb to open it")
        self.version = version


MIGRATIONS: dict[int, Callable[[Connection], None]] = {}


def migration(number: int) -> Callable[[Callable[[Connection], None]], Callable[[Connection], None]]:
    def register(step: Callable[[Connection], None]) -> Callable[[Connection], None]:
        MIGRATIONS[number] = step
        return step

    return register


@migration(1)
def _initial_schema(conn: Connection) -> None:
    # Version 1 is whatever the table classes say; later steps must spell out their DDL.
    from sqlmodel import SQLModel

    import core.store.models  # noqa: F401  (registers the tables)

    SQLModel.metadata.create_all(conn)


@migration(2)
def _meta_table(conn: Connection) -> None:
    from sqlalchemy import text

    # Small facts about the file itself, e.g. that first-start seeding already happened
    # (so models a user deleted are not put back).
    conn.execute(text("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY NOT NULL, value VARCHAR NOT NULL)"))


# The `meta` row that says first-start seeding happened (core.seed).
SEEDED_KEY = "seeded_at"
# The `meta` row holding the retention applied at every start (core.store.prune).
RETENTION_KEY = "retention"

# PRAGMA application_id of llmwb files ("llmw"): tells an llmwb database from another
# program's SQLite file before anything is written to it.
APPLICATION_ID = 0x6C6C6D77


@migration(3)
def _run_owner(conn: Connection) -> None:
    from sqlalchemy import text

    # Who streams a run, so a run left `running` by a dead process can be told from a live one.
    # A fresh file got these columns from migration 1 (the table classes as they are now).
    columns = {row[1] for row in conn.execute(text("PRAGMA table_info(run)"))}
    if "owner_pid" not in columns:
        conn.execute(text("ALTER TABLE run ADD COLUMN owner_pid INTEGER"))
    if "owner_start" not in columns:
        conn.execute(text("ALTER TABLE run ADD COLUMN owner_start VARCHAR"))
    conn.execute(text("CREATE INDEX IF NOT EXISTS ix_run_running ON run (status) WHERE status = 'running'"))
    conn.execute(text(f"PRAGMA application_id = {APPLICATION_ID}"))


@migration(4)
def _group_position(conn: Connection) -> None:
    from sqlalchemy import text

    # A compare run's column, so a reopened comparison lays its columns out as they were:
    # columns started together get their `created_at` in whichever order their processes ran.
    columns = {row[1] for row in conn.execute(text("PRAGMA table_info(run)"))}
    if "group_position" not in columns:
        conn.execute(text("ALTER TABLE run ADD COLUMN group_position INTEGER"))


LATEST = max(MIGRATIONS)


def current_version(conn: Connection) -> int:
    from sqlalchemy import text

    return int(conn.execute(text("PRAGMA user_version")).scalar() or 0)


def upgrade(conn: Connection) -> int:
    """Apply every migration newer than the file; returns the resulting version."""
    from sqlalchemy import text

    version = current_version(conn)
    if version > LATEST:
        raise NewerSchema(version)
    for number in range(version + 1, LATEST + 1):
        MIGRATIONS[number](conn)
        conn.execute(text(f"PRAGMA user_version = {number}"))
    return LATEST
