"""Retention: deleting old runs (with their wire frames) by age, count or size.

A long stream keeps tens of thousands of frames, so the database grows with use.
`prune` deletes whole runs, oldest first, never one still running; the space goes
back to SQLite's free list, and to the file system only with `vacuum` (which
rewrites the file and needs as much free disk again).

A saved retention (`Retention`, in the `meta` table) is applied at every start.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from core.store.migrations import RETENTION_KEY
from core.store.models import utcnow

if TYPE_CHECKING:
    from core.store.db import Store

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?)b?\s*$", re.IGNORECASE)
_MAX_DAYS = 365 * 1000
# What a frame row costs beyond its text (row header, run id, seq, offset): an estimate.
_FRAME_OVERHEAD = 40


def parse_age(value: str) -> timedelta:
    """'30d', '12h', '2w', '90m', '45s' → timedelta; ValueError when not one of those."""
    match = _AGE.match(value)
    if not match:
        raise ValueError(f"{value!r} is not an age such as 30d, 12h, 2w")
    seconds = float(match.group(1)) * _AGE_UNITS[match.group(2).lower()]
    if seconds > _MAX_DAYS * 86400:
        raise ValueError(f"{value!r} is longer than {_MAX_DAYS // 365} years")
    return timedelta(seconds=seconds)


def parse_size(value: str) -> int:
    """'500MB', '2GB', '1.5g', '800k', '1GiB' → bytes; ValueError otherwise."""
    match = _SIZE.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a size such as 500MB or 2GB")
    number, unit, binary = match.groups()
    scale = ((1024 if binary else 1000) ** ("kmgt".index(unit.lower()) + 1)) if unit else 1
    size = float(number) * scale
    if size > 1000**5:
        raise ValueError(f"{value!r} is too large")
    return int(size)


@dataclass
class Retention:
    """What to keep: runs younger than `max_age_s`, the newest `keep` runs, and runs
    within `max_bytes` (newest first). None: no limit of that kind."""

    max_age_s: float | None = None
    keep: int | None = None
    max_bytes: int | None = None

    @property
    def empty(self) -> bool:
        return self.max_age_s is None and self.keep is None and self.max_bytes is None

    def describe(self) -> str:
        parts = []
        if self.max_age_s is not None:
            parts.append(f"runs younger than {_fmt_age(self.max_age_s)}")
        if self.keep is not None:
            parts.append(f"the newest {self.keep} runs")
        if self.max_bytes is not None:
            parts.append(f"at most {_fmt_size(self.max_bytes)} of runs")
        return "keep " + ", ".join(parts) if parts else "keep every run"


@dataclass
class PruneReport:
    runs: int = 0
    frames: int = 0
    bytes_before: int = 0
    bytes_after: int = 0

    def summary(self) -> str:
        text = f"deleted {self.runs} runs ({self.frames} wire frames)"
        return text + f"; file {_fmt_size(self.bytes_before)} → {_fmt_size(self.bytes_after)}"


def prune(store: Store, retention: Retention, *, vacuum: bool = False, dry_run: bool = False) -> PruneReport:
    report = PruneReport(bytes_before=file_bytes(store))
    doomed = _doomed(store, retention)
    if doomed and not dry_run:
        with store.engine.begin() as conn:
            conn.execute(text("CREATE TEMP TABLE IF NOT EXISTS prune_ids (id VARCHAR PRIMARY KEY)"))
            conn.execute(text("DELETE FROM prune_ids"))
            conn.execute(text("INSERT INTO prune_ids (id) VALUES (:id)"), [{"id": run_id} for run_id in doomed])
            report.frames = conn.execute(
                text("DELETE FROM run_frame WHERE run_id IN (SELECT id FROM prune_ids)")
            ).rowcount
            report.runs = conn.execute(text("DELETE FROM run WHERE id IN (SELECT id FROM prune_ids)")).rowcount
            conn.execute(text("DROP TABLE prune_ids"))
    elif doomed:
        report.runs = len(doomed)
    if vacuum and not dry_run:
        with store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute(text("VACUUM"))
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    report.bytes_after = file_bytes(store)
    return report


def apply_retention(store: Store) -> None:
    """Prune by the retention saved with `llmwb history retention` (none by default)."""
    retention = load_retention(store)
    if not retention.empty:
        prune(store, retention)


def _doomed(store: Store, retention: Retention) -> list[str]:
    """Ids of the finished runs the retention does not keep."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, created_at, length(request) + length(response) + length(metrics)"
                " + coalesce(length(error), 0) FROM run WHERE status != 'running' ORDER BY created_at DESC"
            )
        ).all()
        frame_bytes: dict[str, int] = {}
        if retention.max_bytes is not None:
            frame_bytes = dict(
                conn.execute(
                    text(f"SELECT run_id, sum(length(data)) + count(*) * {_FRAME_OVERHEAD} FROM run_frame GROUP BY run_id")
                ).all()
            )
    cutoff = None
    if retention.max_age_s is not None:
        cutoff = (utcnow() - timedelta(seconds=retention.max_age_s)).replace(tzinfo=None)
    doomed: list[str] = []
    total = 0
    for index, (run_id, created_at, row_bytes) in enumerate(rows):
        total += int(row_bytes or 0) + frame_bytes.get(run_id, 0)
        too_old = cutoff is not None and _as_datetime(created_at) < cutoff
        too_many = retention.keep is not None and index >= retention.keep
        too_big = retention.max_bytes is not None and total > retention.max_bytes
        if too_old or too_many or too_big:
            doomed.append(run_id)
    return doomed


def _as_datetime(value: Any) -> Any:
    from datetime import datetime

    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("T", " ")[:26])
    return value.replace(tzinfo=None) if value.tzinfo else value


def file_bytes(store: Store) -> int:
    total = 0
    for suffix in ("", "-wal"):
        try:
            total += store.path.with_name(store.path.name + suffix).stat().st_size
        except OSError:
            pass
    return total


def load_retention(store: Store) -> Retention:
    with store.engine.connect() as conn:
        row = conn.execute(text("SELECT value FROM meta WHERE key = :key"), {"key": RETENTION_KEY}).first()
    if row is None:
        return Retention()
    try:
        data = json.loads(row[0])
        return Retention(**{key: data.get(key) for key in ("max_age_s", "keep", "max_bytes")})
    except (ValueError, TypeError, AttributeError):
        return Retention()


def save_retention(store: Store, retention: Retention) -> None:
    with store.engine.begin() as conn:
        if retention.empty:
            conn.execute(text("DELETE FROM meta WHERE key = :key"), {"key": RETENTION_KEY})
        else:
            conn.execute(
                text("INSERT OR REPLACE INTO meta (key, value) VALUES (:key, :value)"),
                {"key": RETENTION_KEY, "value": json.dumps(asdict(retention))},
            )


def _fmt_age(seconds: float) -> str:
    for unit, size in (("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def _fmt_size(size: int) -> str:
    for unit, scale in (("GB", 1000**3), ("MB", 1000**2), ("kB", 1000)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"
