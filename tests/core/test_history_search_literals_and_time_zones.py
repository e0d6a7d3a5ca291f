"""History search (core.store.history) as a user types it: a `%` is a literal character, a
word matches only itself (not a shorter piece of it), and a date is a local day wherever
the machine's clock is set — here Tokyo, nine hours ahead of the UTC the runs are stored in."""

from __future__ import annotations

import time
from datetime import date, datetime, timezone

import pytest

from core.store import Store
from core.store.history import find_runs, parse_query
from core.store.models import Run


def _add(store: Store, name: str, prompt: str, created: datetime | None = None) -> None:
    store.create_run(Run(model_config_name=name, provider="simulator", model="m", status="ok",
                         created_at=created or datetime.now(timezone.utc),
                         request={"messages": [{"role": "user", "content": prompt}]}))  # fmt: skip


def _found(store: Store, typed: str, today: date | None = None) -> list[str]:
    return sorted(run.model_config_name for run in find_runs(store, parse_query(typed, today=today)))


@pytest.fixture
def in_tokyo(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TZ", "JST-9")  # a POSIX zone: no tz database needed
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_percent_sign_is_searched_as_itself(store: Store) -> None:
    _add(store, "percent", "are you 100% sure")
    _add(store, "thousand", "write 1000 words")
    assert _found(store, "100%") == ["percent"]


def test_a_word_matches_only_itself_not_a_piece_of_it(store: Store) -> None:
    _add(store, "cat", "draw a cat")
    _add(store, "hat", "draw a hat")
    _add(store, "can", "draw a can")
    assert _found(store, "cat") == ["cat"]


def test_a_date_is_the_local_day_in_a_zone_ahead_of_utc(store: Store, in_tokyo) -> None:  # type: ignore[no-untyped-def]
    _add(store, "may-1-late", "x", datetime(2026, 5, 1, 14, 59, tzinfo=timezone.utc))  # 23:59 in Tokyo
    _add(store, "may-2-start", "x", datetime(2026, 5, 1, 15, 0, tzinfo=timezone.utc))  # 00:00 on 2 May in Tokyo
    _add(store, "may-2-end", "x", datetime(2026, 5, 2, 14, 59, tzinfo=timezone.utc))
    _add(store, "may-3-start", "x", datetime(2026, 5, 2, 15, 0, tzinfo=timezone.utc))
    assert _found(store, "date:2026-05-02") == ["may-2-end", "may-2-start"]
    assert _found(store, "until:2026-05-01") == ["may-1-late"]
