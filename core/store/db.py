"""The store: one SQLite file (WAL) under the user data dir, or `$LLMWB_HOME`.

Plain methods, no ORM sessions leaking out: every call opens a short session so
the store can be used from a worker thread as well as the event loop.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from sqlalchemy import event
from sqlmodel import Session, col, create_engine, delete, select, update

from core.paths import data_dir
from core.store import migrations
from core.store.models import ModelConfig, Run, RunFrame, ToolDefinition, utcnow


def default_db_path() -> Path:
    return data_dir() / "llmwb.db"


class Store:
    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path else default_db_path()
        self.engine = create_engine(
            f"sqlite:///{self.path}", connect_args={"check_same_thread": False, "timeout": 30}
        )
        event.listen(self.engine, "connect", _configure_connection)
        with self.engine.begin() as conn:
            migrations.upgrade(conn)

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    # model configs ------------------------------------------------------------
    def list_configs(self) -> list[ModelConfig]:
        with self.session() as s:
            return list(s.exec(select(ModelConfig).order_by(ModelConfig.name)))

    def get_config(self, name: str) -> ModelConfig | None:
        with self.session() as s:
            return s.exec(select(ModelConfig).where(ModelConfig.name == name)).first()

    def save_config(self, config: ModelConfig) -> ModelConfig:
        """Insert, or update the row with the same id (renames included)."""
        with self.session() as s:
            merged = s.merge(config)
            s.commit()
            s.refresh(merged)
            return merged

    def remove_config(self, name: str) -> bool:
        with self.session() as s:
            row = s.exec(select(ModelConfig).where(ModelConfig.name == name)).first()
            if row is None:
                return False
            s.delete(row)
            s.commit()
            return True

    # tool definitions ---------------------------------------------------------
    def list_tools(self) -> list[ToolDefinition]:
        with self.session() as s:
            return list(s.exec(select(ToolDefinition).order_by(ToolDefinition.name)))

    def get_tool(self, name: str) -> ToolDefinition | None:
        with self.session() as s:
            return s.exec(select(ToolDefinition).where(ToolDefinition.name == name)).first()

    def save_tool(self, tool: ToolDefinition) -> ToolDefinition:
        with self.session() as s:
            merged = s.merge(tool)
            s.commit()
            s.refresh(merged)
            return merged

    def remove_tool(self, name: str) -> bool:
        with self.session() as s:
            row = s.exec(select(ToolDefinition).where(ToolDefinition.name == name)).first()
            if row is None:
                return False
            s.delete(row)
            s.commit()
            return True

    # runs ---------------------------------------------------------------------
    def create_run(self, run: Run) -> None:
        with self.session() as s:
            s.add(run)
            s.commit()

    def finish_run(self, run: Run, frames: Sequence[tuple[float, str]], *, saved: int = 0) -> None:
        """Record the outcome and the wire frames in one transaction; the first `saved`
        frames are already in (written by `checkpoint_run`)."""
        run.finished_at = run.finished_at or utcnow()
        with self.session() as s:
            s.merge(run)
            s.exec(delete(RunFrame).where(col(RunFrame.run_id) == run.id, col(RunFrame.seq) >= saved))
            _insert_frames(s, run.id, saved, frames[saved:])
            s.commit()

    def checkpoint_run(
        self, run_id: str, response: dict[str, Any], first_seq: int, frames: Sequence[tuple[float, str]]
    ) -> bool:
        """While a run streams: its partial response and the frames from `first_seq` on,
        so a process killed mid-run leaves the row holding what streamed. A row that is
        no longer `running` (saved meanwhile), or not there, is left alone: False."""
        with self.session() as s:
            result = s.exec(
                update(Run).where(col(Run.id) == run_id, col(Run.status) == "running").values(response=response)
            )
            written = bool(result.rowcount)
            if written:
                _insert_frames(s, run_id, first_seq, frames)
            s.commit()
            return written

    def list_runs(self, limit: int = 50, *, group_id: str | None = None) -> list[Run]:
        with self.session() as s:
            query = select(Run).order_by(col(Run.created_at).desc()).limit(limit)
            if group_id:
                query = query.where(Run.group_id == group_id)
            return list(s.exec(query))

    def get_run(self, run_id: str) -> Run | None:
        with self.session() as s:
            return s.get(Run, run_id)

    def get_frames(self, run_id: str) -> list[RunFrame]:
        with self.session() as s:
            return list(s.exec(select(RunFrame).where(RunFrame.run_id == run_id).order_by(RunFrame.seq)))

    def runs_in_group(self, group_id: str) -> list[Run]:
        with self.session() as s:
            return list(s.exec(select(Run).where(Run.group_id == group_id).order_by(col(Run.created_at))))



def _insert_frames(session: Session, run_id: str, first_seq: int, frames: Sequence[tuple[float, str]]) -> None:
    if not frames:
        return
    # The driver's executemany on plain tuples: ~10x faster than the ORM's insert for
    # the tens of thousands of frames a long stream has.
    session.connection().exec_driver_sql(
        f"INSERT INTO {RunFrame.__tablename__} (run_id, seq, offset_ms, data) VALUES (?, ?, ?, ?)",
        [(run_id, seq, offset_ms, data) for seq, (offset_ms, data) in enumerate(frames, first_seq)],
    )


def _configure_connection(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
