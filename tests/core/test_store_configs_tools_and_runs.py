"""The SQLModel store's everyday calls as the app and the CLI make them: configs and tools
by name (a clash is DuplicateName with the user's words), runs listed newest first and by
group, checkpoints and saves of a run's frames, and a save that cannot even be kept."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta, timezone

import pytest

from core.store import Store
from core.store.db import DuplicateName, SaveFailed, keep_unsaved
from core.store.models import ModelConfig, ToolDefinition
from core.store.rows import RunRow

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)


def _run(run_id: str, minutes: int = 0, **fields: object) -> RunRow:
    return RunRow(id=run_id, created_at=T0 + timedelta(minutes=minutes), model_config_name="c", provider="openai",
                  model="m", **fields)  # type: ignore[arg-type]  # fmt: skip


def test_configs_are_listed_by_name_and_a_second_of_one_name_is_refused(store: Store) -> None:
    store.save_config(ModelConfig(name="zeta", provider="simulator", model="echo"))
    alpha = store.save_config(ModelConfig(name="alpha", provider="openai", model="m"))
    assert [c.name for c in store.list_configs()] == ["alpha", "zeta"]
    with pytest.raises(DuplicateName, match=r"^a model named 'zeta' already exists$"):
        store.save_config(ModelConfig(name="zeta", provider="openai", model="other"))
    assert store.get_config("zeta").model == "echo"  # type: ignore[union-attr]

    alpha.name = "beta"  # a rename keeps the row
    store.save_config(alpha)
    assert [c.name for c in store.list_configs()] == ["beta", "zeta"] and store.get_config("alpha") is None
    assert store.get_config("beta").id == alpha.id  # type: ignore[union-attr]

    assert store.remove_config("beta") is True
    assert store.remove_config("beta") is False
    assert [c.name for c in store.list_configs()] == ["zeta"]


def test_tools_are_listed_by_name_and_a_second_of_one_name_is_refused(store: Store) -> None:
    store.save_tool(ToolDefinition(name="weather", parameters={"type": "object"}))
    store.save_tool(ToolDefinition(name="clock", parameters={"type": "object"}, canned_result="12:00"))
    assert [t.name for t in store.list_tools()] == ["clock", "weather"]
    with pytest.raises(DuplicateName, match=r"^a tool named 'clock' already exists$"):
        store.save_tool(ToolDefinition(name="clock", parameters={}))
    assert store.get_tool("clock").canned_result == "12:00"  # type: ignore[union-attr]
    assert store.remove_tool("clock") is True and store.remove_tool("clock") is False
    assert store.get_tool("clock") is None and [t.name for t in store.list_tools()] == ["weather"]


def test_an_import_updates_a_named_config_in_place_and_counts_only_new_names(store: Store) -> None:
    first = store.save_config(ModelConfig(name="kept", provider="openai", model="old"))
    tool = store.save_tool(ToolDefinition(name="t", parameters={"type": "object"}))
    added = store.import_all(
        [ModelConfig(name="kept", provider="anthropic", model="new"), ModelConfig(name="fresh", provider="simulator", model="echo")],
        [ToolDefinition(name="t", description="now described", parameters={"type": "object"}),
         ToolDefinition(name="u", parameters={"type": "object"})],
    )  # fmt: skip
    assert added == (1, 1)
    kept = store.get_config("kept")
    assert kept is not None and (kept.id, kept.provider, kept.model) == (first.id, "anthropic", "new")
    assert kept.created_at.replace(tzinfo=None) == first.created_at.replace(tzinfo=None)
    updated = store.get_tool("t")
    assert updated is not None and (updated.id, updated.description) == (tool.id, "now described")
    assert updated.created_at.replace(tzinfo=None) == tool.created_at.replace(tzinfo=None)
    assert len(store.list_configs()) == 2 and len(store.list_tools()) == 2


def test_runs_are_listed_newest_first_limited_and_by_group(store: Store) -> None:
    for run_id, minutes, group in [("old", 0, "g1"), ("new", 2, None), ("mid", 1, "g1"), ("other", 3, "g2")]:
        store.create_run(_run(run_id, minutes, group_id=group))
    assert [r.id for r in store.list_runs()] == ["other", "new", "mid", "old"]
    assert [r.id for r in store.list_runs(2)] == ["other", "new"]
    assert [r.id for r in store.list_runs(group_id="g1")] == ["mid", "old"]
    assert [r.id for r in store.list_runs(1, group_id="g1")] == ["mid"]
    assert [r.id for r in store.runs_in_group("g1")] == ["old", "mid"]  # oldest first: the columns' order
    assert store.runs_in_group("nope") == [] and store.get_run("nope") is None


def test_only_a_process_s_running_runs_are_its_own(store: Store) -> None:
    store.create_run(_run("mine", owner_pid=4242))
    store.create_run(_run("done", owner_pid=4242, status="ok"))
    store.create_run(_run("theirs", owner_pid=4343))
    assert store.running_run_ids(4242) == ["mine"]
    assert store.running_run_ids(1) == []


def test_a_cancel_reason_is_noted_only_on_a_cancelled_run(store: Store) -> None:
    store.create_run(_run("cancelled", status="cancelled", error="cancelled by the user"))
    store.create_run(_run("ok", status="ok"))
    store.note_cancel_reason("cancelled", "terminated (SIGTERM)")
    store.note_cancel_reason("ok", "terminated (SIGTERM)")
    store.note_cancel_reason("missing", "terminated (SIGTERM)")
    assert store.get_run("cancelled").error == "terminated (SIGTERM)"  # type: ignore[union-attr]
    assert store.get_run("ok").error is None  # type: ignore[union-attr]


def test_checkpoints_add_frames_to_a_running_run_and_the_save_replaces_those_after_saved(store: Store) -> None:
    row = _run("streaming")
    store.create_run(row)
    assert store.checkpoint_run("streaming", {"content": "a"}, 0, [(1.0, "one"), (2.0, "two")]) is True
    assert store.checkpoint_run("streaming", {"content": "ab"}, 2, [(3.0, "three")]) is True
    assert store.checkpoint_run("streaming", {"content": "abc"}, 3, []) is True  # the response alone
    run = store.get_run("streaming")
    assert run is not None and run.response == {"content": "abc"} and run.status == "running"
    assert [(f.seq, f.offset_ms, f.data) for f in store.get_frames("streaming")] == [
        (0, 1.0, "one"), (1, 2.0, "two"), (2, 3.0, "three")]  # fmt: skip

    row.status, row.response = "ok", {"content": "final"}
    store.finish_run(row, [(1.0, "one"), (2.0, "two"), (3.5, "THREE"), (4.0, "four")], saved=2)
    assert [(f.seq, f.offset_ms, f.data) for f in store.get_frames("streaming")] == [
        (0, 1.0, "one"), (1, 2.0, "two"), (2, 3.5, "THREE"), (3, 4.0, "four")]  # fmt: skip
    saved = store.get_run("streaming")
    assert saved is not None and saved.status == "ok" and saved.finished_at is not None
    assert store.checkpoint_run("streaming", {"content": "late"}, 4, [(9.0, "late")]) is False
    assert store.get_run("streaming").response == {"content": "final"}  # type: ignore[union-attr]
    assert len(store.get_frames("streaming")) == 4


def test_a_save_that_cannot_be_kept_in_a_file_either_says_the_run_is_lost(store: Store, caplog) -> None:
    (store.path.parent / "unsaved").write_text("a file where the folder should be")
    heard: list[tuple[str, str]] = []
    store.on_save_failed = lambda run_id, message: heard.append((run_id, message))
    with caplog.at_level(logging.ERROR, logger="llmwb"), pytest.raises(SaveFailed) as failed:
        keep_unsaved(store, _run("lostrun"), [(0.0, "x")], ValueError("disk full"))
    message = str(failed.value)
    assert message.startswith("could not save run lostrun (disk full), nor keep it in a file (")
    assert message.endswith("): it is lost")
    assert heard == [("lostrun", message)] and store.unsaved == {"lostrun": message}
    assert message in caplog.text


def test_a_save_kept_in_a_file_says_where(store: Store) -> None:
    with pytest.raises(SaveFailed) as failed:
        keep_unsaved(store, _run("keptrun"), [(0.0, "x")], ValueError("disk full"))
    path = store.path.parent / "unsaved" / "keptrun.json"
    assert str(failed.value) == f"could not save run keptrun (disk full); kept in {path}, saved at the next start"
    assert store.unsaved["keptrun"] == str(failed.value) and path.is_file()


def test_an_import_counts_every_new_name_and_a_name_twice_in_it_is_a_clash(store: Store) -> None:
    added = store.import_all([ModelConfig(name=n, provider="simulator", model="echo") for n in ("a", "b", "c")],
                             [ToolDefinition(name=n, parameters={"type": "object"}) for n in ("t", "u")])  # fmt: skip
    assert added == (3, 2)


def test_a_name_another_process_adds_during_an_import_is_a_clash_and_nothing_is_saved(store: Store) -> None:
    import sqlite3

    from sqlalchemy import event

    def race(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if statement.startswith("SELECT") and "FROM model_config" in statement and not raced:
            raced.append(True)  # after the import looked the name up, another process saves it
            with sqlite3.connect(store.path) as other:
                other.execute(
                    "INSERT INTO model_config (name, provider, model, params, price_input, price_output, created_at)"
                    " VALUES ('raced', 'simulator', 'echo', '{}', 0, 0, '2026-01-01 00:00:00.000000')"
                )
            other.close()

    raced: list[bool] = []
    event.listen(store.engine, "after_cursor_execute", race)
    with pytest.raises(DuplicateName, match=r"^a name in the file was added elsewhere meanwhile; run the import again$"):
        store.import_all([ModelConfig(name="raced", provider="openai", model="m"),
                          ModelConfig(name="other", provider="openai", model="m")], [])  # fmt: skip
    event.remove(store.engine, "after_cursor_execute", race)
    assert store.get_config("raced").provider == "simulator"  # type: ignore[union-attr]
    assert store.get_config("other") is None


def test_a_checkpoint_touches_only_its_own_run(store: Store) -> None:
    store.create_run(_run("first"))
    store.create_run(_run("second"))
    store.checkpoint_run("first", {"content": "mine"}, 0, [])
    assert store.get_run("second").response == {}  # type: ignore[union-attr]


def test_fifty_runs_are_listed_unless_asked_for_more(store: Store) -> None:
    for index in range(51):
        store.create_run(_run(f"run{index:03}", index))
    listed = store.list_runs()
    assert len(listed) == 50 and listed[0].id == "run050" and listed[-1].id == "run001"


def test_a_group_s_runs_come_in_the_order_they_started_not_the_order_saved(store: Store) -> None:
    store.create_run(_run("late", 5, group_id="g"))
    store.create_run(_run("early", 1, group_id="g"))
    store.create_run(_run("middle", 3, group_id="g"))
    assert [r.id for r in store.runs_in_group("g")] == ["early", "middle", "late"]


@pytest.mark.parametrize("message, waits", [
    ("database is locked", 2), ("database table is locked", 2), ("SQLITE_BUSY: database is busy", 2),
    ("disk I/O error", 0), ("no such table: run", 0),
])  # fmt: skip
def test_a_save_waits_only_for_a_lock_or_a_busy_file(store: Store, monkeypatch, message, waits) -> None:
    import sqlite3

    from sqlalchemy.exc import OperationalError

    def fail(*args: object, **kwargs: object) -> None:
        raise OperationalError("INSERT INTO run …", {}, sqlite3.OperationalError(message))

    monkeypatch.setattr(store, "write_finished_run", fail)
    told: list[str] = []
    store.on_wait = told.append
    with pytest.raises(SaveFailed, match="^" + re.escape(f"could not save run waiting ({message});")):
        store.finish_run(_run("waiting"), [])
    assert len(told) == waits


def test_the_store_opens_its_files_private_and_serves_any_thread(store: Store) -> None:
    import os
    import sqlite3
    import stat
    import threading

    store.create_run(_run("threaded", metrics={"ttft_ms": float("nan"), "tps": float("inf"), "n": 3}))
    with sqlite3.connect(store.path) as conn:  # NaN and infinity stored as null, so json_extract works
        assert conn.execute("SELECT metrics FROM run WHERE id = 'threaded'").fetchone()[0] == (
            '{"ttft_ms": null, "tps": null, "n": 3}')  # fmt: skip
    conn.close()
    found: list[object] = []
    worker = threading.Thread(target=lambda: found.append(store.get_run("threaded")))
    worker.start()
    worker.join(30)
    assert found and found[0].id == "threaded"  # type: ignore[attr-defined]
    store.close()

    for suffix in ("", "-wal", "-shm"):  # left readable by an older llmwb
        file = store.path.with_name(store.path.name + suffix)
        file.touch()
        os.chmod(file, 0o644)
    reopened = Store(store.path)
    modes = {suffix: stat.S_IMODE(store.path.with_name(store.path.name + suffix).stat().st_mode)
             for suffix in ("", "-wal", "-shm")}  # fmt: skip
    reopened.close()
    assert modes == {"": 0o600, "-wal": 0o600, "-shm": 0o600}
