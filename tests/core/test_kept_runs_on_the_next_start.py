"""What the next start does with runs kept in `unsaved/` (core.store.recovery): a file
whose run the database refuses is left for a person to look at, and llmwb still opens."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from core.store import Store
from core.store.db import SaveFailed
from core.store.rows import RunRow


def _kept(folder: Path, run_id: str, run: dict[str, object]) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / f"{run_id}.json"
    path.write_text(json.dumps({"run": run, "frames": [[0.5, "data: x"]]}))
    return path


@pytest.mark.parametrize("run, why", [
    ({"id": "nomodel00001", "model_config_name": "c", "provider": "openai"},  # a field the row needs, missing
     "NOT NULL constraint failed: run.model"),
    ({"id": "badmodel0001", "model_config_name": "c", "provider": "openai", "model": {"not": "text"}},
     "Error binding parameter 6: type 'dict' is not supported"),
    ({"id": "baddate00001", "model_config_name": "c", "provider": "openai", "model": "m", "created_at": 5},
     "'int' object has no attribute 'utcoffset'"),
], ids=["missing model", "model not text", "date not text"])  # fmt: skip
def test_a_kept_run_the_database_refuses_stays_in_its_file_and_llmwb_opens(tmp_path: Path, caplog, run, why) -> None:
    path = tmp_path / "llmwb.db"
    Store(path).close()
    refused = _kept(tmp_path / "unsaved", str(run["id"]), run)
    good = _kept(tmp_path / "unsaved", "goodrun00001", {"id": "goodrun00001", "model_config_name": "c",
                                                        "provider": "openai", "model": "m", "status": "ok"})  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="llmwb"):
        store = Store(path)
    assert refused.exists() and not good.exists()
    assert store.get_run(str(run["id"])) is None and store.get_run("goodrun00001").status == "ok"  # type: ignore[union-attr]
    assert [r.getMessage() for r in caplog.records] == [f"cannot import the unsaved run {refused}: {why}"]
    store.close()


def test_a_run_refused_on_saving_is_kept_and_the_next_start_still_opens(tmp_path: Path) -> None:
    path = tmp_path / "llmwb.db"
    store = Store(path)
    with pytest.raises(SaveFailed):
        store.finish_run(RunRow(id="refused00001", model=None), [])  # type: ignore[arg-type]
    store.close()
    Store(path).close()
    assert (tmp_path / "unsaved" / "refused00001.json").is_file()


def test_a_kept_file_holds_the_run_s_text_as_written(store: Store) -> None:
    with pytest.raises(SaveFailed):
        store.finish_run(RunRow(id="unicode00001", model=None, response={"content": "héllo 東京"}),  # type: ignore[arg-type]
                         [(0.5, "data: 晴れ")])  # fmt: skip
    text = (store.path.parent / "unsaved" / "unicode00001.json").read_text(encoding="utf-8")
    assert "héllo 東京" in text and "data: 晴れ" in text


def test_a_run_that_cannot_be_kept_either_says_which_folder_failed(store: Store) -> None:
    folder = store.path.parent / "unsaved"
    folder.write_text("a file where the folder should be")
    with pytest.raises(SaveFailed) as failed:
        store.finish_run(RunRow(id="lostrun00001", model=None), [])  # type: ignore[arg-type]
    assert str(failed.value) == (
        "could not save run lostrun00001 (NOT NULL constraint failed: run.model), nor keep it in a file"
        f" (the unsaved-runs folder: {folder} exists and is not a directory): it is lost"
    )


def test_the_next_start_logs_what_it_imported_and_what_it_could_not_read(tmp_path: Path, caplog) -> None:
    path = tmp_path / "llmwb.db"
    Store(path).close()
    good = _kept(tmp_path / "unsaved", "goodrun00001", {"id": "goodrun00001", "model_config_name": "c",
                                                        "provider": "openai", "model": "m", "status": "ok"})  # fmt: skip
    unreadable = good.with_name("broken000001.json")
    unreadable.write_text("{not json")
    try:
        json.loads("{not json")
    except ValueError as error:
        why = str(error)
    with caplog.at_level(logging.INFO, logger="llmwb"):
        Store(path).close()
    assert [r.getMessage() for r in caplog.records] == [
        f"cannot import the unsaved run {unreadable}: {why}",
        f"run goodrun00001: imported from {good}",
    ]


def test_a_file_another_start_imported_meanwhile_is_no_error(store: Store, monkeypatch) -> None:
    from core.store.recovery import import_unsaved

    kept = _kept(store.path.parent / "unsaved", "raced0000001", {"id": "raced0000001", "model_config_name": "c",
                                                                 "provider": "openai", "model": "m", "status": "ok"})  # fmt: skip
    real = store.write_finished_run

    def imported_elsewhere_too(run, frames, *, saved: int = 0) -> None:  # type: ignore[no-untyped-def]
        kept.unlink()  # the other llmwb, starting at the same moment, saved it and removed the file
        real(run, frames, saved=saved)

    monkeypatch.setattr(store, "write_finished_run", imported_elsewhere_too)
    assert import_unsaved(store) == ["raced0000001"]
    assert store.get_run("raced0000001").status == "ok"  # type: ignore[union-attr]


def test_the_sweep_logs_each_run_it_marks_interrupted(tmp_path: Path, caplog) -> None:
    import sqlite3

    path = tmp_path / "llmwb.db"
    store = Store(path)
    store.create_run(RunRow(id="orphan000001"))
    store.close()
    with sqlite3.connect(path) as conn:  # a row from before owners were recorded: its process is gone
        conn.execute("UPDATE run SET owner_pid = NULL, owner_start = NULL")
    conn.close()
    with caplog.at_level(logging.INFO, logger="llmwb"):
        Store(path).close()
    assert [r.getMessage() for r in caplog.records] == ["run orphan000001: marked interrupted (its process is gone)"]


def test_a_run_another_process_saved_while_the_sweep_looked_stays_saved(store: Store) -> None:
    import sqlite3

    from sqlalchemy import event

    from core.store.recovery import sweep_interrupted

    store.create_run(RunRow(id="finished0001"))
    with sqlite3.connect(store.path) as conn:
        conn.execute("UPDATE run SET owner_pid = NULL, owner_start = NULL")
    conn.close()

    def saved_meanwhile(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if statement.startswith("SELECT id, owner_pid") and not done:
            done.append(True)  # right after the sweep read the row as running, its save lands
            with sqlite3.connect(store.path) as other:
                other.execute("UPDATE run SET status = 'ok', response = '{\"content\": \"done\"}'")
            other.close()

    done: list[bool] = []
    event.listen(store.engine, "after_cursor_execute", saved_meanwhile)
    sweep_interrupted(store)
    event.remove(store.engine, "after_cursor_execute", saved_meanwhile)
    row = store.get_run("finished0001")
    assert done and row is not None and (row.status, row.error, row.response) == ("ok", None, {"content": "done"})
