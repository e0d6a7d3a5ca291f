"""The FastAPI app behind `llmwb serve`: the debug API, the debug page, and who may use them."""

from __future__ import annotations

import asyncio
import contextlib
import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, AsyncIterator

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from core.config_yaml import model_to_dict
from tui.cli.history import run_summary
from tui.serve.chat import (
    BadRequest, ChatBody, ClientGone, EventStreamResponse, InFlight, NotFound, build_request, find_config, find_tools,
    json_error, run_to_body, sse_lines, until_disconnect,
)  # fmt: skip
from tui.serve.guard import Guard

STATIC_DIR = Path(__file__).parent / "static"
MAX_RUNS_LISTED = 1000
SHUTDOWN_SAVE_TIMEOUT_S = 10.0


def create_app(store: Any, *, token: str | None = None, loopback_only_hosts: bool = True) -> Guard:
    """The ASGI app: the API and page, behind the token/host/origin guard."""
    in_flight = InFlight()

    @contextlib.asynccontextmanager
    async def lifespan(_api: FastAPI) -> AsyncIterator[None]:
        yield
        await in_flight.settle(SHUTDOWN_SAVE_TIMEOUT_S)

    api = FastAPI(
        title="llmwb debug API", version=_version(), docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )

    @api.exception_handler(RequestValidationError)
    async def bad_body(_request: Request, error: RequestValidationError) -> Response:
        problems = "; ".join(f"{_field(problem['loc'])}: {problem['msg']}" for problem in error.errors())
        return json_error(422, f"bad request: {problems}", detail=error.errors())

    @api.get("/api/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": _version()}

    @api.get("/api/models")
    def models() -> list[dict[str, Any]]:
        return [{"id": c.id, **model_to_dict(c), "key_status": c.key_status()} for c in store.list_configs()]

    @api.get("/api/runs")
    def runs(limit: int = Query(20, ge=1, le=MAX_RUNS_LISTED)) -> list[dict[str, Any]]:
        return [run_summary(run) for run in store.list_runs(limit=limit)]

    @api.get("/api/runs/{run_id}")
    def one_run(run_id: str, frames: bool = False) -> Response:
        row = store.get_run(run_id)
        if row is None:
            return json_error(404, f"no run with id {run_id!r} (see GET /api/runs)")
        data = row.model_dump(mode="json")
        if frames:
            frame_rows = store.get_frames(run_id)
            data["frames"] = [{"seq": f.seq, "offset_ms": f.offset_ms, "data": f.data} for f in frame_rows]
        return Response(_json(data), media_type="application/json")

    @api.post("/api/debug/chat")
    async def chat(body: ChatBody, request: Request, offsets: bool = False) -> Response:
        configs, tools = await asyncio.to_thread(lambda: (store.list_configs(), store.list_tools()))
        try:
            config = find_config(configs, body.model_id)
            chat_request = build_request(body, find_tools(tools, body.tool_ids))
        except NotFound as error:
            return json_error(404, str(error))
        except BadRequest as error:
            return json_error(422, f"bad request: {error}")
        if body.stream:
            return EventStreamResponse(sse_lines(config, chat_request, store, offsets=offsets), in_flight)
        try:
            answer = await until_disconnect(request.receive, run_to_body(config, chat_request, store), in_flight)
        except ClientGone:
            return Response(status_code=499)  # nobody is left to read it; the run is saved as cancelled
        return Response(_json(answer), media_type="application/json")

    page = STATIC_DIR / "debug.html"

    @api.get("/", include_in_schema=False)
    @api.get("/pages/debug.html", include_in_schema=False)
    def debug_page() -> FileResponse:
        return FileResponse(page, media_type="text/html")

    api.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return Guard(api, token=token, loopback_only_hosts=loopback_only_hosts)


def _field(location: tuple[Any, ...] | list[Any]) -> str:
    """`("body", "params")` → `params`; the body itself (not JSON at all) → `body`."""
    return ".".join(str(part) for part in location if part != "body") or "body"


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, default=str).encode()


def _version() -> str:
    try:
        return version("llmwb")
    except PackageNotFoundError:
        return "unknown"
