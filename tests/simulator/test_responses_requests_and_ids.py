"""The Responses API side of the simulator reads the request as that API writes it — `input` as
a string or as items (messages, function calls and their outputs), `instructions` — for echo,
for answers to tool results and for the prompt's token count; and its response names the model,
the request's instructions and tools, and ids shaped as the API's (resp_, rs_, msg_, fc_)."""

from __future__ import annotations

import json
import math
from typing import Any

from core.simulator import SimulatorServer

from .conftest import plain_http_client
from .helpers import add

INSTANT = {"first_token_ms": 0, "gap_ms": 0}
TOOLS = [{"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}}]


async def _respond(server: SimulatorServer, body: dict[str, Any]) -> dict[str, Any]:
    async with plain_http_client() as client:
        response = await client.post(server.root_url + "/v1/responses", json=body)
    assert response.status_code == 200, response.text
    return json.loads(response.text)


def _text(response: dict[str, Any]) -> str:
    return "".join(p["text"] for item in response["output"] if item["type"] == "message" for p in item["content"])


async def test_echo_reads_the_input_string_or_the_last_user_item(server: SimulatorServer) -> None:
    add(server, name="parrot", echo=True, timing=INSTANT)
    assert _text(await _respond(server, {"model": "parrot", "input": "say this back"})) == "say this back"
    items = [
        "not an item",
        {"role": "user", "content": "the question"},
        {"type": "message", "role": "assistant", "content": "an answer"},
    ]
    assert _text(await _respond(server, {"model": "parrot", "input": items})) == "the question"


async def test_a_function_call_output_item_is_an_answer_to_tool_results(server: SimulatorServer) -> None:
    add(server, name="weather", text="Let me check.", after_tool_results="18 degrees.", timing=INSTANT,
        tool_calls=[{"id": "call_A", "name": "get_weather", "arguments": {"city": "Paris"}}])  # fmt: skip
    first = await _respond(server, {"model": "weather", "input": "weather?"})
    assert [item["type"] for item in first["output"]] == ["message", "function_call"]
    items = [
        {"role": "user", "content": "weather?"},
        {"type": "function_call", "call_id": "call_A", "name": "get_weather", "arguments": '{"city": "Paris"}'},
        {"type": "function_call_output", "call_id": "call_A", "output": "18 C"},
    ]
    after = await _respond(server, {"model": "weather", "input": items})
    assert [item["type"] for item in after["output"]] == ["message"] and _text(after) == "18 degrees."


async def test_the_prompt_is_counted_from_instructions_and_every_input_item(server: SimulatorServer) -> None:
    add(server, name="counted", text="ok", timing=INSTANT)
    instructions, question, arguments, output = "Be brief and exact.", "weather in Paris?", '{"city": "Paris"}', "18 C, sunny"
    items = [
        {"role": "user", "content": question},
        {"type": "function_call", "call_id": "call_A", "name": "get_weather", "arguments": arguments},
        {"type": "function_call_output", "call_id": "call_A", "output": output},
        {"role": "user", "content": question},
    ]
    answer = await _respond(server, {"model": "counted", "instructions": instructions, "input": items})
    chars = len(instructions) + 2 * len(question) + len(arguments) + len(output)
    assert answer["usage"]["input_tokens"] == math.ceil(chars / 4)  # the simulator's 4 characters a token


async def test_a_response_names_its_model_instructions_tools_and_api_shaped_ids(server: SimulatorServer) -> None:
    add(server, name="weather", reasoning="Paris.", text="Let me check.", timing=INSTANT,
        tool_calls=[{"id": "call_A", "name": "get_weather", "arguments": {"city": "Paris"}}])  # fmt: skip
    body = {"model": "weather", "input": "weather?", "instructions": "Be brief.", "tools": TOOLS}
    first, second = await _respond(server, body), await _respond(server, body)
    for answer in (first, second):
        assert (answer["model"], answer["instructions"], answer["tools"]) == ("weather", "Be brief.", TOOLS)
        assert isinstance(answer["created_at"], int) and answer["created_at"] > 1_700_000_000
        ids = [answer["id"]] + [item["id"] for item in answer["output"]]
        assert [i.split("_")[0] for i in ids] == ["resp", "rs", "msg", "fc"]
        assert all(len(i.split("_", 1)[1]) >= 24 for i in ids), ids
    assert not {first["id"], *(i["id"] for i in first["output"])} & {second["id"], *(i["id"] for i in second["output"])}
    plain = await _respond(server, {"model": "weather", "input": "weather?", "instructions": 7, "tools": "none"})
    assert (plain["instructions"], plain["tools"]) == (None, [])  # not the API's types: left out
