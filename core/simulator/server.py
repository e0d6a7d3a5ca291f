"""The simulator's HTTP server: routes, scripted streaming with timing and faults, recording.

Every scenario is served on every protocol: POST /v1/chat/completions (OpenAI chat),
POST /v1/responses (OpenAI Responses), POST /v1/messages (Anthropic) and POST /api/chat
(Ollama's native NDJSON); GET /v1/models (and Ollama's GET /api/tags) lists them. Each request is
recorded as a RecordedExchange with the exact frames written and when, so a
test can compare what a client measured with what the server did.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson

from core.simulator import anthropic_wire, ollama_wire, openai_wire, respond, responses_wire
from core.simulator.anthropic_wire import AnthropicWire
from core.simulator.http import (
    IDLE_TIMEOUT_S,
    MAX_BODY_BYTES,
    REQUEST_TIMEOUT_S,
    BadRequest,
    Connection,
    Request,
    response_head,
)
from core.simulator.ollama_wire import OllamaWire
from core.simulator.openai_wire import OpenAIWire
from core.simulator.responses_wire import ResponsesWire
from core.simulator.respond import RecordedExchange, UnrecordedFrames
from core.simulator.scenario import Scenario, builtin_scenarios, load_scenario_dir
from core.simulator.script import build_plan
from core.simulator.wire import WireRenderer, default_error_message, new_id

__all__ = ["RecordedExchange", "SimulatorServer"]

OPENAI_PATHS = ("/v1/chat/completions", "/chat/completions")
ANTHROPIC_PATHS = ("/v1/messages", "/messages")
RESPONSES_PATHS = ("/v1/responses", "/responses")
MODELS_PATHS = ("/v1/models", "/models")
OLLAMA_CHAT_PATH = "/api/chat"  # Ollama's native API (NDJSON)
OLLAMA_TAGS_PATH = "/api/tags"


class SimulatorServer:
    def __init__(
        self,
        scenarios: Mapping[str, Scenario] | None = None,
        *,
        scenario_dirs: Iterable[Path] = (),
        host: str = "127.0.0.1",
        port: int = 0,
        max_exchanges: int | None = None,
        record_frames: bool = True,
        on_exchange_done: Callable[[RecordedExchange], None] | None = None,
        idle_timeout: float | None = IDLE_TIMEOUT_S,
        request_timeout: float | None = REQUEST_TIMEOUT_S,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        """`scenarios` None means the built-ins; `scenario_dirs` then add/override by name.

        `max_exchanges` keeps only the newest N recordings (for long-lived servers);
        `record_frames=False` keeps each exchange's facts but not its frames nor the
        write time of each one; `on_exchange_done` is called on the server's loop when
        an exchange finishes. `idle_timeout` drops a connection that sends nothing that
        long between requests; `request_timeout` answers 408 to a request whose head
        and body take longer; a body over `max_body_bytes` is answered 413.
        """
        self.scenarios: dict[str, Scenario] = dict(scenarios) if scenarios is not None else builtin_scenarios()
        for directory in scenario_dirs:
            self.scenarios.update(load_scenario_dir(directory))
        self.host = host
        self.port = port
        self.max_exchanges = max_exchanges
        self.record_frames = record_frames
        self.on_exchange_done = on_exchange_done
        self.idle_timeout = idle_timeout
        self.request_timeout = request_timeout
        self.max_body_bytes = max_body_bytes
        self.exchanges: list[RecordedExchange] = []
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[Any]] = set()
        self._connection_count = 0

    # --- lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve_connection, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        # Python 3.11's Server.close() leaves accepted connections open; end them here.
        tasks = list(self._connections)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await server.wait_closed()

    async def __aenter__(self) -> SimulatorServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def root_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def add_scenario(self, scenario: Scenario) -> None:
        self.scenarios[scenario.name] = scenario

    # --- connections ---------------------------------------------------------

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        conn = Connection(
            reader, writer, idle_timeout=self.idle_timeout, request_timeout=self.request_timeout,
            max_body_bytes=self.max_body_bytes,
        )  # fmt: skip
        self._connection_count += 1
        connection_id = self._connection_count
        try:
            while not conn.gone:
                try:
                    request = await conn.read_request()
                except BadRequest as exc:
                    body = openai_wire.error_body(exc.status, str(exc))
                    conn.write(response_head(exc.status, respond.json_headers(body, close=True)) + body)
                    break
                if request is None:
                    break
                keep_alive = await self._handle(conn, request, connection_id)
                if not keep_alive or request.wants_close:
                    break
        except asyncio.CancelledError:
            # stop() or loop shutdown. Ending normally matters: Python 3.11's start_server
            # callback calls task.exception() on the handler, which raises (and gets logged)
            # for a cancelled task.
            pass
        except Exception:  # noqa: BLE001 - the server must never surface errors to asyncio's logger
            pass
        finally:
            conn.close_now()  # synchronous: a second cancellation cannot interrupt it
            if task is not None:
                self._connections.discard(task)

    def _record(self, exchange: RecordedExchange) -> None:
        self.exchanges.append(exchange)
        if self.max_exchanges is not None and len(self.exchanges) > self.max_exchanges:
            del self.exchanges[: len(self.exchanges) - self.max_exchanges]

    async def _handle(self, conn: Connection, request: Request, connection_id: int) -> bool:
        body: Any = None
        body_ok = True
        if request.body:
            try:
                body = orjson.loads(request.body)
            except orjson.JSONDecodeError:
                body_ok = False
        exchange = RecordedExchange(
            method=request.method,
            path=request.path,
            headers=request.headers,
            body=body if isinstance(body, dict) else None,
            received_at=request.received_at,
            connection_id=connection_id,
        )
        if not self.record_frames:
            exchange.frames = UnrecordedFrames()
            exchange.content_times = UnrecordedFrames()
        self._record(exchange)
        keep_alive = False
        conn.start_watching()
        try:
            keep_alive = await self._respond(conn, request, exchange, body if body_ok else _UNPARSEABLE)
        except asyncio.CancelledError:
            if exchange.outcome == "pending":
                exchange.outcome = "server_stopped"
            raise
        except Exception as exc:  # noqa: BLE001 - a bug here must not take the server down; close this connection
            keep_alive = False
            exchange.error = repr(exc)  # kept, since nothing may be printed
            if exchange.outcome == "pending":
                exchange.outcome = "server_error"
        finally:
            await conn.stop_watching()
            if exchange.outcome == "pending":  # a write found the socket closed
                exchange.outcome = "client_disconnected" if conn.gone else "incomplete"
            exchange.client_disconnected = exchange.outcome == "client_disconnected"
            exchange.completed_at = time.perf_counter()
            exchange.finished.set()
            if self.on_exchange_done is not None:
                with contextlib.suppress(Exception):
                    self.on_exchange_done(exchange)
        return keep_alive and not conn.gone

    # --- routing -------------------------------------------------------------

    async def _respond(self, conn: Connection, request: Request, exchange: RecordedExchange, body: Any) -> bool:
        path, method = request.path, request.method
        if path in MODELS_PATHS and method == "GET":
            names = sorted(self.scenarios)
            if "anthropic-version" in request.headers:
                payload = _anthropic_models_body(names)
            else:
                payload = openai_wire.models_list_body(names)
            return await respond.send_json(conn, exchange, 200, payload)
        if path == OLLAMA_TAGS_PATH and method == "GET":
            return await respond.send_json(conn, exchange, 200, ollama_wire.tags_body(sorted(self.scenarios)))
        if path in ("/", "/health") and method == "GET":
            return await respond.send_json(conn, exchange, 200, b'{"status":"ok","server":"llmwb-simulator"}')
        if path in OPENAI_PATHS:
            exchange.protocol = "openai"
        elif path in ANTHROPIC_PATHS:
            exchange.protocol = "anthropic"
        elif path == OLLAMA_CHAT_PATH:
            exchange.protocol = "ollama"
        elif path in RESPONSES_PATHS:
            exchange.protocol = "responses"
        else:
            return await respond.send_error(conn, exchange, "openai", 404, f"No route for {method} {path}")
        protocol = exchange.protocol
        if method != "POST":
            return await respond.send_error(conn, exchange, protocol, 405, f"Use POST for {path}")
        if body is _UNPARSEABLE or not isinstance(body, dict):
            return await respond.send_error(conn, exchange, protocol, 400, "The request body is not a JSON object")
        model = body.get("model")
        if not isinstance(model, str) or not model:
            return await respond.send_error(conn, exchange, protocol, 400, "You must provide a model parameter")
        scenario = self.scenarios.get(model)
        if scenario is None:
            if protocol == "anthropic":
                payload = anthropic_wire.model_not_found_body(model)
            elif protocol == "ollama":
                payload = ollama_wire.model_not_found_body(model)
            else:
                payload = openai_wire.model_not_found_body(model)
            return await respond.send_json(conn, exchange, 404, payload, outcome="http_error")
        exchange.scenario = scenario.name
        # Ollama's /api/chat streams unless told `stream: false`; the others only when asked.
        exchange.streamed = bool(body.get("stream", protocol == "ollama"))
        request_id = new_id("req_")
        fault = scenario.fault
        if fault.http_status is not None:
            message = fault.error_message or default_error_message(fault.http_status)
            headers = {**_request_id_header(protocol, request_id), **fault.headers}
            return await respond.send_error(conn, exchange, protocol, fault.http_status, message, headers)

        wire: WireRenderer
        if protocol == "openai":
            plan = build_plan(scenario, body, streamed=exchange.streamed, tool_id_prefix="call_")
            stream_options = body.get("stream_options") or {}
            include_usage = isinstance(stream_options, dict) and bool(stream_options.get("include_usage"))
            wire = OpenAIWire(plan, model, request_id=request_id, include_usage=include_usage)
        elif protocol == "ollama":
            plan = build_plan(scenario, body, streamed=exchange.streamed, tool_id_prefix="call_")
            wire = OllamaWire(plan, model, timing=scenario.timing, streamed=exchange.streamed)
        elif protocol == "responses":
            view = responses_wire.planning_view(body)
            plan = build_plan(scenario, view, streamed=exchange.streamed, tool_id_prefix="call_")
            wire = ResponsesWire(plan, model, request_id=request_id, body=body)
        else:
            plan = build_plan(scenario, body, streamed=exchange.streamed, tool_id_prefix="toolu_")
            wire = AnthropicWire(plan, model, request_id=request_id)
        if exchange.streamed:
            return await respond.stream(conn, exchange, scenario, wire)
        return await respond.whole(conn, exchange, scenario, wire, plan)


_UNPARSEABLE = object()


def _request_id_header(protocol: str, request_id: str) -> dict[str, str]:
    return {"request-id": request_id} if protocol == "anthropic" else {"x-request-id": request_id}


def _anthropic_models_body(names: list[str]) -> bytes:
    data = [{"type": "model", "id": n, "display_name": n, "created_at": "1970-01-01T00:00:00Z"} for n in names]
    return orjson.dumps(
        {"data": data, "has_more": False, "first_id": names[0] if names else None, "last_id": names[-1] if names else None}
    )
