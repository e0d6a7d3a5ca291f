"""The process-wide embedded simulator and the `llmwb simulate` command, each in a fresh process."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest

from tui.cli.simulate import DEFAULT_PORT, is_loopback, register

from midstream import as_from_a_terminal
from waiting import DEADLINE_S

EMBEDDED_PROBE = """
import json, sys, threading
import core.simulator
import core.simulator.embedded as embedded

started_threads = threading.active_count()
ui_loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("textual", "tui"))
urls = set()
workers = [threading.Thread(target=lambda: urls.add(embedded.embedded_root_url())) for _ in range(8)]
for w in workers: w.start()
for w in workers: w.join()
import httpx2
with httpx2.Client(trust_env=False) as client:
    ids = [m["id"] for m in client.get(urls.copy().pop() + "/v1/models").json()["data"]]
print(json.dumps({"threads_at_import": started_threads, "ui_loaded": ui_loaded, "urls": sorted(urls),
                  "ids": ids, "errors": [p.name for p, _ in embedded.load_errors]}))
"""


def test_embedded_server_is_lazy_shared_and_reads_the_env_dir(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text("text: from the user's dir\n")
    (tmp_path / "broken.yaml").write_text("name: [\n")
    env = {**os.environ, "LLMWB_SCENARIO_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", EMBEDDED_PROBE], env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # core prints nothing
    report = json.loads(done.stdout)
    assert report["threads_at_import"] == 1 and report["ui_loaded"] == []
    assert len(report["urls"]) == 1 and report["urls"][0].startswith("http://127.0.0.1:")
    assert {"mine", "demo-fast", "demo-claude"} <= set(report["ids"])
    assert report["errors"] == ["broken.yaml"]


EMBEDDED_LIFECYCLE_PROBE = """
import json, os, sys
import httpx2
import core.simulator.embedded as embedded

assert embedded.embedded_server() is None  # nothing started at import
first = embedded.embedded_root_url()
server = embedded.embedded_server()
with httpx2.Client(trust_env=False) as client:
    ids = {m["id"] for m in client.get(first + "/v1/models").json()["data"]}
    answer = client.post(first + "/v1/chat/completions", json={"model": "mine", "stream": True,
                         "messages": [{"role": "user", "content": "hi"}]})
    exchange = server.exchanges[-1]
    embedded.shutdown_embedded()
    try:
        client.get(first + "/v1/models")
        refused = False
    except httpx2.ConnectError:  # refused, not accepted and left unanswered
        refused = True
    second = embedded.embedded_root_url()
    again = client.get(second + "/v1/models").status_code
print(json.dumps({"first": first, "second": second, "ids": sorted(ids), "status": answer.status_code,
                  "kept_frames": len(exchange.frames), "content_frames": exchange.content_frames,
                  "keeps": server.max_exchanges, "refused": refused, "again": again,
                  "thread": [t.name for t in __import__("threading").enumerate() if t.name == "llmwb-simulator"]}))
"""


def test_embedded_server_reads_every_env_dir_keeps_no_frames_and_restarts_after_shutdown(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "mine.yaml").write_text("text: one two three\ntiming: {first_token_ms: 0, gap_ms: 0}\n")
    (tmp_path / "b" / "theirs.yaml").write_text("text: from b\n")
    dirs = os.pathsep.join([str(tmp_path / "a"), " ", str(tmp_path / "b")])  # a blank entry is skipped
    env = {**os.environ, "LLMWB_SCENARIO_DIR": dirs}
    done = subprocess.run([sys.executable, "-c", EMBEDDED_LIFECYCLE_PROBE], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stderr == "", done.stderr  # the simulator thread ended cleanly
    report = json.loads(done.stdout)
    assert {"mine", "theirs"} <= set(report["ids"]) and report["status"] == 200
    assert report["first"].startswith("http://127.0.0.1:") and report["second"].startswith("http://127.0.0.1:")
    # a long-lived server inside the app: facts and timings per request, no frames, a bounded record
    assert report["kept_frames"] == 0 and report["content_frames"] > 0 and report["keeps"] is not None
    # stopped means stopped (its port refuses), and the next use starts a new one, on its own thread
    assert report["refused"] and report["again"] == 200 and report["thread"] == ["llmwb-simulator"]


EMBEDDED_START_FAILURE_PROBE = """
import json
import httpx2
import core.simulator.embedded as embedded
from core.simulator.server import SimulatorServer

class Unstartable(SimulatorServer):
    async def start(self):
        raise OSError("no port for you")

embedded.SimulatorServer = Unstartable
try:
    embedded.embedded_root_url()
    failure = None
except OSError as exc:
    failure = str(exc)
half_started = embedded.embedded_server() is not None
embedded.SimulatorServer = SimulatorServer
url = embedded.embedded_root_url()
with httpx2.Client(trust_env=False) as client:
    ids = sorted(m["id"] for m in client.get(url + "/v1/models").json()["data"])
print(json.dumps({"failure": failure, "half_started": half_started, "ids": ids,
                  "errors": [str(p) for p, _ in embedded.load_errors]}))
"""


def test_an_embedded_server_that_cannot_start_says_why_and_the_next_use_starts_one() -> None:
    env = {k: v for k, v in os.environ.items() if k != "LLMWB_SCENARIO_DIR"}  # no user folders: the built-ins
    done = subprocess.run([sys.executable, "-c", EMBEDDED_START_FAILURE_PROBE], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["failure"] == "no port for you" and not report["half_started"]
    assert {"demo-fast", "demo-claude"} <= set(report["ids"]) and report["errors"] == []


CLI_RUNNER = "import argparse, sys; from tui.cli import simulate; p = argparse.ArgumentParser(); " \
             "simulate.register(p.add_subparsers()); sys.exit(simulate.handle(p.parse_args(sys.argv[1:])))"  # fmt: skip


PACED = "text: a b c d e f\nchunking: {mode: word}\ntiming: {first_token_ms: 60, gap_ms: 25}\n"


def _logged(proc: subprocess.Popen[str], path: str) -> str:
    """The command's log line for the next request to `path` (one line per request, in order)."""
    while f"  {path}  " not in (line := proc.stdout.readline()):  # type: ignore[union-attr]
        assert line, "server exited early"
    return line.rstrip("\n")


def _figure(line: str, pattern: str) -> float:
    found = re.search(pattern, line)
    assert found, line
    return float(found.group(1))


def test_simulate_command_serves_until_interrupted(tmp_path: Path) -> None:
    (tmp_path / "extra.yaml").write_text("description: an extra one\ntext: hi\n")
    (tmp_path / "paced.yaml").write_text(PACED)
    (tmp_path / "limited.yaml").write_text("text: x\nfault: {http_status: 429}\n")
    proc = subprocess.Popen(
        as_from_a_terminal([sys.executable, "-c", CLI_RUNNER, "simulate", "--port", "0", "--scenario-dir", str(tmp_path)]),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        banner = proc.stdout.readline()
        assert banner.startswith("llmwb simulator on http://127.0.0.1:") and "OpenAI: " in banner and "/v1" in banner
        root = banner.split()[3]
        with httpx2.Client(trust_env=False) as client:
            assert "extra" in {m["id"] for m in client.get(root + "/v1/models").json()["data"]}
        printed = []
        while "GET  /v1/models  200" not in (line := proc.stdout.readline()):  # ends at the per-request log line
            assert line, "server exited early"
            printed.append(line)
        chat = root + "/v1/chat/completions"
        for model, stream in (("paced", True), ("paced", False), ("limited", False)):
            body = {"model": model, "stream": stream, "messages": [{"role": "user", "content": "hi"}]}
            with httpx2.Client(trust_env=False) as client:
                client.post(chat, json=body, timeout=DEADLINE_S)
        streamed, whole, refused = (_logged(proc, "/v1/chat/completions") for _ in range(3))
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=DEADLINE_S)  # a bound for a failing test only
        finally:
            proc.kill()  # a failing test leaves no server behind (a no-op once it has exited)
    assert proc.returncode == 0 and err == ""
    assert printed[0].startswith("scenarios") and any("extra" in p and "an extra one" in p for p in printed)
    # A line per request, with the server's side of a client's figures for a stream: its first
    # content after the head (TTFT − TTFB) and the largest gap between content writes (ITL
    # max), both within the request's time; the command keeps no frames, and still has them.
    assert streamed.split("  ")[1:7] == ["POST", "/v1/chat/completions", "200", "paced", "stream", "6 chunks"]
    took = _figure(streamed, r"  (\d+) ms  ")
    first = _figure(streamed, r"first content \+([\d.]+) ms after head")
    gap = _figure(streamed, r"max gap ([\d.]+) ms$")
    assert 0 < first <= took + 1 and 0 < gap <= took + 1, streamed
    assert whole.split("  ")[1:6] == ["POST", "/v1/chat/completions", "200", "paced", "whole"]
    assert "first content" not in whole and "max gap" not in whole and whole.endswith(" ms")
    # a refused request ended as it should: nothing after its time
    assert refused.split("  ")[1:5] == ["POST", "/v1/chat/completions", "429", "limited"] and refused.endswith(" ms")


def test_simulate_arguments() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["simulate", "--scenario-dir", "a", "--scenario-dir", "b"])
    assert (args.host, args.port, args.scenario_dir) == ("127.0.0.1", DEFAULT_PORT, [Path("a"), Path("b")])


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True),
                                            ("localhost", True), ("0.0.0.0", False), ("192.168.1.5", False)])  # fmt: skip
def test_non_loopback_hosts_are_told_apart(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
