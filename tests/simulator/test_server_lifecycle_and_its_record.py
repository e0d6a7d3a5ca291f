"""The simulator server as `llmwb simulate` and the embedded default use it: the port it was
told, scenario folders that add to and override the built-ins, a stop that ends streams in
progress (and a stop before any start), a bug of its own that closes one connection and is
logged while the server keeps serving, the newest N exchanges kept, each ended connection let
go, and the plain routes (`/`, `/health`, Ollama's model list, an unknown model) answered and
recorded as the log line reads them."""

from __future__ import annotations

import asyncio
import gc
import socket
import weakref
from pathlib import Path

import httpx2
import pytest

from core.simulator import RecordedExchange, SimulatorServer
from core.simulator import server as server_module

from .conftest import plain_http_client
from .helpers import add, finished, user
from .test_sim_http import exchange_raw, request, split_responses


def _free_port() -> int:
    # The port is bound and let go here; the server then binds it (SO_REUSEADDR on both).
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_the_server_listens_on_the_port_it_was_given() -> None:
    for attempt in range(3):  # another process may take the port between the probe and the bind
        port = _free_port()
        server = SimulatorServer(port=port)
        try:
            await server.start()
        except OSError:
            if attempt == 2:
                raise
            continue
        break
    try:
        assert server.port == port and server.root_url == f"http://127.0.0.1:{port}"
        async with plain_http_client() as client:
            answer = await client.get(f"http://127.0.0.1:{port}/v1/models")
        assert answer.status_code == 200 and "demo-fast" in {m["id"] for m in answer.json()["data"]}
    finally:
        await server.stop()


async def test_a_scenario_folder_adds_scenarios_and_overrides_a_built_in_of_the_same_name(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text("name: mine\ntext: from my folder\ntiming: {first_token_ms: 0, gap_ms: 0}\n")
    (tmp_path / "fast.yaml").write_text("name: demo-fast\ntext: overridden\ntiming: {first_token_ms: 0, gap_ms: 0}\n")
    async with SimulatorServer(scenario_dirs=[tmp_path]) as server, plain_http_client() as client:
        listed = {m["id"] for m in (await client.get(server.root_url + "/v1/models")).json()["data"]}
        said = {}
        for model in ("mine", "demo-fast"):
            answer = await client.post(server.root_url + "/v1/chat/completions", json={"model": model, "messages": user()})
            said[model] = answer.json()["choices"][0]["message"]["content"]
    assert {"mine", "demo-fast", "demo-claude"} <= listed  # the built-ins stay
    assert said == {"mine": "from my folder", "demo-fast": "overridden"}


async def test_stopping_a_server_that_never_started_or_stopped_already_does_nothing() -> None:
    never = SimulatorServer()
    await never.stop()
    server = SimulatorServer()
    await server.start()
    url = server.root_url
    await server.stop()
    await server.stop()
    async with plain_http_client() as client:
        with pytest.raises(httpx2.ConnectError):
            await client.get(url + "/health")


async def test_a_stop_ends_a_stream_in_progress_and_records_it_as_stopped_by_the_server() -> None:
    server = SimulatorServer()
    await server.start()
    add(server, name="slow", text="one two three four five six", chunking={"mode": "fixed", "size": 4},
        timing={"first_token_ms": 0, "gap_ms": 60_000})  # fmt: skip
    request = {"model": "slow", "messages": user(), "stream": True}
    try:
        async with plain_http_client() as client:
            async with client.stream("POST", server.root_url + "/v1/chat/completions", json=request) as answer:
                chunks = answer.aiter_bytes()
                first = await asyncio.wait_for(anext(chunks), 10)  # the first content frame is out
                await asyncio.wait_for(server.stop(), 10)
                # Stopped means done: every exchange's record is final (its log line written).
                assert server.exchanges[-1].finished.is_set()
                with pytest.raises(httpx2.RemoteProtocolError):  # cut, not a clean end: no [DONE]
                    async for _ in chunks:
                        pass
    finally:
        await server.stop()
    exchange = await finished(server.exchanges[-1])
    assert b"data: " in first and exchange.status == 200
    assert exchange.outcome == "server_stopped" and exchange.content_frames == 1


async def test_a_bug_in_the_simulator_closes_that_connection_is_logged_and_the_server_serves_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("planted bug")

    done: list[RecordedExchange] = []
    async with SimulatorServer(on_exchange_done=done.append) as server, plain_http_client() as client:
        add(server, name="plain", text="hello", timing={"first_token_ms": 0, "gap_ms": 0})
        request = {"model": "plain", "messages": user()}
        with monkeypatch.context() as patched:
            patched.setattr(server_module, "build_plan", broken)
            # The connection is closed without an answer, not left open waiting for another request.
            with pytest.raises(httpx2.RemoteProtocolError):
                await client.post(server.root_url + "/v1/chat/completions", json=request, timeout=10)
        again = await client.post(server.root_url + "/v1/chat/completions", json=request)
    broke, served = server.exchanges
    assert (broke.outcome, broke.error, broke.status) == ("server_error", "RuntimeError('planted bug')", None)
    assert broke.finished.is_set() and broke.completed_at is not None
    assert again.status_code == 200 and again.json()["choices"][0]["message"]["content"] == "hello"
    assert (served.outcome, served.error) == ("complete", None) and done == [broke, served]


async def test_a_long_lived_server_keeps_the_newest_exchanges_it_was_told_to() -> None:
    async with SimulatorServer(max_exchanges=2) as server, plain_http_client() as client:
        for path in ("/v1/models", "/health", "/api/tags"):
            assert (await client.get(server.root_url + path)).status_code == 200
    assert [e.path for e in server.exchanges] == ["/health", "/api/tags"]


async def test_a_long_lived_server_lets_go_of_each_connection_once_it_has_ended() -> None:
    # `llmwb simulate` serves for days: a connection that ended must not stay in memory.
    handlers: list[weakref.ref[asyncio.Task[object]]] = []

    def note_the_handler(_exchange: RecordedExchange) -> None:  # runs in the connection's own task
        task = asyncio.current_task()
        assert task is not None
        handlers.append(weakref.ref(task))

    async with SimulatorServer(on_exchange_done=note_the_handler) as server:
        for _ in range(3):  # read to the end: the server has closed the connection
            assert split_responses(await exchange_raw(server, request("GET", "/health", close=True)))[0][0] == 200
        gc.collect()
        assert len(handlers) == 3 and [ref() for ref in handlers] == [None] * 3, "ended connections are still held"


async def test_each_connection_has_its_own_id_and_its_requests_share_it(server: SimulatorServer) -> None:
    for _ in range(2):
        async with plain_http_client() as client:  # one kept-alive connection per client
            for path in ("/health", "/v1/models"):
                await client.get(server.root_url + path)
    ids = [e.connection_id for e in server.exchanges]
    assert ids[0] == ids[1] and ids[2] == ids[3] and ids[0] != ids[2]


@pytest.mark.parametrize("path", ["/", "/health"])
async def test_the_health_check_answers_ok(server: SimulatorServer, path: str) -> None:
    async with plain_http_client() as client:
        answer = await client.get(server.root_url + path)
    assert (answer.status_code, answer.json()) == (200, {"status": "ok", "server": "llmwb-simulator"})
    exchange = await finished(server.exchanges[-1])
    assert (exchange.status, exchange.outcome, exchange.protocol) == (200, "complete", None)


async def test_ollama_s_model_list_answers_200(server: SimulatorServer) -> None:
    async with plain_http_client() as client:
        answer = await client.get(server.root_url + "/api/tags")
    assert answer.status_code == 200 and "demo-ollama" in {m["name"] for m in answer.json()["models"]}


@pytest.mark.parametrize("path, protocol", [
    ("/v1/chat/completions", "openai"), ("/v1/messages", "anthropic"), ("/api/chat", "ollama"), ("/v1/responses", "responses"),
])  # fmt: skip
async def test_an_unknown_model_is_a_404_recorded_as_an_http_error(server: SimulatorServer, path: str, protocol: str) -> None:
    async with plain_http_client() as client:
        answer = await client.post(server.root_url + path, json={"model": "no-such-model", "messages": user()})
    exchange = await finished(server.exchanges[-1])
    assert answer.status_code == 404 and "no-such-model" in answer.text
    assert (exchange.status, exchange.outcome, exchange.protocol, exchange.scenario) == (404, "http_error", protocol, None)


async def test_a_log_callback_that_fails_costs_no_answer_and_no_connection() -> None:
    def failing(_exchange: RecordedExchange) -> None:
        raise BrokenPipeError("the log's reader went away")

    async with SimulatorServer(on_exchange_done=failing) as server:
        # Two requests on one connection: the second is answered on it after the first's log failed.
        pipelined = request("GET", "/health") + request("GET", "/v1/models", close=True)
        answers = split_responses(await exchange_raw(server, pipelined))
    assert [status for status, _, _ in answers] == [200, 200]
    assert [e.outcome for e in server.exchanges] == ["complete", "complete"]


async def test_a_server_without_timeouts_serves_as_usual() -> None:
    async with SimulatorServer(idle_timeout=None, request_timeout=None) as server, plain_http_client() as client:
        answer = await client.get(server.root_url + "/health")
    assert answer.status_code == 200


@pytest.mark.parametrize("path, request_id_header", [
    ("/v1/chat/completions", "x-request-id"), ("/v1/messages", "request-id"), ("/v1/responses", "x-request-id"),
])  # fmt: skip
async def test_a_status_fault_without_a_message_says_what_the_status_means_and_carries_a_request_id(
    server: SimulatorServer, path: str, request_id_header: str
) -> None:
    said = {}
    for status in (429, 503):
        add(server, name=f"fails-{status}", text="x", fault={"http_status": status})
        async with plain_http_client() as client:
            answer = await client.post(server.root_url + path, json={"model": f"fails-{status}", "max_tokens": 5, "messages": user()})
        assert answer.status_code == status and answer.headers[request_id_header].startswith("req_")
        other = "request-id" if request_id_header == "x-request-id" else "x-request-id"
        assert other not in answer.headers  # the provider's own name for it, not the other's
        said[status] = answer.json()["error"]["message"]
    assert "rate limit" in said[429].lower() and "unavailable" in said[503].lower()
