"""SQLite storage: model configs, tool definitions, runs and their wire frames.

`Store` and friends load SQLAlchemy (~0.1–0.2 s) on first use, not when the package
is imported: `core.store.kinds` and `core.store.peek` serve commands that only read
model configs without it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.store.db import Store, data_dir, default_db_path

__all__ = ["Store", "data_dir", "default_db_path"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from core.store import db

        return getattr(db, name)
    raise AttributeError(f"module 'core.store' has no attribute {name!r}")
