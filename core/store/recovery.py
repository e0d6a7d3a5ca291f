"""What a start does about runs an earlier process could not finish saving.

- A run whose save failed (the database locked for too long, a full disk) was written
  to `unsaved/<run id>.json` next to the database; the next start imports it.
- A run left `running` by a process that no longer exists (killed, crashed, machine
  off) is marked `error` with error_type `interrupted`, keeping whatever it saved.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from sqlalchemy import text, update
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlmodel import col

from core.paths import UNSAVED_DIR, ensure_private_dir, write_private
from core.store.models import Run, utcnow
from core.store.owner import is_alive

if TYPE_CHECKING:
    from core.store.db import Store

log = logging.getLogger("llmwb")

INTERRUPTED = "interrupted"  # the error_type word (core.providers.base.INTERRUPTED)


def unsaved_dir(store: Store) -> Path:
    return store.path.parent / UNSAVED_DIR


def keep_unsaved(store: Store, run: Run, frames: Sequence[tuple[float, str]]) -> Path:
    """Write a run the database would not take to a private JSON file; returns its path."""
    folder = unsaved_dir(store)
    ensure_private_dir(folder, "the unsaved-runs folder")
    path = folder / f"{run.id}.json"
    data = {"run": run.model_dump(mode="json"), "frames": [[offset, raw] for offset, raw in frames]}
    write_private(path, json.dumps(data, ensure_ascii=False))
    return path


def import_unsaved(store: Store) -> list[str]:
    """Save every run kept in `unsaved/` and delete its file; returns their ids. A file
    that cannot be read, or whose run the database refuses, is left in place (and logged)
    for a person to look at."""
    folder = unsaved_dir(store)
    if not folder.is_dir():
        return []
    imported = []
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            run = _run_from_json(data["run"])
            frames = [(float(offset), str(raw)) for offset, raw in data.get("frames") or []]
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.warning("cannot import the unsaved run %s: %s", path, error)
            continue
        try:
            store.write_finished_run(run, frames)
        except OperationalError:
            raise  # a lock or a full disk: the whole import waits for the next start (Store.recover)
        except SQLAlchemyError as error:  # a row the schema refuses: saving it again would fail at every start
            log.warning("cannot import the unsaved run %s: %s", path, getattr(error, "orig", None) or error)
            continue
        path.unlink(missing_ok=True)
        imported.append(run.id)
        log.info("run %s: imported from %s", run.id, path)
    return imported


def _run_from_json(data: dict[str, Any]) -> Run:
    values = dict(data)
    for key in ("created_at", "finished_at"):
        if isinstance(values.get(key), str):
            values[key] = datetime.fromisoformat(values[key])
    known = set(Run.model_fields)
    return Run(**{key: value for key, value in values.items() if key in known})


def sweep_interrupted(store: Store) -> list[str]:
    """Mark `running` rows whose process is gone as interrupted; returns their ids."""
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, owner_pid, owner_start FROM run WHERE status = 'running'")).all()
    dead = [(run_id, pid) for run_id, pid, marker in rows if not is_alive(pid, marker)]
    if not dead:
        return []
    now = utcnow()
    with store.engine.begin() as conn:
        for run_id, pid in dead:
            who = f"the llmwb process (pid {pid})" if pid else "the llmwb process"
            conn.execute(
                update(Run)
                .where(col(Run.id) == run_id, col(Run.status) == "running")
                .values(
                    status="error",
                    error_type=INTERRUPTED,
                    error=f"interrupted: {who} ended before the run finished; what it saved is kept",
                    finished_at=now,
                )
            )
    for run_id, _ in dead:
        log.info("run %s: marked interrupted (its process is gone)", run_id)
    return [run_id for run_id, _ in dead]
