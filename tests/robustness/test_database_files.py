"""Databases llmwb must not open, damage or race on: newer, foreign, damaged files,
a data dir that is a file, permissions, and eight processes starting together."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys

import pytest

from robust_support import LLMWB, DEADLINE_S, db_rows, process_env, run_process

from core.store.migrations import LATEST

pytestmark = pytest.mark.unpaced  # what the files hold is under test, not the stream's pace


def _mode(path) -> int:  # type: ignore[no-untyped-def]
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.process
def test_a_database_from_a_newer_llmwb_is_refused_and_left_untouched(llmwb, home):
    # Made by another process: no connection of this one may checkpoint into the file later.
    assert run_process(home, "models", "list").code == 0
    db = home / "llmwb.db"
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {LATEST + 5}")
    conn.close()
    before = db.read_bytes()

    result = llmwb("history", "list")

    assert result.code == 2
    assert f"made by a newer llmwb (schema {LATEST + 5} > {LATEST})" in result.one_line_error()
    assert db.read_bytes() == before


def test_another_programs_sqlite_file_is_refused_before_anything_is_written(llmwb, home):
    home.mkdir(parents=True)
    db = home / "llmwb.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        conn.execute("INSERT INTO invoices (total) VALUES (12.5)")
    conn.close()
    before = db.read_bytes()

    result = llmwb("models", "list")

    assert result.code == 2
    assert "another program's SQLite file (tables: invoices)" in result.one_line_error()
    assert db.read_bytes() == before
    assert not (home / "llmwb.db-wal").exists()  # not even switched to WAL


def test_a_database_with_flipped_bytes_is_one_line_and_exit_2(llmwb, home):
    for i in range(3):
        assert llmwb("run", "--model", "echo", "--prompt", f"some words to fill a page {i}" * 50).code == 0
    db = home / "llmwb.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(db.read_bytes())
    for offset in range(100, len(data), 97):  # every page, header kept
        data[offset] ^= 0xFF
    db.write_bytes(bytes(data))

    for command in (("history", "list"), ("models", "list"), ("run", "--model", "echo", "--prompt", "x")):
        result = llmwb(*command)
        assert result.code == 2, result.err
        assert "damaged" in result.one_line_error() or "not an llmwb database" in result.err


@pytest.mark.process
def test_llmwb_home_pointing_at_a_file_is_one_line(llmwb, home, monkeypatch):
    home.parent.mkdir(parents=True, exist_ok=True)
    home.write_text("I am a file")
    result = llmwb("models", "list")
    assert result.code == 2
    assert "is not a directory" in result.one_line_error()
    assert run_process(home, "history", "list").code == 2


@pytest.mark.process
def test_data_dir_and_every_file_in_it_are_private(home):
    assert run_process(home, "run", "--model", "echo", "--prompt", "secret plans").code == 0
    assert _mode(home) == 0o700
    files = {path.name: _mode(path) for path in home.iterdir() if path.is_file()}
    assert {"llmwb.db", "llmwb.log"} <= set(files)
    assert all(mode == 0o600 for mode in files.values()), files


@pytest.mark.process
def test_files_left_readable_by_an_older_llmwb_are_tightened(home):
    assert run_process(home, "models", "list").code == 0
    home.chmod(0o755)
    for path in home.iterdir():
        path.chmod(0o644)
    assert run_process(home, "models", "list").code == 0
    assert _mode(home) == 0o700
    assert {_mode(path) for path in home.iterdir() if path.is_file()} == {0o600}


@pytest.mark.timeout(600)  # eight cold starts on a loaded machine
@pytest.mark.process
def test_eight_runs_started_together_on_a_fresh_data_dir_all_succeed(home):
    processes = [
        subprocess.Popen(
            [LLMWB, "run", "--model", "echo", "--prompt", f"run {i}"],
            env=process_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        for i in range(8)
    ]
    # Eight cold starts share the machine's cores: a generous bound, not a timing check.
    results = [(p.wait(timeout=4 * DEADLINE_S), p.stderr.read()) for p in processes]  # type: ignore[union-attr]
    for p in processes:
        p.stdout.close()  # type: ignore[union-attr]
        p.stderr.close()  # type: ignore[union-attr]
    failed = [f"run {i}: exit {code}: {err.strip()}" for i, (code, err) in enumerate(results) if code != 0]
    # One line per failed start, whole: an assertion's repr of all eight cut the stderr that says why.
    assert not failed, "\n".join(failed)
    assert not any("already exists" in err or "Traceback" in err for _, err in results)
    assert db_rows(home, "SELECT status, count(*) FROM run GROUP BY status") == [("ok", 8)]
    # seeded once, not eight times
    assert db_rows(home, "SELECT count(*) FROM model_config WHERE name = 'echo'") == [(1,)]


@pytest.mark.timeout(600)
@pytest.mark.process
def test_concurrent_models_add_of_one_name_one_wins_the_others_are_told(home):
    assert run_process(home, "models", "list").code == 0
    processes = [
        subprocess.Popen(
            [LLMWB, "models", "add", "twin", "--provider", "simulator", "--model", "echo"],
            env=process_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        for _ in range(6)
    ]
    outcomes = []
    for p in processes:
        out, err = p.communicate(timeout=4 * DEADLINE_S)
        outcomes.append((p.returncode, err))
    assert sorted(code for code, _ in outcomes) == [0] + [2] * 5, outcomes
    for code, err in outcomes:
        if code == 2:
            assert err.strip() == "llmwb models: a model named 'twin' already exists (remove it first, or use import)"
    assert db_rows(home, "SELECT count(*) FROM model_config WHERE name = 'twin'") == [(1,)]


@pytest.mark.process
def test_a_save_into_a_database_locked_elsewhere_is_not_lost(home):
    assert run_process(home, "models", "list").code == 0
    locker = sqlite3.connect(home / "llmwb.db", isolation_level=None, timeout=DEADLINE_S)
    locker.execute("BEGIN IMMEDIATE")  # another process holds the write lock for the whole run
    try:
        result = run_process(home, "run", "--model", "echo", "--prompt", "keep me", "--json", LLMWB_LOCK_WAIT="0.3")
    finally:
        locker.execute("ROLLBACK")
        locker.close()

    assert result.code == 1
    assert "the database is locked by another process; still trying to save run" in result.err
    import json

    last = json.loads(result.out.splitlines()[-1])
    assert (last["done"], last["status"], last["error_type"]) == (True, "error", "save_failed")
    assert last["partial_response"]["content"] == "keep me"
    unsaved = list((home / "unsaved").glob("*.json"))
    assert [path.stem for path in unsaved] == [last["run_id"]]
    assert _mode(unsaved[0]) == 0o600

    assert run_process(home, "history", "list").code == 0  # the next start imports it
    status, response = db_rows(home, "SELECT status, json_extract(response, '$.content') FROM run WHERE id = ?",
                               last["run_id"])[0]  # fmt: skip
    assert (status, response) == ("ok", "keep me")
    assert not list((home / "unsaved").glob("*.json"))


def test_a_second_store_in_a_process_keeps_the_first_ones_writes_visible_to_others(home):
    # The app (or a bench) opens the file twice in one process while `llmwb run` writes and
    # exits beside it. Opening the file outside SQLite to check it dropped every lock the
    # first store held, so the exiting process took itself for the last one, folded the WAL
    # in and deleted it: the first store's next writes went to a WAL nobody else reads.
    from core.store import Store
    from core.store.models import ModelConfig

    home.mkdir(mode=0o700)
    db = home / "llmwb.db"
    app = Store(db)
    app.save_config(ModelConfig(name="before", provider="openai", model="m"))
    Store(db)  # the second open, in the same process

    def other_process(code: str) -> str:
        script = f"import sqlite3\nconn = sqlite3.connect({str(db)!r})\n{code}\nconn.close()"
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=DEADLINE_S)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    other_process("conn.execute(\"INSERT INTO meta VALUES ('from-elsewhere', '1')\"); conn.commit()")
    app.save_config(ModelConfig(name="after", provider="openai", model="m"))

    assert other_process("print(sorted(r[0] for r in conn.execute('SELECT name FROM model_config')))") == "['after', 'before']"
    assert "from-elsewhere" in {row[0] for row in sqlite3.connect(db).execute("SELECT key FROM meta")}
