"""Numbered schema migrations, applied in order; the version lives in `PRAGMA user_version`.

A newer app opens an older file and upgrades it in place. Add a migration as the
next number; never edit one that has shipped.
"""

from __future__ import annotations

from typing import Callable

from sqlalchemy import Connection, text

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
    # Small facts about the file itself, e.g. that first-start seeding already happened
    # (so models a user deleted are not put back).
    conn.execute(text("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY NOT NULL, value VARCHAR NOT NULL)"))


LATEST = max(MIGRATIONS)


def current_version(conn: Connection) -> int:
    return int(conn.execute(text("PRAGMA user_version")).scalar() or 0)


def upgrade(conn: Connection) -> int:
    """Apply every migration newer than the file; returns the resulting version."""
    version = current_version(conn)
    if version > LATEST:
        raise RuntimeError(
            f"the database is schema version {version}, newer than this llmwb understands ({LATEST}); upgrade llmwb"
        )
    for number in range(version + 1, LATEST + 1):
        MIGRATIONS[number](conn)
        conn.execute(text(f"PRAGMA user_version = {number}"))
    return LATEST
