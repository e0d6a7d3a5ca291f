"""What llmwb decides about a database file before it writes to it (core.store.safety),
who owns a running run (core.store.owner), and what the next start does with runs a
process could not finish (core.store.recovery) — each in the words the user reads."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from core.store import Store
from core.store import owner as owner_module
from core.store.migrations import APPLICATION_ID, LATEST
from core.store.models import Run
from core.store.owner import adopt_owner, current_owner, is_alive, process_marker
from core.store.recovery import import_unsaved, keep_unsaved, sweep_interrupted
from core.store.safety import DatabaseRefused, check_existing, dumps_finite


def _sqlite(path: Path, *statements: str) -> Path:
    with sqlite3.connect(path) as conn:
        for statement in statements:
            conn.execute(statement)
    conn.close()
    return path


def _refusal(path: Path) -> str:
    with pytest.raises(DatabaseRefused) as refused:
        check_existing(path)
    return str(refused.value)


def test_a_missing_an_empty_and_an_llmwb_file_are_opened(tmp_path: Path) -> None:
    check_existing(tmp_path / "missing.db")
    (tmp_path / "empty.db").write_bytes(b"")
    check_existing(tmp_path / "empty.db")
    Store(tmp_path / "llmwb.db").close()
    check_existing(tmp_path / "llmwb.db")
    check_existing(_sqlite(tmp_path / "blank.db", "PRAGMA user_version = 0"))  # SQLite, no tables yet


def test_files_llmwb_must_not_touch_are_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "folder.db").mkdir()
    assert _refusal(tmp_path / "folder.db") == f"{tmp_path / 'folder.db'} is a directory, not a database file"

    text = tmp_path / "notes.db"
    text.write_text("SQLite format 2, honestly")
    assert _refusal(text) == f"{text} is not an llmwb database (not a SQLite file); move it away or set LLMWB_HOME"

    other_app = _sqlite(tmp_path / "other.db", "PRAGMA application_id = 1234", "CREATE TABLE t (x)")
    assert _refusal(other_app) == (
        f"{other_app} belongs to another program (SQLite application id 0x4d2); llmwb left it untouched"
    )

    newer = _sqlite(tmp_path / "newer.db", f"PRAGMA application_id = {APPLICATION_ID}",
                    f"PRAGMA user_version = {LATEST + 1}", "CREATE TABLE t (x)")  # fmt: skip
    assert _refusal(newer).startswith(f"{newer} was ") and str(LATEST + 1) in _refusal(newer)

    tables = [f"CREATE TABLE t{index} (x)" for index in range(7)]
    foreign = _sqlite(tmp_path / "foreign.db", *tables)
    assert _refusal(foreign) == (
        f"{foreign} is another program's SQLite file (tables: t0, t1, t2, t3, t4, t5, …); llmwb left it untouched"
        " — set LLMWB_HOME to another directory"
    )
    few = _sqlite(tmp_path / "few.db", "CREATE TABLE b (x)", "CREATE TABLE a (x)")
    assert "(tables: a, b);" in _refusal(few)
    # llmwb's tables at version 0 are not llmwb's file either (no version was ever stamped)
    versionless = _sqlite(tmp_path / "v0.db", *(f"CREATE TABLE {name} (x)" for name in
                                                ("model_config", "tool_definition", "run", "run_frame")))  # fmt: skip
    assert "is another program's SQLite file (tables: model_config, run, run_frame, tool_definition)" in _refusal(versionless)
    # a versioned file missing one of llmwb's tables is not llmwb's
    partial = _sqlite(tmp_path / "partial.db", "PRAGMA user_version = 1", "CREATE TABLE run (x)")
    assert "is another program's SQLite file (tables: run)" in _refusal(partial)


def test_a_damaged_file_is_refused_with_what_to_do(tmp_path: Path) -> None:
    Store(tmp_path / "llmwb.db").close()
    damaged = tmp_path / "llmwb.db"
    data = bytearray(damaged.read_bytes())
    data[16:100] = b"\xff" * 84  # the header after the magic: page size and the rest
    damaged.write_bytes(bytes(data))
    # SQLite reads a broken header as "not a database": the one line says what to do
    assert _refusal(damaged) == f"{damaged} is not an llmwb database (not a SQLite file); move it away or set LLMWB_HOME"


def test_nan_and_infinity_become_null_at_any_depth_and_nothing_else_changes() -> None:
    assert dumps_finite({"a": 1.5, "b": [1, "x", None, True]}) == '{"a": 1.5, "b": [1, "x", null, true]}'
    value = {"ttft": float("nan"), "gaps": [1.0, float("inf"), (2.0, float("-inf"))], "deep": {"x": [float("nan")]}}
    assert json.loads(dumps_finite(value)) == {"ttft": None, "gaps": [1.0, None, [2.0, None]], "deep": {"x": [None]}}
    assert dumps_finite(float("nan")) == "null" and dumps_finite(2.5) == "2.5"


def test_a_process_is_alive_only_while_that_very_process_runs() -> None:
    pid, marker = current_owner()
    assert pid == os.getpid()
    assert is_alive(pid, marker) and is_alive(pid, None)
    if marker is not None:
        assert marker == process_marker(pid) and marker.count(":") == 1
        assert not is_alive(pid, "another-boot:1")  # the pid, reused by another process
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not is_alive(child.pid, None) and process_marker(child.pid) is None
    assert not is_alive(None, None) and not is_alive(0, None) and not is_alive(-5, None)
    assert not is_alive(2**80, None)  # a pid no kernel has (OverflowError)
    assert is_alive(1, None)  # init: alive, whoever owns it


def test_an_adopted_owner_is_the_owner_of_what_this_process_writes(monkeypatch) -> None:
    monkeypatch.setattr(owner_module, "_adopted", None)
    adopt_owner(4242, "boot:77")
    assert current_owner() == (4242, "boot:77")
    assert Run(model_config_name="c", provider="p", model="m").owner_pid == 4242


def test_a_process_marker_reads_the_start_time_after_the_command_name(tmp_path: Path) -> None:
    # A command name with spaces and a ')' must not shift the fields.
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        marker = process_marker(child.pid)
        stat = Path(f"/proc/{child.pid}/stat").read_text()
        assert marker == f"{Path('/proc/sys/kernel/random/boot_id').read_text().strip()}:{stat.rpartition(')')[2].split()[19]}"
    finally:
        child.communicate(b"")


def test_the_next_start_imports_kept_runs_and_leaves_unreadable_ones(store: Store) -> None:
    run = Run(id="keptrun00001", model_config_name="c", provider="openai", model="m", status="ok",
              response={"content": "héllo"})  # fmt: skip
    path = keep_unsaved(store, run, [(0.5, "data: one"), (1.5, "data: two")])
    assert path == store.path.parent / "unsaved" / "keptrun00001.json"
    bad = path.with_name("broken000001.json")
    bad.write_text("{not json")
    no_run = path.with_name("norun0000001.json")
    no_run.write_text('{"frames": []}')
    assert import_unsaved(store) == ["keptrun00001"]
    assert not path.exists() and bad.exists() and no_run.exists()
    saved = store.get_run("keptrun00001")
    assert saved is not None and saved.status == "ok" and saved.response == {"content": "héllo"}
    assert saved.created_at.replace(tzinfo=None) == run.created_at.replace(tzinfo=None)
    assert [(f.offset_ms, f.data) for f in store.get_frames("keptrun00001")] == [(0.5, "data: one"), (1.5, "data: two")]
    assert import_unsaved(store) == []


def test_the_sweep_says_which_process_ended_and_keeps_the_rest(store: Store) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    store.create_run(Run(id="orphan000001", model_config_name="c", provider="p", model="m", owner_pid=child.pid))
    store.create_run(Run(id="legacy000001", model_config_name="c", provider="p", model="m"))
    with sqlite3.connect(store.path) as conn:  # a row from before owners were recorded
        conn.execute("UPDATE run SET owner_pid = NULL, owner_start = NULL WHERE id = 'legacy000001'")
    conn.close()
    store.create_run(Run(id="mine00000001", model_config_name="c", provider="p", model="m"))
    store.create_run(Run(id="done00000001", model_config_name="c", provider="p", model="m", owner_pid=child.pid,
                         status="ok"))  # fmt: skip
    assert sorted(sweep_interrupted(store)) == ["legacy000001", "orphan000001"]
    orphan, legacy = store.get_run("orphan000001"), store.get_run("legacy000001")
    assert orphan is not None and legacy is not None
    assert (orphan.status, orphan.error_type) == ("error", "interrupted") and orphan.finished_at is not None
    assert orphan.error == (
        f"interrupted: the llmwb process (pid {child.pid}) ended before the run finished; what it saved is kept"
    )
    assert legacy.error == "interrupted: the llmwb process ended before the run finished; what it saved is kept"
    assert store.get_run("mine00000001").status == "running"  # type: ignore[union-attr]
    assert store.get_run("done00000001").error is None  # type: ignore[union-attr]
    assert sweep_interrupted(store) == []
