"""`llmwb history prune/retention`'s words: the ages and sizes a user types, the retention
and prune report read back to them, and which runs a retention keeps at its edges."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from core.store import Store
from core.store.models import Run, utcnow
from core.store.prune import (
    PruneReport,
    Retention,
    apply_retention,
    file_bytes,
    load_retention,
    parse_age,
    parse_size,
    prune,
    save_retention,
)
from core.store.migrations import RETENTION_KEY


@pytest.mark.parametrize("typed, seconds", [
    ("45s", 45), ("90m", 5400), ("12h", 43200), ("30d", 2_592_000), ("2w", 1_209_600),
    (" 1.5 H ", 5400), ("7D", 604_800), ("0s", 0), ("365000d", 365_000 * 86400),
])  # fmt: skip
def test_an_age_is_a_number_and_one_unit(typed, seconds):
    assert parse_age(typed) == timedelta(seconds=seconds)


@pytest.mark.parametrize("typed, message", [
    ("30", "'30' is not an age such as 30d, 12h, 2w"),
    ("30y", "'30y' is not an age such as 30d, 12h, 2w"),
    ("d", "'d' is not an age such as 30d, 12h, 2w"),
    ("-1d", "'-1d' is not an age such as 30d, 12h, 2w"),
    ("1d2h", "'1d2h' is not an age such as 30d, 12h, 2w"),
    ("365001d", "'365001d' is longer than 1000 years"),
])  # fmt: skip
def test_an_age_that_is_not_one_says_so(typed, message):
    with pytest.raises(ValueError) as refused:
        parse_age(typed)
    assert str(refused.value) == message


@pytest.mark.parametrize("typed, size", [
    ("500", 500), ("500b", 500), ("800k", 800_000), ("800 kB", 800_000), ("500MB", 500_000_000),
    ("2GB", 2_000_000_000), ("1.5g", 1_500_000_000), ("1t", 10**12), ("1GiB", 1024**3), ("2kib", 2048),
    ("1MiB", 1024**2), ("1TiB", 1024**4), ("1000T", 1000**5),
])  # fmt: skip
def test_a_size_is_a_number_and_an_optional_unit(typed, size):
    assert parse_size(typed) == size


@pytest.mark.parametrize("typed, message", [
    ("big", "'big' is not a size such as 500MB or 2GB"),
    ("5x", "'5x' is not a size such as 500MB or 2GB"),
    ("MB", "'MB' is not a size such as 500MB or 2GB"),
    ("1001T", "'1001T' is too large"),
])  # fmt: skip
def test_a_size_that_is_not_one_says_so(typed, message):
    with pytest.raises(ValueError) as refused:
        parse_size(typed)
    assert str(refused.value) == message


@pytest.mark.parametrize("retention, words", [
    (Retention(), "keep every run"),
    (Retention(max_age_s=14 * 86400), "keep runs younger than 2w"),
    (Retention(max_age_s=3 * 86400), "keep runs younger than 3d"),
    (Retention(max_age_s=36 * 3600), "keep runs younger than 36h"),
    (Retention(max_age_s=90 * 60), "keep runs younger than 90m"),
    (Retention(max_age_s=60), "keep runs younger than 1m"),
    (Retention(max_age_s=45), "keep runs younger than 45s"),
    (Retention(max_age_s=90.5), "keep runs younger than 90.5s"),
    (Retention(keep=0), "keep the newest 0 runs"),
    (Retention(max_bytes=999), "keep at most 999 B of runs"),
    (Retention(max_bytes=1000), "keep at most 1.0 kB of runs"),
    (Retention(max_bytes=2_500_000), "keep at most 2.5 MB of runs"),
    (Retention(max_bytes=3 * 1000**3), "keep at most 3.0 GB of runs"),
    (Retention(max_age_s=86400, keep=10, max_bytes=1000**2),
     "keep runs younger than 1d, the newest 10 runs, at most 1.0 MB of runs"),
])  # fmt: skip
def test_a_retention_reads_back_in_the_words_typed(retention, words):
    assert retention.describe() == words
    assert retention.empty is (words == "keep every run")


def test_a_prune_report_says_what_went_and_how_big_the_file_is():
    report = PruneReport(runs=3, frames=120, bytes_before=2_000_000, bytes_after=999)
    assert report.summary() == "deleted 3 runs (120 wire frames); file 2.0 MB → 999 B"


def _finished(store: Store, run_id: str, age: timedelta, frames: int = 0, size: int = 10) -> None:
    run = Run(id=run_id, model_config_name="c", provider="openai", model="m", status="ok")
    run.created_at = utcnow() - age
    run.response = {"content": "x" * size}
    store.create_run(run)
    store.finish_run(run, [(float(i), "f" * 10) for i in range(frames)])


def _ids(store: Store) -> set[str]:
    return {run.id for run in store.list_runs(100)}


def test_keep_n_keeps_the_newest_n_finished_runs(store: Store):
    for index in range(4):
        _finished(store, f"run{index}", timedelta(hours=4 - index))  # run3 the newest
    report = prune(store, Retention(keep=2), dry_run=True)
    assert (report.runs, report.frames) == (2, 0) and len(_ids(store)) == 4  # a dry run deletes nothing
    report = prune(store, Retention(keep=2))
    assert report.runs == 2 and _ids(store) == {"run2", "run3"}
    assert prune(store, Retention(keep=2)).runs == 0


def test_an_age_keeps_runs_younger_than_it(store: Store):
    _finished(store, "young", timedelta(hours=23), frames=2)
    _finished(store, "old", timedelta(hours=25), frames=3)
    report = prune(store, Retention(max_age_s=86400))
    assert (report.runs, report.frames) == (1, 3) and _ids(store) == {"young"}


def test_a_size_counts_each_run_with_its_frames_newest_first(store: Store):
    # Each run: its response and metrics text plus 5 frames of 10 characters and their row overhead.
    for index in range(3):
        _finished(store, f"run{index}", timedelta(minutes=3 - index), frames=5, size=100)
    with store.engine.connect() as conn:
        one = conn.execute(text(
            "SELECT length(request) + length(response) + length(metrics) + coalesce(length(error), 0) FROM run"
            " WHERE id = 'run2'")).scalar()  # fmt: skip
    per_run = one + 5 * (10 + 40)
    assert _ids(store) == {"run0", "run1", "run2"}
    assert prune(store, Retention(max_bytes=2 * per_run)).runs == 1 and _ids(store) == {"run1", "run2"}
    assert prune(store, Retention(max_bytes=2 * per_run - 1)).runs == 1 and _ids(store) == {"run2"}


def test_a_saved_retention_round_trips_and_an_empty_one_is_forgotten(store: Store):
    assert load_retention(store) == Retention()
    save_retention(store, Retention(max_age_s=3600.0, keep=5, max_bytes=10**6))
    assert load_retention(store) == Retention(max_age_s=3600.0, keep=5, max_bytes=10**6)
    save_retention(store, Retention())
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM meta WHERE key = :k"), {"k": RETENTION_KEY}).scalar() == 0
    assert load_retention(store) == Retention()


@pytest.mark.parametrize("stored", ["not json", "[1, 2]", '{"keep": 3, "colour": "red"}'])
def test_a_damaged_saved_retention_reads_as_keeping_everything_or_what_it_can(store: Store, stored):
    with store.engine.begin() as conn:
        conn.execute(text("INSERT OR REPLACE INTO meta (key, value) VALUES (:k, :v)"), {"k": RETENTION_KEY, "v": stored})
    expected = Retention(keep=3) if "keep" in stored else Retention()
    assert load_retention(store) == expected


def test_a_saved_retention_is_applied_and_none_deletes_nothing(store: Store):
    for index in range(3):
        _finished(store, f"run{index}", timedelta(minutes=3 - index))
    apply_retention(store)
    assert len(_ids(store)) == 3
    save_retention(store, Retention(keep=1))
    apply_retention(store)
    assert _ids(store) == {"run2"}


def test_the_file_size_counts_the_database_and_its_wal(store: Store):
    main = store.path.stat().st_size
    wal = store.path.with_name(store.path.name + "-wal")
    assert file_bytes(store) == main + (wal.stat().st_size if wal.exists() else 0)
    _finished(store, "big", timedelta(0), frames=50, size=50_000)
    assert file_bytes(store) > main
    report = prune(store, Retention(keep=0), vacuum=True)
    assert report.runs == 1 and report.bytes_after < report.bytes_before


def test_a_prune_gives_the_space_back_to_the_file_system_only_when_asked(store: Store):
    for index in range(3):
        _finished(store, f"big{index}", timedelta(minutes=3 - index), frames=20, size=100_000)
    report = prune(store, Retention(keep=1))
    assert report.runs == 2 and report.bytes_after >= report.bytes_before  # the pages are only freed
    report = prune(store, Retention(keep=0), vacuum=True, dry_run=True)
    assert report.runs == 1 and report.bytes_after == report.bytes_before and len(_ids(store)) == 1
    report = prune(store, Retention(keep=0), vacuum=True)
    assert report.bytes_after < 100_000 < report.bytes_before


def test_a_run_without_frames_counts_only_its_row(store: Store):
    _finished(store, "older", timedelta(minutes=2), size=100)
    _finished(store, "newer", timedelta(minutes=1), size=100)
    with store.engine.connect() as conn:
        both = conn.execute(text(
            "SELECT sum(length(request) + length(response) + length(metrics) + coalesce(length(error), 0)) FROM run"
        )).scalar()  # fmt: skip
    assert prune(store, Retention(max_bytes=both)).runs == 0
    assert prune(store, Retention(max_bytes=both - 1)).runs == 1 and _ids(store) == {"newer"}


def test_a_run_exactly_as_old_as_the_age_is_kept(store: Store, monkeypatch):
    from core.store import prune as prune_module

    now = utcnow()
    monkeypatch.setattr(prune_module, "utcnow", lambda: now)
    _finished(store, "exactly", timedelta(0))
    _finished(store, "older", timedelta(microseconds=1))
    with store.engine.begin() as conn:  # created_at as the store writes it, one day back from `now`
        for run_id, back in (("exactly", timedelta(days=1)), ("older", timedelta(days=1, microseconds=1))):
            stamp = (now - back).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
            conn.execute(text("UPDATE run SET created_at = :at WHERE id = :id"), {"at": stamp, "id": run_id})
    assert prune(store, Retention(max_age_s=86400)).runs == 1 and _ids(store) == {"exactly"}


def test_a_creation_time_written_in_iso_form_with_its_zone_is_still_aged(store: Store):
    _finished(store, "iso", timedelta(0))
    _finished(store, "young", timedelta(0))
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE run SET created_at = '2020-01-02T03:04:05.000006+00:00' WHERE id = 'iso'"))
    assert prune(store, Retention(max_age_s=86400)).runs == 1 and _ids(store) == {"young"}


def test_a_gigabyte_reads_as_one():
    assert Retention(max_bytes=1000**3).describe() == "keep at most 1.0 GB of runs"
    assert Retention(max_bytes=1000**2).describe() == "keep at most 1.0 MB of runs"
