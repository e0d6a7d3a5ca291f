"""What happens to saved runs: orphans of dead processes, old bad rows, NaN, retention."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import timedelta

import pytest

from robust_support import db_rows, run_process

from core.store import Store
from core.store.models import Run, utcnow
from core.store.owner import current_owner, process_marker
from core.store.prune import Retention, load_retention, prune


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _running(store: Store, pid: int | None, marker: str | None, content: str = "half an ans") -> str:
    run = Run(model_config_name="echo", provider="simulator", model="echo", owner_pid=pid, owner_start=marker)
    run.response = {"content": content}
    store.create_run(run)
    return run.id


def test_the_sweep_marks_only_runs_whose_process_is_gone(home):
    store = Store()
    pid, marker = current_owner()
    mine = _running(store, pid, marker)
    orphan = _running(store, _dead_pid(), None)
    reused = _running(store, pid, "another-boot:12345")  # same pid, another process: pid reuse
    legacy = _running(store, pid, marker)
    conn = sqlite3.connect(home / "llmwb.db")
    with conn:  # a row from before owners were recorded (the ORM would fill in defaults)
        conn.execute("UPDATE run SET owner_pid = NULL, owner_start = NULL WHERE id = ?", (legacy,))
    conn.close()

    Store()  # the next start

    status = {row_id: (s, t) for row_id, s, t in db_rows(home, "SELECT id, status, error_type FROM run")}
    assert status[mine] == ("running", None)
    assert status[orphan] == status[reused] == status[legacy] == ("error", "interrupted")
    kept = db_rows(home, "SELECT json_extract(response, '$.content') FROM run WHERE id = ?", orphan)
    assert kept == [("half an ans",)]  # what it saved stays


def test_the_process_marker_tells_processes_apart():
    own_pid, own_marker = current_owner()
    assert own_marker is None or own_marker == process_marker(own_pid)
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        if own_marker is not None:
            assert process_marker(child.pid) not in (None, own_marker)
    finally:
        child.communicate(b"")


def test_nan_and_infinity_are_never_stored_so_json_extract_works(home):
    store = Store()
    run = Run(model_config_name="echo", provider="simulator", model="echo", status="ok")
    store.create_run(run)
    run.metrics = {"ttft_ms": float("nan"), "decode_tps": float("inf"), "chunks": 3}
    store.finish_run(run, [])
    assert db_rows(home, "SELECT json_extract(metrics, '$.chunks'), json_extract(metrics, '$.ttft_ms') FROM run") == [
        (3, None)
    ]


@pytest.mark.process
def test_history_survives_old_bad_rows_under_a_strict_utf8_locale(home):
    assert run_process(home, "models", "list").code == 0
    conn = sqlite3.connect(home / "llmwb.db")
    request = '{"messages": [{"role": "user", "content": "bad \\udcff byte"}], "system": "\\ud800"}'
    conn.execute(
        "INSERT INTO run (id, created_at, model_config_name, provider, model, stream, status, request, response,"
        " metrics) VALUES ('oldbadrow001', '2024-01-01 00:00:00.000000', 'echo', 'simulator', 'echo', 1, 'ok', ?,"
        " '{\"content\": \"\\udcff\"}', '{\"ttft_ms\": NaN}')",
        (request,),
    )
    conn.commit()
    conn.close()
    strict = {"LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8:strict"}
    for argv in (["history", "list"], ["history", "list", "--json"], ["history", "show", "oldbadrow001"],
                 ["history", "show", "oldbadrow001", "--json"]):  # fmt: skip
        result = run_process(home, *argv, **strict)
        assert result.code == 0, result.err
        assert "oldbadrow001" in result.out and "Traceback" not in result.err


def _finished(store: Store, age: timedelta, frames: int = 0, text: str = "x") -> str:
    run = Run(model_config_name="echo", provider="simulator", model="echo", status="ok")
    run.created_at = utcnow() - age
    run.response = {"content": text}
    store.create_run(run)
    store.finish_run(run, [(float(i), "data: " + text) for i in range(frames)])
    return run.id


def test_prune_by_age_count_and_size_deletes_runs_and_their_frames(home):
    store = Store()
    old = _finished(store, timedelta(days=40), frames=5)
    middle = _finished(store, timedelta(days=10), frames=5, text="y" * 5000)
    new = _finished(store, timedelta(hours=1), frames=5)
    still_running = _running(store, *current_owner())

    report = prune(store, Retention(max_age_s=timedelta(days=30).total_seconds()))
    assert (report.runs, report.frames) == (1, 5)
    assert db_rows(home, "SELECT count(*) FROM run_frame WHERE run_id = ?", old) == [(0,)]

    report = prune(store, Retention(max_bytes=4000))  # the 25 kB of `middle` do not fit
    assert report.runs == 1
    remaining = {row[0] for row in db_rows(home, "SELECT id FROM run")}
    assert remaining == {new, still_running}
    assert middle not in remaining

    prune(store, Retention(keep=0), vacuum=True)
    assert {row[0] for row in db_rows(home, "SELECT id FROM run")} == {still_running}  # never a running one


@pytest.mark.unpaced
def test_history_prune_and_a_saved_retention_from_the_cli(llmwb, home):
    for i in range(4):
        assert llmwb("run", "--model", "echo", "--prompt", f"run {i}").code == 0
    dry = llmwb("history", "prune", "--keep", "1", "--dry-run")
    assert dry.code == 0 and dry.out.startswith("would delete 3 runs")
    assert db_rows(home, "SELECT count(*) FROM run") == [(4,)]

    result = llmwb("history", "retention", "--keep", "2")
    assert result.code == 0 and "keep the newest 2 runs" in result.out
    assert load_retention(Store()) == Retention(keep=2)
    assert llmwb("history", "list").code == 0  # applied at every start
    assert db_rows(home, "SELECT count(*) FROM run") == [(2,)]

    assert llmwb("history", "retention", "--off").code == 0
    assert load_retention(Store()).empty
    result = llmwb("history", "prune", "--keep", "0", "--vacuum")
    assert result.code == 0 and result.out.startswith("deleted 2 runs")
    assert json.loads(llmwb("history", "list", "--json").out) == []
