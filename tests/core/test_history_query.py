"""core.store.history: the history screen's search, filters, pages and delete."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from core.request import ChatRequest
from core.store import Store
from core.store.history import QueryError, count_runs, delete_run, find_runs, parse_query
from core.store.models import Run

NOW = datetime.now(timezone.utc)


def add(store: Store, name: str, prompt: str, answer: str = "", *, days_ago: int = 0, **extra) -> Run:  # type: ignore[no-untyped-def]
    stream = extra.pop("stream", True)
    run = Run(
        model_config_name=name, provider="simulator", model=name, created_at=NOW - timedelta(days=days_ago),
        stream=stream, request=ChatRequest.from_prompt(prompt, stream=stream).to_dict(),
        status=extra.pop("status", "ok"), response={"content": answer}, **extra,
    )  # fmt: skip
    store.create_run(run)
    store.finish_run(run, [(1.0, "data: {}")])
    return run


@pytest.fixture
def store(tmp_path) -> Store:  # type: ignore[no-untyped-def]
    store = Store(tmp_path / "llmwb.db")
    add(store, "demo-fast", "weather in Tokyo", "sunny")
    add(store, "demo-claude", "東京の天気", "晴れ 100%_done", stream=False)
    add(store, "echo", "hello", status="error", error_type="rate_limit", days_ago=3)
    return store


def names(runs: list[Run]) -> list[str]:
    return [run.model_config_name for run in runs]


def test_words_search_prompt_and_output_including_non_ascii(store: Store) -> None:
    assert names(find_runs(store, parse_query("tokyo"))) == ["demo-fast"]
    assert names(find_runs(store, parse_query("sunny"))) == ["demo-fast"]
    assert names(find_runs(store, parse_query("東京"))) == ["demo-claude"]
    assert names(find_runs(store, parse_query("100%_"))) == ["demo-claude"]  # LIKE wildcards are literal
    assert find_runs(store, parse_query("nowhere")) == []


def test_filters_by_model_status_mode_and_date(store: Store) -> None:
    assert names(find_runs(store, parse_query("model:demo"))) == ["demo-claude", "demo-fast"]
    assert names(find_runs(store, parse_query("status:error"))) == ["echo"]
    assert names(find_runs(store, parse_query("status:rate_limit"))) == ["echo"]
    assert names(find_runs(store, parse_query("mode:non-stream"))) == ["demo-claude"]
    # "today" is the day the runs were made on (a suite running across midnight made them yesterday).
    made_on = NOW.astimezone().date()
    assert set(names(find_runs(store, parse_query("date:today", today=made_on)))) == {"demo-fast", "demo-claude"}
    three_days = (NOW.astimezone() - timedelta(days=3)).date().isoformat()
    assert names(find_runs(store, parse_query(f"until:{three_days}"))) == ["echo"]
    assert count_runs(store, parse_query("")) == 3


def test_pages_go_past_the_first(store: Store) -> None:
    for i in range(60):
        add(store, "echo", f"bulk {i}")
    first = find_runs(store, parse_query("bulk"), limit=50)
    second = find_runs(store, parse_query("bulk"), offset=50, limit=50)
    assert len(first) == 50 and len(second) == 10 and not {r.id for r in first} & {r.id for r in second}


def test_a_bad_filter_says_what_is_wrong() -> None:
    with pytest.raises(QueryError, match="unknown filter"):
        parse_query("colour:red")
    with pytest.raises(QueryError, match="not a date"):
        parse_query("since:someday")
    assert parse_query("since:yesterday", today=date(2026, 11, 25)).since == date(2026, 11, 24)


def test_delete_removes_the_run_and_its_frames(store: Store) -> None:
    run = find_runs(store, parse_query("tokyo"))[0]
    assert delete_run(store, run.id)
    assert store.get_run(run.id) is None and store.get_frames(run.id) == []
    assert not delete_run(store, run.id)
