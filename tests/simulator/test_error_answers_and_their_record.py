"""A scenario's `fault: {http_status: N}` answers in each provider's error shape, with the type a
client reads for statuses the provider has no word of its own for; and the simulator's record
of a JSON answer (the bytes it wrote, when, and how it ended) is what `llmwb simulate` logs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.simulator import SimulatorServer

from .conftest import plain_http_client
from .helpers import add, finished

RECORDED = Path(__file__).resolve().parent.parent / "recorded"
USER = [{"role": "user", "content": "hi"}]


async def _post(server: SimulatorServer, path: str, model: str) -> tuple[int, Any, bytes]:
    async with plain_http_client() as client:
        response = await client.post(server.root_url + path, json={"model": model, "max_tokens": 5, "messages": USER})
    return response.status_code, response.json(), response.content


@pytest.mark.parametrize("status, kind", [
    (400, "invalid_request_error"), (422, "invalid_request_error"), (499, "invalid_request_error"),
    (500, "api_error"), (501, "api_error"), (503, "api_error"), (529, "overloaded_error"),
])  # fmt: skip
async def test_anthropic_s_error_type_for_any_status(server: SimulatorServer, status: int, kind: str) -> None:
    add(server, name="failing", text="x", fault={"http_status": status, "error_message": "it went wrong"})
    code, body, _ = await _post(server, "/v1/messages", "failing")
    assert (code, body) == (status, {"type": "error", "error": {"type": kind, "message": "it went wrong"}})


async def test_ollama_s_errors_are_one_error_string_as_ollama_writes_them(server: SimulatorServer) -> None:
    real = json.loads((RECORDED / "ollama-native/error_404_model_not_found.json").read_text(encoding="utf-8"))
    add(server, name="limited", text="x", fault={"http_status": 429})
    code, body, _ = await _post(server, "/api/chat", "limited")
    assert code == 429 and set(body) == set(real) and body["error"] == "Rate limit reached (simulated)"
    code, body, _ = await _post(server, "/api/chat", "no-such-model")
    assert code == 404 and set(body) == set(real) and "no-such-model" in body["error"]


async def test_a_json_answer_is_recorded_as_written_and_logged_without_an_outcome_word(server: SimulatorServer) -> None:
    add(server, name="limited", text="x", fault={"http_status": 429})
    add(server, name="fine", text="all good", timing={"first_token_ms": 0, "gap_ms": 0})
    _, _, error_bytes = await _post(server, "/v1/chat/completions", "limited")
    _, _, answer_bytes = await _post(server, "/v1/chat/completions", "fine")
    async with plain_http_client() as client:
        listed = await client.get(server.root_url + "/v1/models")
    refused, answered, models = [await finished(e) for e in server.exchanges]
    for exchange, written in ((refused, error_bytes), (answered, answer_bytes), (models, listed.content)):
        assert [frame for _, frame in exchange.frames] == [written]
        assert exchange.received_at <= exchange.frames[0][0] <= exchange.completed_at  # type: ignore[operator]
    assert (refused.outcome, answered.outcome, models.outcome) == ("http_error", "complete", "complete")
    assert (refused.status, refused.scenario, answered.status) == (429, "limited", 200)


def _recorded_error(name: str) -> dict[str, Any]:
    return json.loads((RECORDED / "openai" / name).read_text(encoding="utf-8"))["error"]


@pytest.mark.parametrize("status, kind, code", [
    (401, _recorded_error("error_401_invalid_key.json")["type"], _recorded_error("error_401_invalid_key.json")["code"]),
    (404, _recorded_error("error_404_model_not_found.json")["type"], _recorded_error("error_404_model_not_found.json")["code"]),
    (400, "invalid_request_error", None), (402, "invalid_request_error", None), (405, "invalid_request_error", None),
    (429, "requests", "rate_limit_exceeded"), (430, "invalid_request_error", None),
    (500, "server_error", None), (502, "server_error", None), (503, "server_error", "overloaded"),
    (504, "server_error", None), (529, "server_error", "overloaded"), (530, "server_error", None),
])  # fmt: skip
async def test_openai_s_error_type_and_code_for_each_status(server: SimulatorServer, status: int, kind: str, code: str | None) -> None:
    """As api.openai.com words them (401 and 404 as recorded from it)."""
    add(server, name="failing", text="x", fault={"http_status": status, "error_message": "it went wrong"})
    answer_status, body, _ = await _post(server, "/v1/chat/completions", "failing")
    assert answer_status == status
    assert body == {"error": {"message": "it went wrong", "type": kind, "param": None, "code": code}}
