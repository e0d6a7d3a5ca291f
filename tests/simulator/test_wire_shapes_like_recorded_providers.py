"""The simulator stands in for real providers: what it writes must have the fields the real
ones write (tests/recorded holds their recorded answers), with the values a client reads —
Ollama's NDJSON lines and whole answers, its model list, the Responses API's items, usage and
failure, the model named and the request id header of each protocol, and Anthropic's model list."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx2

from core.simulator import SimulatorServer

from .conftest import plain_http_client
from .helpers import add

RECORDED = Path(__file__).resolve().parent.parent / "recorded"
OLLAMA_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")  # as Ollama writes created_at
SCENARIO = {
    "name": "weather", "reasoning": "Paris, so the tool.", "text": "Let me check.",
    "tool_calls": [{"id": "call_A", "name": "get_weather", "arguments": {"city": "Paris"}}],
    "chunking": {"mode": "word"}, "timing": {"first_token_ms": 0, "gap_ms": 0},
    "usage": {"prompt_tokens": 12, "completion_tokens": 9, "reasoning_tokens": 4},
}  # fmt: skip


def shape(value: Any, path: str = "") -> set[str]:
    """Every field's path and JSON type; a tool call's own arguments are the caller's."""
    if isinstance(value, dict):
        found = {f"{path}:object"}
        for key, item in value.items():
            found |= {f"{path}.{key}:{type(item).__name__}"} if key == "arguments" else shape(item, f"{path}.{key}")
        return found
    if isinstance(value, list):
        return set().union({f"{path}:array"}, *(shape(item, path + "[]") for item in value))
    return {f"{path}:{type(value).__name__}"}


def _recorded_json(name: str) -> Any:
    return json.loads((RECORDED / name).read_text(encoding="utf-8"))


def _recorded_ndjson(name: str) -> list[Any]:
    return [json.loads(line) for line in (RECORDED / name).read_text(encoding="utf-8").splitlines() if line]


def _sse_events(text: str) -> list[dict[str, Any]]:
    return [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]


async def _post(server: SimulatorServer, path: str, body: dict[str, Any]) -> httpx2.Response:
    async with plain_http_client() as client:
        return await client.post(server.root_url + path, json=body)


async def test_ollama_s_whole_answer_has_a_real_ollama_answer_s_fields(server: SimulatorServer) -> None:
    add(server, **SCENARIO)
    answer = (await _post(server, "/api/chat", {"model": "weather", "stream": False, "messages": [{"role": "user", "content": "hi"}]})).json()
    assert shape(answer) == shape(_recorded_json("ollama-native/tool_call_whole.json"))
    assert answer["model"] == "weather" and OLLAMA_TIME.fullmatch(answer["created_at"])
    assert answer["message"] == {
        "role": "assistant", "content": "Let me check.", "thinking": "Paris, so the tool.",
        "tool_calls": [{"id": "call_A", "function": {"index": 0, "name": "get_weather", "arguments": {"city": "Paris"}}}],
    }  # fmt: skip
    assert (answer["done"], answer["done_reason"], answer["prompt_eval_count"], answer["eval_count"]) == (True, "stop", 12, 9)


async def test_ollama_s_stream_lines_have_a_real_ollama_stream_s_fields(server: SimulatorServer) -> None:
    add(server, **SCENARIO)
    response = await _post(server, "/api/chat", {"model": "weather", "messages": [{"role": "user", "content": "hi"}]})
    lines = [json.loads(line) for line in response.text.split("\n") if line]  # every line JSON, none empty
    assert response.text.endswith("\n") and "\n\n" not in response.text
    real_lines = {frozenset(shape(line)) for line in _recorded_ndjson("ollama-native/thinking_stream.ndjson")}
    real_call = shape(_recorded_json("ollama-native/tool_call_whole.json")["message"]["tool_calls"], ".message.tool_calls")
    for line in lines:
        calls = line["message"].pop("tool_calls", None)
        assert frozenset(shape(line)) in real_lines, line
        if calls is not None:
            assert shape(calls, ".message.tool_calls") == real_call
            line["message"]["tool_calls"] = calls
        assert line["model"] == "weather" and OLLAMA_TIME.fullmatch(line["created_at"]) and line["message"]["role"] == "assistant"
    body, last = lines[:-1], lines[-1]
    assert "".join(line["message"].get("thinking", "") for line in body) == "Paris, so the tool."
    assert "".join(line["message"]["content"] for line in body) == "Let me check."
    assert [line["message"].get("tool_calls") for line in body if "tool_calls" in line["message"]] == [
        [{"id": "call_A", "function": {"index": 0, "name": "get_weather", "arguments": {"city": "Paris"}}}]
    ]
    assert all(line["done"] is False for line in body) and last["done"] is True and last["message"]["content"] == ""


async def test_ollama_s_whole_answer_and_stream_report_the_same_server_durations(server: SimulatorServer) -> None:
    paced = {**SCENARIO, "name": "paced", "timing": {"first_token_ms": 40, "gap_ms": 5}}
    add(server, **paced)
    request = {"model": "paced", "messages": [{"role": "user", "content": "hi"}]}
    whole = (await _post(server, "/api/chat", {**request, "stream": False})).json()
    last = [json.loads(line) for line in (await _post(server, "/api/chat", request)).text.splitlines()][-1]
    durations = ("total_duration", "load_duration", "prompt_eval_duration", "eval_duration", "prompt_eval_count", "eval_count")
    assert {k: whole[k] for k in durations} == {k: last[k] for k in durations}
    assert whole["total_duration"] > 0


async def test_an_ollama_answer_with_no_delays_reports_no_server_time(server: SimulatorServer) -> None:
    add(server, **SCENARIO)
    answer = (await _post(server, "/api/chat", {"model": "weather", "stream": False, "messages": [{"role": "user", "content": "hi"}]})).json()
    assert [answer[k] for k in ("total_duration", "load_duration", "prompt_eval_duration")] == [0, 0, 0]


async def test_ollama_s_cut_answer_says_length(server: SimulatorServer) -> None:
    add(server, name="cut", text="one two three four five six", finish_reason="length", timing={"first_token_ms": 0, "gap_ms": 0})
    answer = (await _post(server, "/api/chat", {"model": "cut", "stream": False, "messages": [{"role": "user", "content": "hi"}]})).json()
    assert answer["done_reason"] == "length"


async def test_ollama_s_model_list_has_the_fields_ollama_lists(server: SimulatorServer) -> None:
    # GET /api/tags, as Ollama documents it (docs/api.md "List Local Models")
    ollama_model = {
        "name": "llama3.2:latest", "model": "llama3.2:latest", "modified_at": "2025-05-10T08:06:48.639712648-07:00",
        "size": 2019393189, "digest": "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
        "details": {"parent_model": "", "format": "gguf", "family": "llama", "families": ["llama"],
                    "parameter_size": "3.2B", "quantization_level": "Q4_K_M"},
    }  # fmt: skip
    async with plain_http_client() as client:
        listed = (await client.get(server.root_url + "/api/tags")).json()["models"]
    assert [model["name"] for model in listed] == sorted(server.scenarios)
    for model in listed:
        assert shape(model) <= shape(ollama_model) and model["model"] == model["name"]
        assert {"name", "model", "modified_at", "size", "digest", "details"} <= set(model)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", model["modified_at"])


async def test_anthropic_s_model_list_pages_like_anthropic_s(server: SimulatorServer) -> None:
    async with plain_http_client() as client:
        listed = (await client.get(server.root_url + "/v1/models", headers={"anthropic-version": "2023-06-01"})).json()
    names = sorted(server.scenarios)
    assert [model["id"] for model in listed["data"]] == names
    assert all(model == {"type": "model", "id": model["id"], "display_name": model["id"], "created_at": "1970-01-01T00:00:00Z"}
               for model in listed["data"])  # fmt: skip
    assert (listed["has_more"], listed["first_id"], listed["last_id"]) == (False, names[0], names[-1])


async def test_each_protocol_s_error_carries_its_request_id_header(server: SimulatorServer) -> None:
    add(server, name="limited", text="x", fault={"http_status": 429})
    paths = {"openai": "/v1/chat/completions", "anthropic": "/v1/messages", "responses": "/v1/responses", "ollama": "/api/chat"}
    header = {"anthropic": "request-id"}
    for protocol, path in paths.items():
        response = await _post(server, path, {"model": "limited", "max_tokens": 9, "messages": [{"role": "user", "content": "hi"}]})
        wanted = header.get(protocol, "x-request-id")
        assert response.status_code == 429
        assert response.headers[wanted].startswith("req_"), (protocol, response.headers)
        assert ("request-id" if wanted == "x-request-id" else "x-request-id") not in response.headers


async def test_each_protocol_s_answer_names_the_model_asked_for_and_carries_its_request_id(server: SimulatorServer) -> None:
    add(server, name="named", text="ok", timing={"first_token_ms": 0, "gap_ms": 0})
    paths = {"openai": "/v1/chat/completions", "anthropic": "/v1/messages", "responses": "/v1/responses", "ollama": "/api/chat"}
    header = {"openai": "x-request-id", "anthropic": "request-id", "responses": "x-request-id"}  # Ollama sends none
    for protocol, path in paths.items():
        response = await _post(server, path, {"model": "named", "stream": False, "max_tokens": 9, "messages": [{"role": "user", "content": "hi"}]})
        assert response.status_code == 200 and response.json()["model"] == "named", (protocol, response.text)
        sent = [name for name in ("x-request-id", "request-id") if name in response.headers]
        assert sent == [header[protocol]] if protocol in header else sent == [], (protocol, response.headers)
        assert all(re.fullmatch(r"req_[0-9a-f]{24}", response.headers[name]) for name in sent), response.headers


async def test_responses_items_have_a_real_responses_stream_s_fields(server: SimulatorServer) -> None:
    add(server, **SCENARIO)
    events = _sse_events((await _post(server, "/v1/responses", {"model": "weather", "input": "hi", "stream": True})).text)
    real = _sse_events((RECORDED / "openai-responses/tool_call_stream.sse").read_text(encoding="utf-8"))
    real += _sse_events((RECORDED / "openai-responses/reasoning_summary_stream.sse").read_text(encoding="utf-8"))
    real_items = {(e["type"], e["item"]["type"]): shape(e["item"]) for e in real if e["type"].startswith("response.output_item.")}
    items = [(e["type"], e["item"]) for e in events if e["type"].startswith("response.output_item.")]
    assert [(kind, item["type"]) for kind, item in items] == [
        ("response.output_item.added", "reasoning"), ("response.output_item.done", "reasoning"),
        ("response.output_item.added", "message"), ("response.output_item.done", "message"),
        ("response.output_item.added", "function_call"), ("response.output_item.done", "function_call"),
    ]  # fmt: skip
    for kind, item in items:
        if item["type"] == "reasoning":  # the real ones also carry encrypted_content, asked for by `include`
            assert shape(item) <= real_items[(kind, "reasoning")] | {".summary:array"}, item
        else:
            assert shape(item) == real_items[(kind, item["type"])], item
    reasoning = [item for _, item in items if item["type"] == "reasoning"]
    assert reasoning[0]["summary"] == [] and reasoning[1]["summary"] == [{"type": "summary_text", "text": "Paris, so the tool."}]
    calls = [item for _, item in items if item["type"] == "function_call"]
    assert [(c["status"], c["call_id"], c["name"], c["arguments"]) for c in calls] == [
        ("in_progress", "call_A", "get_weather", ""), ("completed", "call_A", "get_weather", '{"city": "Paris"}')
    ]
    assert calls[0]["id"] == calls[1]["id"] != reasoning[0]["id"] == reasoning[1]["id"]


async def test_a_whole_responses_answer_counts_its_tokens(server: SimulatorServer) -> None:
    add(server, **SCENARIO)
    whole = (await _post(server, "/v1/responses", {"model": "weather", "input": "hi"})).json()
    assert whole["status"] == "completed"
    assert whole["usage"] == {
        "input_tokens": 12, "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": 9, "output_tokens_details": {"reasoning_tokens": 4}, "total_tokens": 21,
    }  # fmt: skip
    assert [item["type"] for item in whole["output"]] == ["reasoning", "message", "function_call"]
    assert whole["output"][0]["summary"] == [{"type": "summary_text", "text": "Paris, so the tool."}]


async def test_a_responses_stream_that_fails_ends_with_the_failed_response(server: SimulatorServer) -> None:
    add(server, name="failing", text="one two three", chunking={"mode": "word"}, timing={"first_token_ms": 0, "gap_ms": 0},
        fault={"error_event_after_chunks": 1, "error_message": "Overloaded"})  # fmt: skip
    events = _sse_events((await _post(server, "/v1/responses", {"model": "failing", "input": "hi", "stream": True})).text)
    failed = events[-1]
    assert failed["type"] == "response.failed"
    response = failed["response"]
    assert (response["status"], response["output"], response["usage"]) == ("failed", [], None)
    assert response["error"] == {"code": "server_error", "message": "Overloaded"}
    assert response["id"] == events[0]["response"]["id"]
