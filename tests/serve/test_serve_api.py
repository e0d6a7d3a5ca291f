"""`llmwb serve` as a client sees it: a live server on 127.0.0.1, the README's own
curl bodies and httpx script, the SSE contract, errors, hang-ups."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from readme_examples import README_BASE_URL, chat_bodies, get_paths, python_client
from serve_support import LiveProcess, ThreadedSimulator, client, sse_events, wait_for_status
from waiting import poll

CHAT = "/api/debug/chat"


def stream_events(live: LiveProcess, body: dict) -> list:
    with client() as http, http.stream("POST", live.url + CHAT, json=body) as response:
        assert response.status_code == 200, response.read()
        return list(sse_events(response.iter_lines()))


def test_the_readme_curl_bodies_answer_as_documented(live: LiveProcess) -> None:
    bodies = chat_bodies()
    assert len(bodies) >= 4
    for body in bodies:
        if not body["stream"]:
            with client() as http:
                answer = http.post(live.url + CHAT, json=body).json()
            assert answer["status"] == "ok" and answer["content"], answer
            assert answer["metrics"]["ttft_ms"] > 0 and answer["run_id"]
            continue
        events = stream_events(live, body)
        assert events[-1] == "[DONE]"
        final = events[-2]
        assert final["done"] is True and final["run_id"]
        deltas = events[:-2]
        assert deltas and all(event["done"] is False for event in deltas)
        if body["model_id"] == "demo-flaky":  # a stream cut after 8 chunks: the error packet, text kept
            assert final["status"] == "error" and final["error_type"]
            assert final["partial_response"]["content"] == "".join(e["content"] for e in deltas)
        elif body["model_id"] == "demo-tools":
            calls = [e["tool_call"] for e in deltas if "tool_call" in e]
            assert {c["name"] for c in calls if c["name"]} == {"get_weather"}
            assert final["final_response"]["finish_reason"] == "tool_calls"
        else:
            assert final["final_response"]["content"] == "".join(e["content"] for e in deltas)


def test_the_readme_get_examples(live: LiveProcess) -> None:
    with client() as http:
        run_id = http.post(live.url + CHAT, json={"model_id": "echo", "prompt": "one two", "stream": False}).json()["run_id"]
        for path in get_paths():
            response = http.get(live.url + path.replace("RUN_ID", run_id))
            assert response.status_code == 200, (path, response.text)
            assert response.headers["content-type"].startswith("application/json")
        listed = http.get(live.url + "/api/models").json()
        ran = http.get(f"{live.url}/api/runs/{run_id}?frames=true").json()
        bare = http.get(f"{live.url}/api/runs/{run_id}").json()
        recent = http.get(f"{live.url}/api/runs?limit=1").json()
    assert {"id", "name", "provider", "model", "key_status"} <= set(listed[0])
    assert all(isinstance(entry["id"], int) for entry in listed)
    assert ran["status"] == "ok" and ran["model_config_name"] == "echo"
    assert ran["frames"] and all({"seq", "offset_ms", "data"} <= set(f) for f in ran["frames"])
    assert "frames" not in bare
    assert [entry["id"] for entry in recent] == [run_id]


def test_the_readme_httpx_script_streams_against_a_live_server(live: LiveProcess) -> None:
    script = python_client().replace(README_BASE_URL, live.url)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "391" in done.stdout and "ms to first token" in done.stdout


def test_sse_lines_are_the_cli_json_lines_byte_for_byte(live: LiveProcess, serve_home, unpaced_env) -> None:
    with client() as http, http.stream("POST", live.url + CHAT, json={"model_id": "demo-chinese", "prompt": "hi", "stream": True}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["connection"] == "keep-alive"
        assert response.headers["x-accel-buffering"] == "no"
        body = response.read().decode()
    blocks = body.split("\n\n")
    assert blocks[-2:] == ["data: [DONE]", ""]
    sse_lines = [block.removeprefix("data: ") for block in blocks[:-2]]
    assert all(block.startswith("data: ") and "\n" not in block for block in blocks[:-2])
    cli = subprocess.run(
        [str(live.process.args[0]), "run", "--model", "demo-chinese", "--prompt", "hi", "--json"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "LLMWB_HOME": str(serve_home), **unpaced_env},
    )  # fmt: skip
    cli_lines = cli.stdout.splitlines()
    assert cli.returncode == 0, cli.stderr
    # Every delta line is identical; the final lines differ only in timings and run id.
    assert sse_lines[:-1] == cli_lines[:-1]
    assert "流式" in body  # non-ASCII as is, never \u-escaped
    assert json.loads(sse_lines[-1]).keys() == json.loads(cli_lines[-1]).keys()


def test_offsets_on_request_carry_the_stamps_the_final_metrics_use(live: LiveProcess) -> None:
    body = {"model_id": "sim-reasoning", "prompt": "hi", "stream": True}  # paced: one stamp per chunk
    with client() as http, http.stream("POST", live.url + CHAT + "?offsets=true", json=body) as response:
        events = list(sse_events(response.iter_lines()))
    deltas, final = events[:-2], events[-2]
    stamps = [event["offset_ms"] for event in deltas]
    assert stamps == sorted(stamps) and all(not key.startswith("wire") for e in deltas for key in e)
    assert stamps[0] == final["metrics"]["ttft_ms"]  # the same number live and final
    assert "offset_ms" not in final and events[-1] == "[DONE]"
    # Without the flag the lines are the original API's, with no extra key.
    assert all("offset_ms" not in event for event in stream_events(live, body)[:-1])


def test_events_are_relayed_as_they_arrive_not_buffered(live: LiveProcess, sim: ThreadedSimulator) -> None:
    """The simulator stalls after three words; the first word must reach the client
    before the simulator has written the rest (its own recorded write times)."""
    first_seen = None
    with client() as http, http.stream("POST", live.url + CHAT, json={"model_id": "sim-stalling", "prompt": "hi", "stream": True}) as response:
        events = []
        for event in sse_events(response.iter_lines()):
            if first_seen is None and isinstance(event, dict) and "content" in event:
                first_seen = time.perf_counter()
            events.append(event)
    (exchange,) = sim.exchanges("stalling")
    sim.wait_finished(exchange)
    assert exchange.outcome == "complete" and exchange.content_frames == 12
    assert first_seen is not None
    assert first_seen < exchange.content_times[3] < exchange.content_times[-1]  # before the stall was over
    assert sum(1 for e in events if isinstance(e, dict) and "content" in e) == 12
    assert events[-2]["final_response"]["content"].split() == [f"word{i}" for i in range(12)]


def test_a_client_hanging_up_cancels_the_run_and_it_is_saved(live: LiveProcess, sim: ThreadedSimulator) -> None:
    received = ""
    with client() as http:
        with http.stream("POST", live.url + CHAT, json={"model_id": "sim-hang", "prompt": "hi", "stream": True}) as response:
            for event in sse_events(response.iter_lines()):
                received += event.get("content", "")
                if len(received.split()) == 3:  # everything before the stall: now hang up
                    break
        (exchange,) = sim.exchanges("hang")
        sim.wait_finished(exchange)  # the server closed its upstream request: the run was cancelled
        assert exchange.client_disconnected or exchange.outcome == "client_disconnected"
        run_id = next(r["id"] for r in http.get(live.url + "/api/runs?limit=20").json() if r["model_config"] == "sim-hang")
        run = wait_for_status(http, live.url, run_id)
    assert run["status"] == "cancelled" and run["error_type"] == "cancelled"
    assert run["response"]["content"] == received
    assert run["response"]["finish_reason"] == "cancelled"


def test_hanging_up_on_a_non_streamed_call_cancels_it_too(live: LiveProcess, sim: ThreadedSimulator) -> None:
    body = json.dumps({"model_id": "sim-hang-whole", "prompt": "hi", "stream": False}).encode()
    host, port = live.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as raw:
        raw.sendall(
            f"POST {CHAT} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode() + body
        )
        (exchange,) = poll(lambda: sim.exchanges("hang-whole"), "the upstream request", 60)
    sim.wait_finished(exchange)  # closed by the server once the client had gone
    with client() as http:
        run_id = next(r["id"] for r in http.get(live.url + "/api/runs?limit=50").json() if r["model_config"] == "sim-hang-whole")
        run = wait_for_status(http, live.url, run_id)
    assert run["status"] == "cancelled" and not run["stream"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"prompt": "hi"}, "model_id: Field required"),
        ({"model_id": "demo-fast"}, "prompt: Field required"),
        ({"model_id": "demo-fast", "prompt": "hi", "stream": "yes"}, "stream"),
        ({"model_id": "demo-fast", "prompt": "hi", "params": [1]}, "params"),
        ({"model_id": "demo-fast", "prompt": "hi", "temperature": 0}, "temperature"),
        ({"model_id": 1.5, "prompt": "hi"}, "model_id"),
        ({"model_id": "demo-fast", "prompt": "hi", "tool_choice": "auto"}, "tool_choice needs at least one tool"),
    ],
)
def test_a_bad_body_is_a_422_saying_what_is_wrong(live: LiveProcess, body: dict, words: str) -> None:
    with client() as http:
        before = len(http.get(live.url + "/api/runs?limit=1000").json())
        response = http.post(live.url + CHAT, json=body)
        after = len(http.get(live.url + "/api/runs?limit=1000").json())
    assert response.status_code == 422
    assert words in response.json()["error"]
    assert after == before  # nothing ran, nothing saved


def test_not_json_at_all_is_a_422(live: LiveProcess) -> None:
    with client() as http:
        response = http.post(live.url + CHAT, content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422 and response.json()["error"]


@pytest.mark.parametrize("body", [{"model_id": 9999, "prompt": "hi"}, {"model_id": "no-such-model", "prompt": "hi", "stream": True},
                                  {"model_id": "demo-tools", "prompt": "hi", "tool_ids": ["no_such_tool"]}])  # fmt: skip
def test_an_unknown_model_or_tool_is_a_404_with_a_json_error(live: LiveProcess, body: dict) -> None:
    with client() as http:
        response = http.post(live.url + CHAT, json=body)
        missing_run = http.get(live.url + "/api/runs/nope")
    assert response.status_code == 404
    assert "unknown" in response.json()["error"]
    assert missing_run.status_code == 404 and "nope" in missing_run.json()["error"]


def test_model_id_by_integer_id_and_by_name_run_the_same_config(live: LiveProcess) -> None:
    with client() as http:
        models = {m["name"]: m["id"] for m in http.get(live.url + "/api/models").json()}
        by_id = http.post(live.url + CHAT, json={"model_id": models["echo"], "prompt": "same words"}).json()
        by_name = http.post(live.url + CHAT, json={"model_id": "echo", "prompt": "same words"}).json()
        by_digits = http.post(live.url + CHAT, json={"model_id": str(models["echo"]), "prompt": "same words"}).json()
    assert by_id["content"] == by_name["content"] == by_digits["content"] == "same words"


def test_a_failed_non_streamed_run_says_so_in_its_body(live: LiveProcess) -> None:
    with client() as http:
        response = http.post(live.url + CHAT, json={"model_id": "sim-limited", "prompt": "hi", "stream": False})
        saved = http.get(f"{live.url}/api/runs/{response.json()['run_id']}").json()
    answer = response.json()
    assert response.status_code == 200  # the run happened and was saved; `status` says how it went
    assert (answer["status"], answer["error_type"], answer["http_status"]) == ("error", "rate_limit", 429)
    assert "429" in answer["error"] and answer["retry_after"] == "7"
    assert answer["content"] == "" and answer["metrics"]["total_ms"] >= 0
    assert saved["status"] == "error" and saved["http_status"] == 429


def test_runs_limit_out_of_range_is_a_422(live: LiveProcess) -> None:
    with client() as http:
        limits = [http.get(f"{live.url}/api/runs?limit={n}").status_code for n in (0, 1001, "x", 1)]
    assert limits == [422, 422, 422, 200]


def test_requests_from_other_sites_or_names_are_refused(live: LiveProcess) -> None:
    with client() as http:
        rebinding = http.get(live.url + "/api/models", headers={"Host": "evil.example:8000"})
        cross_site = http.post(live.url + CHAT, json={"model_id": "echo", "prompt": "hi"}, headers={"Origin": "http://evil.example"})
        same_site = http.post(live.url + CHAT, json={"model_id": "echo", "prompt": "hi"}, headers={"Origin": live.url})
    assert rebinding.status_code == 403 and "Host" in rebinding.json()["error"]
    assert cross_site.status_code == 403 and "cross-origin" in cross_site.json()["error"]
    assert same_site.status_code == 200
