"""The suite's workers forked from a warm zygote (tests/warm_workers.py) must be the
interpreters xdist asked for: its code on the launcher's streams, in the launcher's
environment, with the exit status it ends with; and without a zygote, a cold one."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from waiting import DEADLINE_S
import warm_workers
from warm_workers import SOCKET_ENV

pytestmark = pytest.mark.process

WORKER = """import json, os, signal, sys
line = sys.stdin.readline()
print(json.dumps({"parent": os.getppid(), "argv": sys.argv, "mark": os.environ.get("WARM_MARK"),
                  "cwd": os.getcwd(), "line": line, "warm": "anthropic" in sys.modules,
                  "sigint_ignored": signal.getsignal(signal.SIGINT) == signal.SIG_IGN}))
sys.stderr.write("to stderr\\n")
sys.exit(3)
"""


# Starts the launcher with SIGINT ignored (as from a background job) or at its default.
WITH_SIGINT = "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_{}); os.execv(sys.argv[1], sys.argv[1:])"


def _launch(tmp_path: Path, socket_path: str, sigint: str = "DFL") -> tuple[subprocess.CompletedProcess[str], dict]:
    argv = [sys.executable, "-c", WITH_SIGINT.format(sigint), sys.executable, warm_workers.__file__, "worker", "-u", "-c", WORKER]
    done = subprocess.run(
        argv, input="the bootstrap line\n", capture_output=True,
        text=True, cwd=tmp_path, env={**os.environ, SOCKET_ENV: socket_path, "WARM_MARK": "from the launcher"},
        timeout=DEADLINE_S,
    )  # fmt: skip
    return done, json.loads(done.stdout)


def test_a_worker_forked_by_the_zygote_runs_its_code_on_the_launchers_streams(tmp_path: Path) -> None:
    path = str(tmp_path / "zygote")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    listener.listen(4)
    zygote = subprocess.Popen([sys.executable, warm_workers.__file__, "zygote", str(listener.fileno())],
                              pass_fds=[listener.fileno()], stdin=subprocess.DEVNULL)  # fmt: skip
    listener.close()
    try:
        done, seen = _launch(tmp_path, path)
        _, seen_from_the_background = _launch(tmp_path, path, sigint="IGN")
    finally:
        zygote.terminate()
        zygote.wait(timeout=DEADLINE_S)

    assert done.returncode == 3 and done.stderr == "to stderr\n"
    assert seen["parent"] == zygote.pid and seen["warm"]  # forked, with the SDKs already imported
    assert seen == {**seen, "argv": ["-c"], "mark": "from the launcher", "cwd": str(tmp_path), "line": "the bootstrap line\n"}
    assert not seen["sigint_ignored"] and seen_from_the_background["sigint_ignored"]


def test_without_a_zygote_the_launcher_is_the_worker_itself(tmp_path: Path) -> None:
    done, seen = _launch(tmp_path, str(tmp_path / "nobody-listens"))

    assert done.returncode == 3 and done.stderr == "to stderr\n"
    # a cold interpreter, exec'd in place of the launcher (whose parent is the SIGINT setter, exec'd too)
    assert seen["parent"] == os.getpid() and not seen["warm"]
    assert seen == {**seen, "argv": ["-c"], "mark": "from the launcher", "cwd": str(tmp_path), "line": "the bootstrap line\n"}
