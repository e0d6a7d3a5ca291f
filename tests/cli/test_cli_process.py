"""The installed `llmwb` console script as a real process: exit codes and Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from midstream import STALLING_MODEL, as_from_a_terminal, stalling_model

LLMWB = str(Path(sys.executable).with_name("llmwb"))


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "LLMWB_HOME": str(home)}


def test_exit_codes_of_the_console_script(tmp_path):
    usage = subprocess.run(
        [LLMWB, "run", "--model", "nope", "--prompt", "hi"], env=_env(tmp_path), capture_output=True, text=True
    )
    assert usage.returncode == 2
    assert usage.stderr.startswith("llmwb run: no model config named 'nope'")

    failed = subprocess.run(
        [LLMWB, "run", "--model", "demo-flaky", "--prompt", "hi", "--json"],
        env=_env(tmp_path), capture_output=True, text=True,
    )  # fmt: skip
    assert failed.returncode == 1
    last = json.loads(failed.stdout.splitlines()[-1])
    assert (last["status"], last["error_type"]) == ("error", "stream_cut")


def test_ctrl_c_saves_the_run_as_cancelled_and_exits_130(tmp_path):
    env = {**_env(tmp_path), **stalling_model(tmp_path)}
    process = subprocess.Popen(
        as_from_a_terminal([LLMWB, "run", "--model", STALLING_MODEL, "--prompt", "hi", "--json"]),
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        first = process.stdout.readline()  # the stream is flowing (then it stalls for minutes)
        assert json.loads(first)["done"] is False
        process.send_signal(signal.SIGINT)
        rest, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130, err
    last = json.loads(rest.splitlines()[-1])
    assert (last["done"], last["status"], last["error_type"]) == (True, "cancelled", "cancelled")
    assert last["partial_response"]["content"].startswith(json.loads(first)["content"])

    shown = subprocess.run(
        [LLMWB, "history", "show", last["run_id"], "--json"], env=env, capture_output=True, text=True
    )
    run = json.loads(shown.stdout)
    assert run["status"] == "cancelled" and run["response"]["content"] == last["partial_response"]["content"]
