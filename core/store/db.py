"""The store: one SQLite file (WAL) under the user data dir, or `$LLMWB_HOME`.

Plain methods, no ORM sessions leaking out: every call opens a short session so
the store can be used from a worker thread as well as the event loop.

Opening is careful: a file that is not llmwb's, or is newer, is refused untouched
(core.store.safety); the file is private (0600); migrations run under one write
lock, so processes starting together on a fresh data dir do not race; runs an
earlier process could not finish are recovered (core.store.recovery).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, NoReturn, Sequence

from sqlalchemy import event
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlmodel import Session, col, create_engine, delete, select, update

from core.paths import DB_FILE, DataDirError, data_dir, private_file, tighten_file
from core.store import migrations, recovery
from core.store.lite import lock_wait_from_env, save_waiting_for_locks
from core.store.models import ModelConfig, Run, RunFrame, ToolDefinition, utcnow
from core.store.rows import RunRow
from core.store.safety import IDENTITY_QUERY, check_existing, dumps_finite, identity_of, judge_identity

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

log = logging.getLogger("llmwb")


def default_db_path() -> Path:
    return data_dir() / DB_FILE


class DuplicateName(Exception):
    """A config or tool name that another one (perhaps saved a moment ago elsewhere) has."""


class SaveFailed(Exception):
    """A run could not be written; its data is in a fallback file (the message says where)."""


class Store:
    def __init__(self, path: Path | str | None = None, *, lock_wait: float | None = None) -> None:
        self.path = Path(path) if path else default_db_path()
        self.lock_wait = lock_wait if lock_wait is not None else lock_wait_from_env()
        self.notices: list[str] = []  # things a user should hear about the file (WAL off)
        self.unsaved: dict[str, str] = {}  # run id -> why it is not in the database, and where it is
        # Called from whichever thread saves: a save waiting on a lock, a save given up.
        self.on_wait: Callable[[str], None] | None = None
        self.on_save_failed: Callable[[str, str], None] | None = None
        # Until the file is known to be llmwb's (or new), a connection does not switch it to
        # WAL: that mode is written into the file, and it may be another program's.
        self._identity_known = check_existing(self.path, self.lock_wait)
        # Created 0600 (SQLite gives its -wal and -shm files the same mode); an existing file
        # is tightened by name, never opened: closing a descriptor of it would drop the locks
        # this process's open connections hold on it (see core.store.safety.check_existing).
        if self.path.exists():
            tighten_file(self.path)
        else:
            private_file(self.path)
        for suffix in ("-wal", "-shm"):
            tighten_file(self.path.with_name(self.path.name + suffix))
        self.engine = create_engine(
            f"sqlite:///{self.path}",
            connect_args={"check_same_thread": False, "timeout": self.lock_wait},
            json_serializer=dumps_finite,
        )
        event.listen(self.engine, "connect", self._configure_connection)
        self._migrate()
        self.recover()

    def _migrate(self) -> None:
        with self.engine.connect() as conn:
            if not self._identity_known:
                self._judge(conn)
            if migrations.current_version(conn) != migrations.LATEST:
                # One writer at a time from here, re-reading the version under the lock: a
                # process that waited finds the schema made and does nothing.
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                version = migrations.current_version(conn)
                if version == 0:
                    # Nothing of llmwb's in it yet: judged again now that this process holds
                    # it, so no tables of another program's get llmwb's written beside them.
                    self._judge(conn)
                migrations.upgrade(conn)
                conn.commit()
            if not self._identity_known:
                self._identity_known = True
                self._use_wal(conn.connection.dbapi_connection)

    def _judge(self, conn: Connection) -> None:
        judge_identity(self.path, *identity_of(conn.exec_driver_sql(IDENTITY_QUERY).one()))

    def recover(self) -> None:
        """Import runs kept in `unsaved/`, then mark runs orphaned by a dead process as
        interrupted. A locked database only postpones this to the next start."""
        try:
            recovery.import_unsaved(self)
            recovery.sweep_interrupted(self)
        except OperationalError as error:
            log.warning("recovering unfinished runs postponed: %s", error)

    def _configure_connection(self, dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        if self._identity_known:
            self._use_wal(dbapi_connection)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    def _use_wal(self, dbapi_connection) -> None:  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        mode = cursor.execute("PRAGMA journal_mode=WAL").fetchone()
        cursor.close()
        if mode and str(mode[0]).lower() != "wal" and not self.notices:
            notice = f"the database is not in WAL mode (journal_mode={mode[0]}): runs may wait on each other"
            self.notices.append(notice)
            log.warning("%s: %s", self.path, notice)

    def close(self) -> None:
        """Close the pooled connections (the last one to close folds the WAL into the file)."""
        self.engine.dispose()

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
        """Insert, or update the row with the same id (renames included). DuplicateName
        when another config has the name (also one another process saved meanwhile)."""
        with self.session() as s:
            merged = s.merge(config)
            _commit_unique(s, f"a model named {config.name!r} already exists")
            s.refresh(merged)
            return merged

    def import_all(self, configs: Sequence[ModelConfig], tools: Sequence[ToolDefinition]) -> tuple[int, int]:
        """Upsert configs and tools by name in ONE transaction: all saved, or none.
        Returns (configs added, tools added); the rest were updates."""
        added_configs = added_tools = 0
        # No autoflush: a lookup would otherwise flush the entries before it, and a name
        # another process saved meanwhile would fail there, not as DuplicateName at the commit.
        with self.session() as s, s.no_autoflush:
            for config in configs:
                existing = s.exec(select(ModelConfig).where(ModelConfig.name == config.name)).first()
                if existing is None:
                    added_configs += 1
                else:
                    config.id, config.created_at = existing.id, existing.created_at
                s.merge(config)
            for tool in tools:
                existing_tool = s.exec(select(ToolDefinition).where(ToolDefinition.name == tool.name)).first()
                if existing_tool is None:
                    added_tools += 1
                else:
                    tool.id, tool.created_at = existing_tool.id, existing_tool.created_at
                s.merge(tool)
            _commit_unique(s, "a name in the file was added elsewhere meanwhile; run the import again")
        return added_configs, added_tools

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
            _commit_unique(s, f"a tool named {tool.name!r} already exists")
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
    def create_run(self, run: Run | RunRow) -> None:
        with self.session() as s:
            s.add(table_row(run))
            s.commit()

    def finish_run(self, run: Run | RunRow, frames: Sequence[tuple[float, str]], *, saved: int = 0) -> None:
        """Record the outcome and the wire frames in one transaction; the first `saved`
        frames are already in (written by `checkpoint_run`). A lock held elsewhere is
        waited for (`on_wait` hears about it) up to SAVE_ATTEMPTS lock waits; if the save
        still fails, the run goes to `unsaved/` (imported at the next start),
        `on_save_failed` hears why, and SaveFailed is raised."""
        run.finished_at = run.finished_at or utcnow()
        error = save_waiting_for_locks(self, run, frames, saved, OperationalError, SQLAlchemyError, _is_busy)
        if error is not None:
            keep_unsaved(self, run, frames, error)

    def write_finished_run(self, run: Run | RunRow, frames: Sequence[tuple[float, str]], *, saved: int = 0) -> None:
        """The row and its frames from `saved` on, in one transaction (no retries: see finish_run)."""
        with self.session() as s:
            s.merge(table_row(run))
            s.exec(delete(RunFrame).where(col(RunFrame.run_id) == run.id, col(RunFrame.seq) >= saved))
            _insert_frames(s, run.id, saved, frames[saved:])
            s.commit()

    def note_cancel_reason(self, run_id: str, reason: str) -> None:
        """Say why a cancelled run was cancelled (a signal, not the user's key)."""
        with self.session() as s:
            run = s.get(Run, run_id)
            if run is not None and run.status == "cancelled":
                run.error = reason
                s.add(run)
                s.commit()

    def running_run_ids(self, owner_pid: int) -> list[str]:
        """The runs a process is streaming now (as far as the file knows)."""
        with self.session() as s:
            query = select(Run.id).where(Run.status == "running", Run.owner_pid == owner_pid)
            return list(s.exec(query))

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


def table_row(run: Run | RunRow) -> Run:
    return run if isinstance(run, Run) else Run(**run.values())


def keep_unsaved(
    store: Any, run: Run | RunRow, frames: Sequence[tuple[float, str]], error: Exception | None
) -> NoReturn:
    """A save given up: the run goes to `unsaved/` (imported at the next start), the
    store's `unsaved` and `on_save_failed` hear why, and SaveFailed is raised. `store`
    is this module's `Store` or core.store.lite's, which ends its saves here too."""
    reason = str(getattr(error, "orig", None) or error)
    try:
        path = recovery.keep_unsaved(store, table_row(run), frames)
    except (OSError, ValueError, DataDirError) as kept_error:  # DataDirError: no unsaved/ folder
        message = f"could not save run {run.id} ({reason}), nor keep it in a file ({kept_error}): it is lost"
    else:
        message = f"could not save run {run.id} ({reason}); kept in {path}, saved at the next start"
    log.error(message)
    store.unsaved[run.id] = message
    if store.on_save_failed is not None:
        store.on_save_failed(run.id, message)
    raise SaveFailed(message)


def _is_busy(error: OperationalError) -> bool:
    text = str(error.orig or error).lower()
    return "locked" in text or "busy" in text


def _commit_unique(session: Session, message: str) -> None:
    """Commit; a UNIQUE violation (two `models add` of one name racing) becomes DuplicateName."""
    try:
        session.commit()
    except IntegrityError as error:
        session.rollback()
        if "UNIQUE" in str(error.orig):
            raise DuplicateName(message) from None
        raise


def _insert_frames(session: Session, run_id: str, first_seq: int, frames: Sequence[tuple[float, str]]) -> None:
    if not frames:
        return
    # The driver's executemany on plain tuples: ~10x faster than the ORM's insert for
    # the tens of thousands of frames a long stream has.
    session.connection().exec_driver_sql(
        f"INSERT INTO {RunFrame.__tablename__} (run_id, seq, offset_ms, data) VALUES (?, ?, ?, ?)",
        [(run_id, seq, offset_ms, data) for seq, (offset_ms, data) in enumerate(frames, first_seq)],
    )

