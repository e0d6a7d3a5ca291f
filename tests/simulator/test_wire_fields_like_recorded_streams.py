"""Every field the simulator writes — in OpenAI chunks and completions, Anthropic events and
messages, Responses API events and responses — is one the real provider writes in the same
place (tests/recorded holds their recorded answers), with the same `type`, `object` and `role`
words: a client written against the real API reads the simulator's answers the same way."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from core.simulator import SimulatorServer

from .conftest import plain_http_client
from .helpers import add

RECORDED = Path(__file__).resolve().parent.parent / "recorded"
WORDS = ("type", "object", "role")  # fields whose value is a word of the API, not data
SCENARIO = {
    "name": "weather", "reasoning": "Paris, so the tool.", "text": "Let me check.",
    "tool_calls": [{"id": "call_A", "name": "get_weather", "arguments": {"city": "Paris"}}],
    "chunking": {"mode": "word"}, "timing": {"first_token_ms": 0, "gap_ms": 0},
    "usage": {"prompt_tokens": 12, "completion_tokens": 9, "reasoning_tokens": 4, "cached_tokens": 2},
}  # fmt: skip
USER = [{"role": "user", "content": "weather?"}]


def fields(value: Any, path: str = "") -> set[str]:
    """Each field's path and JSON type (and the word, for WORDS); a tool's input is the caller's."""
    if isinstance(value, dict):
        found: set[str] = set()
        for key, item in value.items():
            where = f"{path}.{key}"
            if key in WORDS and isinstance(item, str):
                found.add(f"{where}={item}")
            elif key in ("input", "arguments") and isinstance(item, dict):
                found.add(f"{where}:object")
            else:
                found |= fields(item, where)
        return found or {f"{path}:object"}
    if isinstance(value, list):
        return set().union({f"{path}:array"}, *(fields(item, path + "[]") for item in value))
    kind = "number" if isinstance(value, (int, float)) and not isinstance(value, bool) else type(value).__name__
    return {f"{path}:{kind}"}


def _sse_data(text: str) -> list[Any]:
    return [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ") and line != "data: [DONE]"]


def _recorded(pattern: str) -> list[Any]:
    found: list[Any] = []
    for file in sorted(RECORDED.glob(pattern)):
        text = file.read_text(encoding="utf-8")
        found += _sse_data(text) if file.suffix == ".sse" else [json.loads(text)]
    return found


def _by_type(events: list[Any]) -> dict[str, set[str]]:
    union: dict[str, set[str]] = defaultdict(set)
    for event in events:
        union[event.get("type", "")] |= fields(event)
    return union


def _unknown(sim: list[Any], real: dict[str, set[str]]) -> list[tuple[str, list[str]]]:
    """The simulator's fields no recorded event of the same type has (a null is fine where
    the recording has a value: e.g. no reasoning effort for a model that does not reason)."""
    found = []
    for event in sim:
        known = real[event.get("type", "")]
        extra = [f for f in sorted(fields(event) - known) if not (f.endswith(":NoneType") and any(
            k.startswith((f[: -len("NoneType")], f[: -len(":NoneType")] + ".", f[: -len(":NoneType")] + "=")) for k in known))]
        if extra:
            found.append((event.get("type", ""), extra))
    return found


async def _post(server: SimulatorServer, path: str, body: dict[str, Any]) -> str:
    async with plain_http_client() as client:
        response = await client.post(server.root_url + path, json=body)
    assert response.status_code == 200, response.text
    return response.text


async def test_openai_chunks_and_completions_have_only_the_real_ones_fields(server: SimulatorServer) -> None:
    add(server, **SCENARIO)
    request = {"model": "weather", "messages": USER}
    chunks = _sse_data(await _post(server, "/v1/chat/completions", {**request, "stream": True, "stream_options": {"include_usage": True}}))
    whole = json.loads(await _post(server, "/v1/chat/completions", request))
    # DeepSeek's recordings add `reasoning_content`, the field the simulator's reasoning uses.
    real_chunks = _by_type(_recorded("openai/*.sse") + _recorded("deepseek/reasoner_stream.sse"))
    real_wholes = _by_type(_recorded("openai/*_whole*.json") + _recorded("deepseek/*_whole.json"))
    assert _unknown(chunks, real_chunks) == [] and _unknown([whole], real_wholes) == []
    usage = chunks[-1]["usage"]
    assert chunks[-1]["choices"] == [] and usage == whole["usage"]
    assert (usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"]) == (12, 9, 21)
    assert usage["prompt_tokens_details"]["cached_tokens"] == 2 and usage["completion_tokens_details"]["reasoning_tokens"] == 4
    assert all(chunk["id"] == chunks[0]["id"] and chunk["model"] == "weather" for chunk in chunks)
    assert whole["choices"][0]["index"] == 0 and whole["choices"][0]["finish_reason"] == "tool_calls"
    assert whole["choices"][0]["message"]["tool_calls"] == [
        {"id": "call_A", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
    ]


async def test_anthropic_events_and_messages_have_only_the_real_ones_fields(server: SimulatorServer) -> None:
    add(server, **SCENARIO)
    request = {"model": "weather", "max_tokens": 100, "messages": USER}
    text = await _post(server, "/v1/messages", {**request, "stream": True})
    events = _sse_data(text)
    names = [line[7:] for line in text.splitlines() if line.startswith("event: ")]
    assert names == [event["type"] for event in events]  # each event named as its type
    real = _by_type(_recorded("anthropic/*.sse"))
    assert _unknown(events, real) == []
    whole = json.loads(await _post(server, "/v1/messages", request))
    start = next(e["message"] for e in _recorded("anthropic/*.sse") if e["type"] == "message_start")
    assert set(whole) == set(start) and (whole["type"], whole["role"]) == ("message", "assistant")
    assert whole["id"].startswith("msg_") and whole["stop_sequence"] is None and whole["stop_reason"] == "tool_use"


async def test_responses_events_and_responses_have_only_the_real_ones_fields(server: SimulatorServer) -> None:
    add(server, **SCENARIO)
    events = _sse_data(await _post(server, "/v1/responses", {"model": "weather", "input": "weather?", "stream": True}))
    recorded = _recorded("openai-responses/*.sse")
    real = _by_type(recorded)
    assert _unknown(events, real) == []
    whole = json.loads(await _post(server, "/v1/responses", {"model": "weather", "input": "weather?"}))
    real_items = _by_type([e["item"] for e in recorded if e["type"] == "response.output_item.done"])
    real_wholes = _recorded("openai-responses/*_whole.json")
    assert set(whole) <= set().union(*real_wholes)
    assert _unknown(whole["output"], real_items) == []
    summary = [e for e in events if e["type"].startswith("response.reasoning_summary_part.")]
    assert [(e["type"], e["part"], e["summary_index"], e["output_index"]) for e in summary] == [
        ("response.reasoning_summary_part.added", {"type": "summary_text", "text": ""}, 0, 0),
        ("response.reasoning_summary_part.done", {"type": "summary_text", "text": "Paris, so the tool."}, 0, 0),
    ]
    reasoning_id = next(e["item"]["id"] for e in events if e["type"] == "response.output_item.added")
    assert all(e["item_id"] == reasoning_id for e in summary)
