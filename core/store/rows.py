"""A run's row as the runner builds it: the `run` table's columns in a plain dataclass.

The runner needs its row before (and whether or not) anything is saved, and the
`Run` table class loads SQLAlchemy and SQLModel, ~40% of a 20,000-chunk `llmwb run`
(bench/core_overhead.py). Both stores take a `RunRow`: the SQLModel `Store` turns it
into a `Run`, the `sqlite3` one (core.store.lite) writes its fields as they are.
`Run` stays the schema's definition; tests hold these fields equal to its columns.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from typing import Any, Optional

from core.store.owner import current_owner


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


def _owner_pid() -> Optional[int]:
    return current_owner()[0]


def _owner_start() -> Optional[str]:
    return current_owner()[1]


@dataclass
class RunRow:
    """`core.store.models.Run`'s columns, in its order, with its defaults."""

    id: str = field(default_factory=new_run_id)
    created_at: datetime = field(default_factory=utcnow)
    finished_at: Optional[datetime] = None
    model_config_name: str = ""
    provider: str = ""
    model: str = ""
    stream: bool = True
    status: str = "running"
    error: Optional[str] = None
    error_type: Optional[str] = None
    http_status: Optional[int] = None
    request: dict[str, Any] = field(default_factory=dict)
    response: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    group_id: Optional[str] = None
    parent_run_id: Optional[str] = None
    owner_pid: Optional[int] = field(default_factory=_owner_pid)
    owner_start: Optional[str] = field(default_factory=_owner_start)
    group_position: Optional[int] = None

    def values(self) -> dict[str, Any]:
        """Column name → value (the dicts themselves, not copies)."""
        return {column.name: getattr(self, column.name) for column in fields(self)}


COLUMNS = tuple(column.name for column in fields(RunRow))
