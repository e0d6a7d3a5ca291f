"""Finding runs in the history: a filter (text, model, status, mode, dates), pages, delete.

Kept apart from `Store` so the UI's history screen and the CLI share one query. The
text matches the request and the response as stored (JSON text): a search is also
tried in its JSON-escaped form, so non-ASCII words ("東京") are found either way.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import String, cast, delete, func, or_
from sqlmodel import col, select

from core.store.models import Run, RunFrame

STATUSES = ("ok", "error", "cancelled", "running")
_FIELD = re.compile(r"(\w+):(\S+)")


class QueryError(ValueError):
    """A filter that cannot be understood (an unknown field, a date that is not one)."""


@dataclass(frozen=True)
class RunQuery:
    text: str = ""  # words anywhere in the prompt or the output
    model: str | None = None  # model config name (a substring)
    status: str | None = None  # ok | error | cancelled | running, or an error type (rate_limit…)
    stream: bool | None = None
    since: date | None = None  # local dates, inclusive
    until: date | None = None
    words: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.text or self.model or self.status or self.stream is not None or self.since or self.until)


def parse_query(text: str, today: date | None = None) -> RunQuery:
    """`tokyo model:demo status:error mode:non-stream since:2026-11-01 until:today` — the
    free words search prompt and output; `date:` is one day; dates take YYYY-MM-DD,
    `today` or `yesterday`."""
    today = today or datetime.now().astimezone().date()
    values: dict[str, Any] = {}
    for name, value in _FIELD.findall(text):
        name = name.lower()
        if name == "model":
            values["model"] = value
        elif name == "status":
            values["status"] = value.lower()
        elif name in ("mode", "stream"):
            values["stream"] = _mode(value)
        elif name in ("since", "from", "after"):
            values["since"] = _date(value, today)
        elif name in ("until", "to", "before"):
            values["until"] = _date(value, today)
        elif name in ("date", "on", "day"):
            values["since"] = values["until"] = _date(value, today)
        else:
            raise QueryError(f"unknown filter {name}: (known: model: status: mode: since: until: date:)")
    free = " ".join(_FIELD.sub(" ", text).split())
    return RunQuery(text=free, words=free.split(), **values)


def _mode(value: str) -> bool:
    word = value.lower()
    if word in ("stream", "streamed", "streaming", "yes", "true", "on"):
        return True
    if word in ("non-stream", "nonstream", "no-stream", "whole", "no", "false", "off"):
        return False
    raise QueryError(f"mode:{value}? use mode:stream or mode:non-stream")


def _date(value: str, today: date) -> date:
    word = value.lower()
    if word == "today":
        return today
    if word == "yesterday":
        return today - timedelta(days=1)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise QueryError(f"{value!r} is not a date: YYYY-MM-DD, today or yesterday") from None


def _local_midnight_utc(day: date) -> datetime:
    """The UTC moment a local day starts (runs are stored in UTC, people think in local days)."""
    local = datetime.combine(day, time.min).astimezone()
    return local.astimezone(timezone.utc)


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _conditions(query: RunQuery) -> list[Any]:
    conditions: list[Any] = []
    for word in query.words:
        forms = {word, json.dumps(word)[1:-1]}  # as typed, and as the JSON column stores it
        conditions.append(
            or_(*[
                column.like(_like(form), escape="\\")
                for form in forms
                for column in (cast(Run.request, String), cast(Run.response, String))
            ])
        )  # fmt: skip
    if query.model:
        conditions.append(col(Run.model_config_name).like(_like(query.model), escape="\\"))
    if query.status:
        if query.status in STATUSES:
            conditions.append(Run.status == query.status)
        else:  # an error type: rate_limit, auth, stream_cut…
            conditions.append(Run.error_type == query.status)
    if query.stream is not None:
        conditions.append(Run.stream == query.stream)
    if query.since:
        conditions.append(col(Run.created_at) >= _local_midnight_utc(query.since))
    if query.until:
        conditions.append(col(Run.created_at) < _local_midnight_utc(query.until + timedelta(days=1)))
    return conditions


def find_runs(store: Any, query: RunQuery, *, offset: int = 0, limit: int = 50) -> list[Run]:
    """One page of matching runs, newest first."""
    with store.session() as s:
        statement = select(Run).where(*_conditions(query)).order_by(col(Run.created_at).desc())
        return list(s.exec(statement.offset(offset).limit(limit)))


def count_runs(store: Any, query: RunQuery) -> int:
    with store.session() as s:
        return int(s.exec(select(func.count()).select_from(Run).where(*_conditions(query))).one())


def delete_run(store: Any, run_id: str) -> bool:
    """Delete a run and its wire frames. Its later tool turns keep their own rows."""
    with store.session() as s:
        s.exec(delete(RunFrame).where(col(RunFrame.run_id) == run_id))  # type: ignore[call-overload]
        deleted = s.exec(delete(Run).where(col(Run.id) == run_id))  # type: ignore[call-overload]
        s.commit()
        return bool(deleted.rowcount)
