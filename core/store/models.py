"""SQLModel tables. Schema changes go through `core.store.migrations`, never here alone.

A `ModelConfig` names the environment variable holding its key; no key value is
ever a column.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from core.store import kinds
from core.store.kinds import KEYLESS_KINDS, LOCAL_BASE_URLS, PROVIDER_KINDS  # noqa: F401  (imported from here too)
from core.store.owner import current_owner
from core.store.rows import new_run_id, utcnow  # noqa: F401  (imported from here too)


class ModelConfig(SQLModel, table=True):
    __tablename__ = "model_config"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True)
    provider: str
    model: str
    base_url: Optional[str] = None
    api_key_env: Optional[str] = None
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    price_input: float = 0.0  # USD per million tokens
    price_cached_input: Optional[float] = None  # None: same as price_input
    price_output: float = 0.0
    timeout: Optional[float] = None  # seconds; replaces the SDKs' connect and read timeouts
    created_at: datetime = Field(default_factory=utcnow)

    def key_status(self) -> str:
        """'not needed', 'set' or 'missing' — never the key itself."""
        return kinds.key_status(self.provider, self.api_key_env)

    def effective_base_url(self) -> Optional[str]:
        return kinds.effective_base_url(self.provider, self.base_url)


class ToolDefinition(SQLModel, table=True):
    __tablename__ = "tool_definition"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True)
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    canned_result: Optional[str] = None
    created_at: datetime = Field(default_factory=utcnow)


class Run(SQLModel, table=True):
    """A run's row. The runner builds a `core.store.rows.RunRow` (the same columns,
    without SQLModel); both stores take either."""

    __tablename__ = "run"

    id: str = Field(default_factory=new_run_id, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    finished_at: Optional[datetime] = None
    model_config_name: str = Field(index=True)
    provider: str
    model: str
    stream: bool = True
    status: str = "running"  # running | ok | error | cancelled (error_type `interrupted`: its process died)
    error: Optional[str] = None
    error_type: Optional[str] = None
    http_status: Optional[int] = None
    request: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    response: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    group_id: Optional[str] = Field(default=None, index=True)  # compare runs share one
    parent_run_id: Optional[str] = None  # a tool-result continuation points at its first turn
    # The process streaming the run (migration 3): a `running` row whose process is gone
    # is marked interrupted on the next start (core.store.recovery).
    owner_pid: Optional[int] = Field(default_factory=lambda: current_owner()[0])
    owner_start: Optional[str] = Field(default_factory=lambda: current_owner()[1])
    # Its column in a comparison, from 0 (migration 4; None outside one, and in older files).
    group_position: Optional[int] = None


class RunFrame(SQLModel, table=True):
    """One raw wire frame of a run, with its arrival offset from t0."""

    __tablename__ = "run_frame"

    run_id: str = Field(primary_key=True, foreign_key="run.id")
    seq: int = Field(primary_key=True)
    offset_ms: float
    data: str
