"""How an SDK client and the timed HTTP client are set up (core.providers.http), seen
from what reaches a loopback server and what a run reports: the OpenAI org and project
ids from the environment go to api.openai.com only; without a max_retries param the
SDK's own retries apply, each announced with its wait and kept with its answer; an error
answer's body is kept for every status from 400; the plain client (Ollama's) follows no
redirect and counts every send and every redirect answer; SDKs are imported on demand."""

from __future__ import annotations

import subprocess
import sys
import types

import httpx2
import pytest

from core.events import RETRYING, Finished, Phase
from core.metrics import clock
from core.providers.base import SendLog
from core.providers.http import import_sdks, sdk_client, timed_http_client
from core.store.models import ModelConfig

from runkit import SSE_HEAD, RawServer, chunk, json_response, openai_config, run_to_end, sse


async def _finish(request, writer) -> None:
    writer.write(SSE_HEAD + sse(chunk({"content": "ok"}), chunk({}, "stop"), "[DONE]"))
    await writer.drain()


async def test_org_and_project_ids_from_the_environment_never_reach_another_host(monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_ORG_ID", "org-from-env")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-from-env")
    async with RawServer(_finish) as server:
        outcome = await run_to_end(openai_config(server.root_url, "m"), "x")
        head = server.requests[0].head.lower()
    assert isinstance(outcome.last, Finished)
    assert "openai-organization" not in head and "openai-project" not in head
    assert "org-from-env" not in head and "proj-from-env" not in head


async def _client_for(base_url: str) -> object:
    config = types.SimpleNamespace(timeout=None)
    return await sdk_client(
        "openai", "openai.resources.chat", "AsyncOpenAI",
        config=config, params={}, api_key="sk-test", base_url=base_url, send_log=SendLog(),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("base_url", "kept"),
    [
        ("https://api.openai.com/v1", True),
        ("https://api.openai.com", True),
        ("http://api.openai.com/v1", False),  # not the real API: no TLS
        ("https://api.openai.com.example.test/v1", False),
        ("https://example.test/v1", False),
        ("http://127.0.0.1:9/v1", False),
    ],
)
async def test_org_and_project_ids_are_kept_for_the_openai_api_only(monkeypatch, base_url: str, kept: bool) -> None:
    monkeypatch.setenv("OPENAI_ORG_ID", "org-from-env")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-from-env")
    client = await _client_for(base_url)
    # What each request would carry (the SDK marks a header it leaves out as Omit).
    sent = {k: v for k, v in client.default_headers.items() if isinstance(v, str)}  # type: ignore[attr-defined]
    ids = (sent.get("OpenAI-Organization"), sent.get("OpenAI-Project"))
    assert ids == (("org-from-env", "proj-from-env") if kept else (None, None))


async def test_without_a_retry_param_the_sdk_retries_and_each_retry_is_announced_and_kept(store) -> None:
    async def busy_once(request, writer) -> None:
        if len(server.requests) == 1:  # no retry hint: the SDK picks its own wait
            writer.write(json_response(503, {"error": {"message": "busy"}}))
        else:
            writer.write(SSE_HEAD + sse(chunk({"content": "ok"}), chunk({}, "stop"), "[DONE]"))
        await writer.drain()

    async with RawServer(busy_once) as server:
        config = ModelConfig(name="test-default-retries", provider="openai-compatible", model="m",
                             base_url=server.root_url + "/v1")  # fmt: skip
        outcome = await run_to_end(config, "x", store=store, phases=True)
        assert len(server.requests) == 2
    assert isinstance(outcome.last, Finished) and outcome.last.metrics["retries"] == 1
    retry = next(p for p in outcome.of_type(Phase) if p.phase == RETRYING)
    assert (retry.attempt, retry.max_retries, retry.http_status) == (1, 2, 503) and retry.retry_in_s > 0
    attempts = store.get_run(outcome.last.run_id).request["http"]["attempts"]
    assert [a["status"] for a in attempts] == [503, 200] and "busy" in attempts[0]["body"]
    # Offsets from the first send: the second went out after the SDK's wait, and each
    # attempt's headers after its own send.
    assert attempts[1]["sent_ms"] >= retry.retry_in_s * 1000.0 > 0
    assert all(a["headers_ms"] > a["sent_ms"] for a in attempts[1:])


@pytest.mark.parametrize("status", [400, 401, 500])
async def test_an_error_answers_body_is_kept_with_its_attempt_for_every_status_from_400(store, status: int) -> None:
    async def refuse(request, writer) -> None:
        writer.write(json_response(status, {"error": {"message": f"refused with {status}"}}))
        await writer.drain()

    async with RawServer(refuse) as server:
        outcome = await run_to_end(openai_config(server.root_url, "m"), "x", store=store)
    attempts = store.get_run(outcome.last.run_id).request["http"]["attempts"]
    assert [a["status"] for a in attempts] == [status]
    assert f"refused with {status}" in attempts[0]["body"]


async def test_the_plain_client_follows_no_redirect_and_counts_every_send() -> None:
    answers = [301, 302, 503, 200]

    async def answer(request, writer) -> None:
        status = answers[len(server.requests) - 1]
        extra = {"location": "/elsewhere"} if status in (301, 302) else {}
        writer.write(json_response(status, {"ok": status == 200}, extra))
        await writer.drain()

    log = SendLog()
    async with RawServer(answer) as server:
        async with timed_http_client(None, httpx2.Timeout(30.0), log) as client:
            statuses = [(await client.post(server.root_url + "/api/chat", json={})).status_code for _ in answers]
        assert len(server.requests) == len(answers)  # not one request more: nothing followed
    assert statuses == answers
    assert (log.sends, log.retries) == (4, 3)
    assert log.first_sent_at is not None and log.headers_at is not None and log.headers_at > log.first_sent_at


def test_sdks_are_imported_on_demand_and_one_not_installed_is_skipped(monkeypatch) -> None:
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    import_sdks("colorsys", "llmwb_no_such_sdk")
    assert "colorsys" in sys.modules and "llmwb_no_such_sdk" not in sys.modules


@pytest.mark.process  # a Python that imports an SDK
def test_a_fresh_process_loads_an_sdk_and_the_submodules_a_call_needs() -> None:
    # In a process that has imported none of them (the first run of `llmwb run`).
    code = (
        "import asyncio, sys; from core.providers.http import load_sdk; "
        "sdk = asyncio.run(load_sdk('colorsys', 'wave')); print(sdk.__name__, 'wave' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout.split()) == (0, ["colorsys", "True"]), done.stderr


@pytest.mark.parametrize(
    ("configured", "read_s", "connect_s", "deadline_s"),
    [
        (None, 600.0, 5.0, 600.0),  # none set: the SDK's own waits, and the ten-minute deadline
        (5.0, 5.0, 5.0, 600.0),  # httpx's default value, which the SDK would take for "not set"
        (120.0, 120.0, 120.0, 1200.0),  # a long timeout: the deadline is ten of them
    ],
)
async def test_the_models_timeout_is_every_wait_of_the_sdk_and_sets_the_runs_deadline(
    configured: float | None, read_s: float, connect_s: float, deadline_s: float
) -> None:
    log = SendLog()
    before = clock()
    client = await sdk_client(
        "openai", "openai.resources.chat", "AsyncOpenAI",
        config=types.SimpleNamespace(timeout=configured), params={}, api_key=None,
        base_url="http://127.0.0.1:9/v1", send_log=log,
    )  # fmt: skip
    timeout = client.timeout  # type: ignore[attr-defined]
    assert (timeout.read, timeout.connect) == (read_s, connect_s)
    assert log.deadline_at is not None and before + deadline_s <= log.deadline_at <= clock() + deadline_s
