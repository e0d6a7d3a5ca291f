"""The history filter's words as a user types them: every alias of a field, the mode words,
dates (and `today`/`yesterday`), case, the free words left over, and what a bad one says."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from core.store import Store
from core.store.history import QueryError, RunQuery, count_runs, find_runs, parse_query
from core.store.models import Run

TODAY = date(2026, 11, 25)


@pytest.mark.parametrize("typed, fields", [
    ("model:demo", {"model": "demo"}),
    ("MODEL:Demo-Fast", {"model": "Demo-Fast"}),
    ("status:ERROR", {"status": "error"}),
    ("status:rate_limit", {"status": "rate_limit"}),
    ("since:2026-11-01", {"since": date(2026, 11, 1)}),
    ("from:2026-11-01", {"since": date(2026, 11, 1)}),
    ("after:today", {"since": TODAY}),
    ("until:2026-11-02", {"until": date(2026, 11, 2)}),
    ("to:yesterday", {"until": date(2026, 11, 24)}),
    ("before:TODAY", {"until": TODAY}),
    ("date:2026-10-31", {"since": date(2026, 10, 31), "until": date(2026, 10, 31)}),
    ("on:yesterday", {"since": date(2026, 11, 24), "until": date(2026, 11, 24)}),
    ("day:Yesterday", {"since": date(2026, 11, 24), "until": date(2026, 11, 24)}),
])  # fmt: skip
def test_each_field_and_its_aliases(typed, fields):
    assert parse_query(typed, today=TODAY) == RunQuery(**fields)


@pytest.mark.parametrize("word", ["stream", "streamed", "streaming", "yes", "true", "on", "STREAM"])
def test_the_words_for_streamed(word):
    assert parse_query(f"mode:{word}").stream is True
    assert parse_query(f"stream:{word}").stream is True


@pytest.mark.parametrize("word", ["non-stream", "nonstream", "no-stream", "whole", "no", "false", "off", "Whole"])
def test_the_words_for_not_streamed(word):
    assert parse_query(f"mode:{word}").stream is False


def test_free_words_are_what_is_left_once_the_fields_are_taken():
    query = parse_query("  weather  model:demo in   東京 status:ok ", today=TODAY)
    assert (query.text, query.words, query.model, query.status) == ("weather in 東京", ["weather", "in", "東京"], "demo", "ok")
    assert not query.empty


@pytest.mark.parametrize("typed", ["tokyo", "model:x", "status:ok", "mode:whole", "since:today", "until:today"])
def test_any_one_filter_makes_a_query_not_empty(typed):
    assert not parse_query(typed, today=TODAY).empty


def test_nothing_typed_is_the_empty_query():
    assert parse_query("   ").empty and parse_query("") == RunQuery()


@pytest.mark.parametrize("typed, message", [
    ("colour:red", "unknown filter colour: (known: model: status: mode: since: until: date:)"),
    ("Colour:red", "unknown filter colour: (known: model: status: mode: since: until: date:)"),
    ("mode:sometimes", "mode:sometimes? use mode:stream or mode:non-stream"),
    ("since:someday", "'someday' is not a date: YYYY-MM-DD, today or yesterday"),
    ("date:2026-13-01", "'2026-13-01' is not a date: YYYY-MM-DD, today or yesterday"),
])  # fmt: skip
def test_a_bad_filter_says_what_is_wrong_in_full(typed, message):
    with pytest.raises(QueryError) as refused:
        parse_query(typed, today=TODAY)
    assert str(refused.value) == message


def test_today_defaults_to_the_local_date():
    assert parse_query("since:today").since == datetime.now().astimezone().date()


def _add(store: Store, name: str, created: datetime, **fields: object) -> None:
    store.create_run(Run(model_config_name=name, provider="simulator", model="m", created_at=created, status="ok",
                         request={"messages": [{"role": "user", "content": name}]}, **fields))  # fmt: skip


def test_dates_are_local_days_inclusive_at_both_ends(store: Store):
    local_midnight = datetime.combine(TODAY, datetime.min.time()).astimezone()
    _add(store, "just-before", (local_midnight - timedelta(microseconds=1)).astimezone(timezone.utc))
    _add(store, "at-midnight", local_midnight.astimezone(timezone.utc))
    _add(store, "end-of-day", (local_midnight + timedelta(days=1, microseconds=-1)).astimezone(timezone.utc))
    _add(store, "next-day", (local_midnight + timedelta(days=1)).astimezone(timezone.utc))
    names = lambda typed: sorted(r.model_config_name for r in find_runs(store, parse_query(typed, today=TODAY)))  # noqa: E731
    assert names("date:today") == ["at-midnight", "end-of-day"]
    assert names("since:today") == ["at-midnight", "end-of-day", "next-day"]
    assert names("until:yesterday") == ["just-before"]


def test_a_model_filter_is_a_substring_with_literal_wildcards(store: Store):
    now = datetime.now(timezone.utc)
    _add(store, "demo_fast", now)
    _add(store, "demoXfast", now)
    _add(store, "other", now, error_type="auth")
    assert [r.model_config_name for r in find_runs(store, parse_query("model:o_f"))] == ["demo_fast"]
    assert count_runs(store, parse_query("model:demo")) == 2
    assert count_runs(store, parse_query("status:ok")) == 3  # a status, not an error type
    assert count_runs(store, parse_query("status:auth")) == 1
