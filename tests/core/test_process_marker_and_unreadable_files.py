"""Two things a start reads before trusting a file: which process owns a running run, even
when that process's name holds spaces and a ')' (core.store.owner), and a database file
that is damaged or cannot be read, refused in one line that says what to do (core.store.safety)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from core.store import Store
from core.store.owner import is_alive, process_marker
from core.store.safety import DatabaseRefused, check_existing


def _refusal(path: Path) -> str:
    with pytest.raises(DatabaseRefused) as refused:
        check_existing(path)
    return str(refused.value)


def test_a_process_named_with_a_parenthesis_and_spaces_keeps_its_start_time(tmp_path: Path) -> None:
    odd = tmp_path / "x) y z"  # the kernel's command name is the program's file name
    os.symlink(sys.executable, odd)
    child = subprocess.Popen([str(odd), "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        stat = Path(f"/proc/{child.pid}/stat").read_text()
        assert "(x) y z)" in stat
        start_ticks = stat.rpartition(")")[2].split()[19]  # proc(5) field 22, counted after the name
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        marker = process_marker(child.pid)
        assert marker == f"{boot}:{start_ticks}" and is_alive(child.pid, marker)
    finally:
        child.communicate(b"")


def test_a_file_whose_pages_are_damaged_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "llmwb.db"
    Store(path).close()
    data = bytearray(path.read_bytes())
    data[100:108] = b"\xff" * 8  # the first page's table header, after the intact file header
    path.write_bytes(bytes(data))
    assert _refusal(path) == (
        f"{path} is damaged (database disk image is malformed); restore a backup or move it away"
    )


def test_a_file_sqlite_cannot_read_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "llmwb.db"
    Store(path).close()
    path.with_name("llmwb.db-wal").mkdir()  # its write-ahead log cannot be opened
    assert _refusal(path) == (
        f"{path} is damaged or unreadable (unable to open database file); restore a backup or move it away"
    )


def test_a_fresh_process_owns_its_runs_by_pid_and_start_marker(monkeypatch) -> None:
    from core.store import owner as owner_module
    from core.store.models import Run

    monkeypatch.setattr(owner_module, "_adopted", None)
    monkeypatch.setattr(owner_module, "_own", None)  # as in a process that has not saved a run yet
    pid, marker = owner_module.current_owner()
    assert pid == os.getpid() and marker is not None and marker == process_marker(pid)
    run = Run(model_config_name="c", provider="p", model="m")
    assert (run.owner_pid, run.owner_start) == (pid, marker)


def test_a_path_under_a_file_is_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    path = tmp_path / "notes.txt" / "llmwb.db"
    assert _refusal(path) == f"cannot read {path}: Not a directory"


def test_another_program_s_six_tables_are_all_named(tmp_path: Path) -> None:
    path = tmp_path / "six.db"
    with sqlite3.connect(path) as conn:
        for name in ("f", "e", "d", "c", "b", "a"):
            conn.execute(f"CREATE TABLE {name} (x)")
    conn.close()
    assert f"{path} is another program's SQLite file (tables: a, b, c, d, e, f); llmwb left it untouched" in _refusal(path)


def test_a_schema_1_file_with_only_llmwb_s_four_tables_opens_and_is_upgraded(tmp_path: Path) -> None:
    from sqlalchemy import create_engine
    from sqlmodel import SQLModel

    import core.store.models  # noqa: F401  (registers the tables)
    from core.store.migrations import LATEST

    path = tmp_path / "llmwb.db"
    engine = create_engine(f"sqlite:///{path}")
    SQLModel.metadata.create_all(engine)  # what migration 1 made: llmwb's four tables, no `meta`
    engine.dispose()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 1")
        assert {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")} == {
            "model_config", "tool_definition", "run", "run_frame"}  # fmt: skip
    conn.close()
    check_existing(path)
    Store(path).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST
    conn.close()
