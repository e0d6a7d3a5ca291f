"""SIGTERM, SIGHUP and kill -9 in the middle of a stream: the partial output survives."""

from __future__ import annotations

import json
import signal
import subprocess

import pytest

from midstream import STALLING_MODEL, stalling_model
from robust_support import LLMWB, DEADLINE_S, db_rows, process_env, read_json_line, run_process
from waiting import poll


@pytest.mark.parametrize("signum, code, reason", [
    (signal.SIGTERM, 143, "terminated (SIGTERM)"),
    (signal.SIGHUP, 129, "the terminal closed (SIGHUP)"),
])  # fmt: skip
def test_a_signal_mid_stream_saves_the_run_as_cancelled_with_its_partial_output(home, signum, code, reason):
    process = subprocess.Popen(
        [LLMWB, "run", "--model", STALLING_MODEL, "--prompt", "hi", "--json"],
        env=process_env(home, **stalling_model(home)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        first = read_json_line(process)  # the stream is flowing (then it stalls for minutes)
        assert first["done"] is False and first["content"]
        process.send_signal(signum)
        rest, err = process.communicate(timeout=DEADLINE_S)
    finally:
        process.kill()
    assert process.returncode == code, err
    assert "Traceback" not in err
    last = json.loads(rest.splitlines()[-1])
    assert (last["done"], last["status"], last["error_type"], last["error"]) == (True, "cancelled", "cancelled", reason)

    status, error, response = db_rows(home, "SELECT status, error, response FROM run WHERE id = ?", last["run_id"])[0]
    assert (status, error) == ("cancelled", reason)
    content = json.loads(response)["content"]
    assert content.startswith(first["content"]) and content == last["partial_response"]["content"]


def test_sigterm_during_a_comparison_saves_every_run(home):
    process = subprocess.Popen(
        [LLMWB, "compare", "--models", f"{STALLING_MODEL},demo-fast", "--prompt", "hi", "--concurrent", "--json"],
        env=process_env(home, **stalling_model(home)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        read_json_line(process)  # demo-fast's run ended: the other one is held mid-stream
        poll(lambda: db_rows(home, "SELECT 1 FROM run WHERE status = 'running'"), "the stalled run to be running")
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=DEADLINE_S)
    finally:
        process.kill()
    assert process.returncode == 143, err
    assert "Traceback" not in err
    rows = dict(db_rows(home, "SELECT model_config_name, status FROM run"))
    assert rows == {"demo-fast": "ok", STALLING_MODEL: "cancelled"}


def test_a_run_whose_process_was_killed_is_marked_interrupted_on_the_next_start(home):
    process = subprocess.Popen(
        [LLMWB, "run", "--model", STALLING_MODEL, "--prompt", "hi", "--json"],
        env=process_env(home, **stalling_model(home)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        read_json_line(process)
        (run_id,) = poll(lambda: db_rows(home, "SELECT id FROM run WHERE status = 'running'"), "the running row")[0]
        process.send_signal(signal.SIGKILL)  # no handler runs: nothing is saved at the end
        process.wait(timeout=DEADLINE_S)
    finally:
        process.kill()
    assert db_rows(home, "SELECT status FROM run WHERE id = ?", run_id) == [("running",)]

    assert run_process(home, "history", "list").code == 0  # any start sweeps
    status, error_type, error = db_rows(home, "SELECT status, error_type, error FROM run WHERE id = ?", run_id)[0]
    assert (status, error_type) == ("error", "interrupted")
    assert f"pid {process.pid}" in error
