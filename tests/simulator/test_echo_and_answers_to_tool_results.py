"""What a scenario answers when the request hands back tool results (`after_tool_results`: plain
text, no reasoning, no new calls, finish "stop", tokens counted from that text), and what `echo`
says back: the last *user* message, nothing when there is none."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from core.simulator import SimulatorServer, scenario_from_dict

from .conftest import plain_http_client
from .helpers import add

INSTANT = {"first_token_ms": 0, "gap_ms": 0}


async def _stream(server: SimulatorServer, model: str, messages: list[Any]) -> tuple[str, str, str | None, dict[str, Any]]:
    body = {"model": model, "messages": messages, "stream": True, "stream_options": {"include_usage": True}}
    async with plain_http_client() as client:
        response = await client.post(server.root_url + "/v1/chat/completions", json=body)
    chunks = [json.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: {")]
    text = reasoning = ""
    finish = None
    for chunk in chunks:
        for choice in chunk["choices"]:
            text += choice["delta"].get("content") or ""
            reasoning += choice["delta"].get("reasoning_content") or ""
            assert "tool_calls" not in choice["delta"] or not choice["delta"]["tool_calls"]
            finish = choice["finish_reason"] or finish
    return text, reasoning, finish, chunks[-1]["usage"]


async def test_an_answer_to_tool_results_is_plain_text_that_stops(server: SimulatorServer) -> None:
    after = "It is 18 degrees in Paris, and sunny."
    add(server, name="weather", reasoning="Paris, so the tool.", text="Let me check.", timing=INSTANT,
        chunking={"mode": "fixed", "size": 5}, after_tool_results=after,
        tool_calls=[{"id": "call_A", "name": "get_weather", "arguments": {"city": "Paris"}}])  # fmt: skip
    messages = [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": None,
         "tool_calls": [{"id": "call_A", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_A", "content": "18 C, sunny"},
    ]  # fmt: skip
    text, reasoning, finish, usage = await _stream(server, "weather", messages)
    assert (text, reasoning, finish) == (after, "", "stop")
    assert usage["completion_tokens"] == math.ceil(len(after) / 4)  # the simulator's 4 characters a token
    assert usage["completion_tokens_details"]["reasoning_tokens"] == 0


async def test_echo_says_back_the_last_user_message_and_nothing_without_one(server: SimulatorServer) -> None:
    add(server, name="parrot", echo=True, timing=INSTANT)
    asked = [
        "not a message",
        {"role": "user", "content": "say this back"},
        {"role": "assistant", "content": "an earlier answer"},
    ]
    assert (await _stream(server, "parrot", asked))[0] == "say this back"
    assert (await _stream(server, "parrot", [{"role": "system", "content": "be brief"}]))[0] == ""


async def test_anthropic_tool_result_blocks_are_an_answer_to_tool_results(server: SimulatorServer) -> None:
    add(server, name="weather", text="Let me check.", after_tool_results="18 degrees.", timing=INSTANT,
        tool_calls=[{"id": "toolu_A", "name": "get_weather", "arguments": {"city": "Paris"}}])  # fmt: skip

    async def answer(messages: list[Any]) -> list[dict[str, Any]]:
        body = {"model": "weather", "max_tokens": 50, "messages": messages}
        async with plain_http_client() as client:
            response = await client.post(server.root_url + "/v1/messages", json=body)
        return response.json()["content"]

    asked = {"role": "user", "content": "weather?"}
    called = {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_A", "name": "get_weather", "input": {}}]}
    results = {"role": "user", "content": ["a stray string", {"type": "tool_result", "tool_use_id": "toolu_A", "content": "18 C"}]}
    assert [block["type"] for block in await answer([asked])] == ["text", "tool_use"]
    assert await answer([asked, called, results]) == [{"type": "text", "text": "18 degrees."}]
    # tool results earlier in the talk, a plain question last: the scenario's own answer again
    assert [block["type"] for block in await answer([asked, called, results, {"role": "assistant", "content": "18 degrees."}, asked])] == ["text", "tool_use"]
    not_results = {"role": "user", "content": [{"type": "text", "text": "and tomorrow?"}]}
    assert [block["type"] for block in await answer([asked, called, not_results])] == ["text", "tool_use"]
    assert [block["type"] for block in await answer([asked, "not a message"])] == ["text", "tool_use"]


async def test_an_answer_to_tool_results_counts_its_tokens_as_any_answer_of_that_text(server: SimulatorServer) -> None:
    after = "It is 18 degrees in Paris and sunny."  # 36 characters: one more would be a token more
    add(server, name="weather", text="Let me check.", timing=INSTANT, after_tool_results=after,
        tool_calls=[{"id": "call_A", "name": "get_weather", "arguments": {"city": "Paris"}}])  # fmt: skip
    add(server, name="plain", text=after, timing=INSTANT)
    results = [{"role": "tool", "tool_call_id": "call_A", "content": "18 C, sunny"}]
    answered, plain = await _stream(server, "weather", results), await _stream(server, "plain", results)
    assert answered[0] == plain[0] == after
    assert answered[3]["completion_tokens"] == plain[3]["completion_tokens"] == len(after) // 4


async def test_a_request_with_no_messages_gets_the_scenario_s_own_answer(server: SimulatorServer) -> None:
    add(server, name="weather", text="Let me check.", timing=INSTANT, after_tool_results="18 degrees.")
    text, _, finish, _ = await _stream(server, "weather", [])
    assert (text, finish) == ("Let me check.", "stop")


RECORDED_CALL_IDS = {  # and tests/recorded/openai-responses/tool_call_whole.json, ollama-native/tool_call_whole.json
    "/v1/chat/completions": "call_1EYWDzueHEp8OsB8jJSEp7WB", "/v1/messages": "toolu_01CzN6riCPqw4pVSuTd9Dwn7",
    "/v1/responses": "call_nJmCK7SJe3ajdYYplIbH0KgL", "/api/chat": "call_gsiiy8py",
}  # fmt: skip


async def test_tool_call_ids_the_scenario_leaves_out_are_shaped_like_the_provider_s(server: SimulatorServer) -> None:
    """As long as ids recorded from api.openai.com (tests/recorded/openai/tool_call_stream.sse, the
    Responses API's call_id) and api.anthropic.com, with the same prefix (Ollama's: its prefix): a
    client that stores or checks them sees no difference, on every protocol the simulator speaks."""
    add(server, name="tools", text="", timing=INSTANT, tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris"}}])
    body = {"model": "tools", "max_tokens": 50, "messages": [{"role": "user", "content": "weather?"}]}
    async with plain_http_client() as client:
        openai_answer = (await client.post(server.root_url + "/v1/chat/completions", json=body)).json()
        anthropic_answer = (await client.post(server.root_url + "/v1/messages", json=body)).json()
        responses_answer = (await client.post(server.root_url + "/v1/responses", json={"model": "tools", "input": "weather?"})).json()
        ollama_answer = (await client.post(server.root_url + "/api/chat", json={**body, "stream": False})).json()
    made = {
        "/v1/chat/completions": openai_answer["choices"][0]["message"]["tool_calls"][0]["id"],
        "/v1/messages": next(block["id"] for block in anthropic_answer["content"] if block["type"] == "tool_use"),
        "/v1/responses": next(item["call_id"] for item in responses_answer["output"] if item["type"] == "function_call"),
        "/api/chat": ollama_answer["message"]["tool_calls"][0]["id"],
    }
    for path, recorded in RECORDED_CALL_IDS.items():
        assert made[path].startswith(recorded.split("_")[0] + "_"), made
        if path != "/api/chat":  # Ollama's own ids are shorter and vary; a client only keeps and returns them
            assert len(made[path]) == len(recorded), made


async def test_anthropic_s_model_list_of_a_server_without_scenarios_is_empty() -> None:
    async with SimulatorServer({}) as server, plain_http_client() as client:
        listed = await client.get(server.root_url + "/v1/models", headers={"anthropic-version": "2023-06-01"})
    assert listed.json() == {"data": [], "has_more": False, "first_id": None, "last_id": None}


async def test_anthropic_s_model_list_names_each_scenario_as_anthropic_lists_models() -> None:
    scenarios = {name: scenario_from_dict({"name": name, "text": "x"}) for name in ("alpha", "beta")}
    async with SimulatorServer(scenarios) as server, plain_http_client() as client:
        listed = (await client.get(server.root_url + "/v1/models", headers={"anthropic-version": "2023-06-01"})).json()
    ids = [model["id"] for model in listed["data"]]
    assert sorted(ids) == ["alpha", "beta"] and (listed["first_id"], listed["last_id"]) == (ids[0], ids[-1])
    assert listed["has_more"] is False
    for model in listed["data"]:
        assert set(model) == {"type", "id", "display_name", "created_at"} and model["type"] == "model"
        assert model["display_name"] == model["id"] and datetime.fromisoformat(model["created_at"]).tzinfo is not None


async def test_a_short_answer_counts_one_token(server: SimulatorServer) -> None:
    add(server, name="short", text="Hi.", timing=INSTANT)
    assert (await _stream(server, "short", [{"role": "user", "content": "hi"}]))[3]["completion_tokens"] == 1
