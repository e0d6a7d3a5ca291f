"""The `openai-responses` provider kind: real recorded Responses streams replayed through
the runner (sources in recorded_quirks/README.md), the simulator's Responses wire end to
end (stream and not, tool continuation, faults), and the request translation."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from runkit import NO_DELAY, SSE_HEAD, RawServer, run_to_end

from core.events import Failed, Finished, ReasoningDelta, RefusalDelta, TextDelta, ToolCallDelta
from core.providers.base import Frame, ProviderError
from core.providers.openai_responses import OpenAIResponsesAdapter, OpenAIResponsesDecoder
from core.providers.registry import resolve
from core.request import ChatRequest, Message, ToolCall, ToolSpec
from core.simulator.scenario import scenario_from_dict
from core.store.models import ModelConfig

RECORDED = Path(__file__).with_name("recorded_quirks")
WEATHER = ToolSpec("get_weather", "Current weather", {"type": "object", "properties": {"city": {"type": "string"}}})


def responses_config(root_url: str, model: str, **fields) -> ModelConfig:
    params = {"max_retries": 0, **fields.pop("params", {})}
    return ModelConfig(name=f"test-{model}", provider="openai-responses", model=model,
                       base_url=root_url + "/v1", params=params, **fields)  # fmt: skip


def replaying(body: bytes) -> RawServer:
    async def handler(_request, writer):
        writer.write(SSE_HEAD + body)
        await writer.drain()

    return RawServer(handler)


def feed(decoder: OpenAIResponsesDecoder, kind: str, payload: dict) -> list:
    data = orjson.dumps({"type": kind, **payload}).decode()
    return decoder.feed(Frame(0.0, f"event: {kind}\ndata: {data}", kind, data))


# --- real recorded streams -------------------------------------------------------


async def test_recorded_text_stream():
    async with replaying((RECORDED / "responses_text_stream.sse").read_bytes()) as server:
        outcome = await run_to_end(responses_config(server.root_url, "gpt-5.5"), "Reply with exactly: pong")

    assert isinstance(outcome.last, Finished), outcome.last
    final, metrics = outcome.last.final_response, outcome.last.metrics
    assert [e.content for e in outcome.of_type(TextDelta)] == ["pong"]
    assert (final["content"], final["finish_reason"], final["model"]) == ("pong", "stop", "gpt-5.5-2026-04-23")
    assert final["id"] == "resp_00592e63e61b66660169fab1b9f8e481a2b321356198d7ac1b"
    assert (metrics["prompt_tokens"], metrics["completion_tokens"], metrics["total_tokens"]) == (11, 5, 16)
    assert metrics["usage_source"] == "provider" and metrics["chunks"] == 1


async def test_recorded_function_call_stream():
    async with replaying((RECORDED / "responses_tool_call_stream.sse").read_bytes()) as server:
        request = ChatRequest.from_prompt("What is 1231 * 2331?", tools=[WEATHER])
        outcome = await run_to_end(responses_config(server.root_url, "gpt-5.5"), request)

    final = outcome.last.final_response
    [call] = final["tool_calls"]
    assert (call["id"], call["name"], call["arguments"]) == ("call_sVidsfFJ6zlzRpelrPkTPlpd", "multiply", {"a": 1231, "b": 2331})
    assert final["finish_reason"] == "tool_calls"
    deltas = outcome.of_type(ToolCallDelta)
    # named as soon as the item is added, then the arguments as they stream
    assert (deltas[0].id, deltas[0].name, deltas[0].arguments_delta) == ("call_sVidsfFJ6zlzRpelrPkTPlpd", "multiply", "")
    assert "".join(d.arguments_delta for d in deltas) == '{"a":1231,"b":2331}' and len(deltas) == 12


async def test_recorded_deepseek_stream_with_reasoning_text_and_cached_tokens():
    async with replaying((RECORDED / "deepseek_responses_tool_call_stream.sse").read_bytes()) as server:
        outcome = await run_to_end(responses_config(server.root_url, "deepseek-v4-flash", price_input=1.0,
                                                    price_cached_input=0.1, price_output=2.0), "temperature in Tokyo?")  # fmt: skip

    final, metrics = outcome.last.final_response, outcome.last.metrics
    assert "".join(e.reasoning for e in outcome.of_type(ReasoningDelta)) == final["reasoning"]
    assert final["reasoning"] == "The user asks about temperature in Tokyo. I'll call the tool."
    assert final["tool_calls"][0]["arguments"] == {"city": "Tokyo"}
    assert (metrics["prompt_tokens"], metrics["cached_tokens"], metrics["reasoning_tokens"]) == (366, 256, 14)
    # 110 uncached input at $1, 256 cached at $0.1, 59 output at $2 — per million
    assert metrics["cost_usd"] == pytest.approx((110 * 1.0 + 256 * 0.1 + 59 * 2.0) / 1e6)


async def test_a_recorded_stream_cut_before_its_terminal_event_is_stream_cut_with_output_kept():
    body = (RECORDED / "deepseek_responses_tool_call_stream.sse").read_bytes()
    cut = body[: body.index(b"event: response.function_call_arguments.delta")]
    async with replaying(cut) as server:
        outcome = await run_to_end(responses_config(server.root_url, "deepseek-v4-flash"), "temperature in Tokyo?")

    failure = outcome.last
    assert isinstance(failure, Failed) and failure.error_type == "stream_cut"
    assert failure.partial_response["reasoning"].startswith("The user asks")
    assert failure.partial_response["tool_calls"][0]["name"] == "get_temperature"


# --- terminal events and errors ---------------------------------------------------------


def test_incomplete_is_length_with_the_reason_given():
    decoder = OpenAIResponsesDecoder(stream=True)
    feed(decoder, "response.output_text.delta", {"delta": "One two", "output_index": 0})
    feed(decoder, "response.incomplete", {"response": {"id": "resp_1", "status": "incomplete",
         "incomplete_details": {"reason": "max_output_tokens"}, "usage": {"input_tokens": 3, "output_tokens": 2}}})  # fmt: skip
    decoder.finish()
    final = decoder.response.snapshot()
    assert (final["finish_reason"], final["provider_finish_reason"], final["content"]) == ("length", "max_output_tokens", "One two")

    filtered = OpenAIResponsesDecoder(stream=True)
    feed(filtered, "response.incomplete", {"response": {"incomplete_details": {"reason": "content_filter"}}})
    assert filtered.response.snapshot()["finish_reason"] == "content_filter"


def test_failed_is_an_error_with_the_providers_message_and_partial_output_kept():
    decoder = OpenAIResponsesDecoder(stream=True)
    feed(decoder, "response.output_text.delta", {"delta": "Half an answer", "output_index": 0})
    with pytest.raises(ProviderError) as raised:
        feed(decoder, "response.failed", {"response": {"id": "resp_2", "status": "failed",
             "error": {"code": "server_error", "message": "The model had an error"}}})  # fmt: skip
    assert (raised.value.error_type, raised.value.message) == (
        "server_error", "provider error in stream: The model had an error (server_error)")
    assert decoder.response.content == "Half an answer"


def test_an_error_event_is_an_error():
    # the `error` event's fields sit at its top level
    decoder = OpenAIResponsesDecoder(stream=True)
    with pytest.raises(ProviderError) as raised:
        feed(decoder, "error", {"code": "rate_limit_exceeded", "message": "Slow down", "param": None, "sequence_number": 3})
    assert (raised.value.error_type, raised.value.message) == ("rate_limit", "provider error in stream: Slow down (rate_limit_exceeded)")


def test_refusal_and_summary_parts():
    decoder = OpenAIResponsesDecoder(stream=True)
    events = [*feed(decoder, "response.reasoning_summary_part.added", {"summary_index": 0})]
    events += feed(decoder, "response.reasoning_summary_text.delta", {"delta": "**First**"})
    events += feed(decoder, "response.reasoning_summary_part.added", {"summary_index": 1})
    events += feed(decoder, "response.reasoning_summary_text.delta", {"delta": "**Second**"})
    events += feed(decoder, "response.refusal.delta", {"delta": "I can't help with that."})
    feed(decoder, "response.completed", {"response": {"status": "completed"}})
    assert [type(e) for e in events] == [ReasoningDelta, ReasoningDelta, RefusalDelta]
    final = decoder.response.snapshot()
    assert final["reasoning"] == "**First**\n\n**Second**"
    assert final["refusal"] == "I can't help with that." and final["finish_reason"] == "content_filter"


# --- the simulator's Responses wire, end to end ---------------------------------------


async def test_demo_responses_streamed_and_not_say_the_same(simulator):
    scenario = simulator.scenarios["demo-responses"]
    scenario.timing = scenario_from_dict({"name": "x", "timing": NO_DELAY}).timing
    config = responses_config(simulator.root_url, "demo-responses", price_input=1.0, price_output=2.0)
    streamed = await run_to_end(config, "hello")
    whole = await run_to_end(config, ChatRequest.from_prompt("hello", stream=False))

    for outcome in (streamed, whole):
        final = outcome.last.final_response
        assert (final["content"], final["reasoning"]) == (scenario.text, scenario.reasoning)
        assert outcome.last.metrics["usage_source"] == "provider" and outcome.last.metrics["cost_usd"] > 0
    assert streamed.last.metrics["completion_tokens"] == whole.last.metrics["completion_tokens"]
    assert len(streamed.of_type(TextDelta)) > 1 and len(whole.of_type(TextDelta)) == 1
    assert simulator.exchanges[-1].path == "/v1/responses"


async def test_tool_results_continue_the_conversation(simulator):
    simulator.scenarios["demo-responses-tools"].timing = scenario_from_dict({"name": "x", "timing": NO_DELAY}).timing
    config = responses_config(simulator.root_url, "demo-responses-tools")
    first = await run_to_end(config, ChatRequest.from_prompt("Weather in Paris?", tools=[WEATHER], system="Be brief"))
    [call] = first.last.final_response["tool_calls"]
    assert (call["id"], call["arguments"]) == ("call_paris", {"city": "Paris", "unit": "celsius"})

    follow_up = ChatRequest(
        messages=[
            Message("user", "Weather in Paris?"),
            Message("assistant", tool_calls=[ToolCall(call["id"], call["name"], call["arguments_raw"])]),
            Message("tool", '{"temperature": 18}', tool_call_id=call["id"]),
        ],
        tools=[WEATHER],
    )
    second = await run_to_end(config, follow_up)
    assert second.last.final_response["content"] == simulator.scenarios["demo-responses-tools"].after_tool_results
    sent = simulator.exchanges[-1].body["input"]
    assert sent[1:] == [
        {"type": "function_call", "call_id": "call_paris", "name": "get_weather", "arguments": call["arguments_raw"]},
        {"type": "function_call_output", "call_id": "call_paris", "output": '{"temperature": 18}'},
    ]
    assert simulator.exchanges[0].body["instructions"] == "Be brief"


@pytest.mark.parametrize(
    ("fault", "error_type"),
    [({"error_event_after_chunks": 3, "error_message": "Overloaded"}, "server_error"),
     ({"drop_after_chunks": 3}, "stream_cut"),
     ({"malformed_after_chunks": 3}, "malformed_chunk")],
)  # fmt: skip
async def test_faults_mid_stream_keep_the_partial_output(simulator, fault, error_type):
    simulator.add_scenario(scenario_from_dict({"name": "shaky", "api": "responses", "text": "One two three four five",
                                               "chunking": {"mode": "word"}, "timing": NO_DELAY, "fault": fault}))  # fmt: skip
    outcome = await run_to_end(responses_config(simulator.root_url, "shaky"), "go")
    failure = outcome.last
    assert isinstance(failure, Failed) and failure.error_type == error_type
    assert failure.partial_response["content"] == "One two three"


async def test_an_http_error_is_mapped_like_any_other(simulator):
    outcome = await run_to_end(responses_config(simulator.root_url, "fault-429"), "go")
    assert (outcome.last.error_type, outcome.last.http_status, outcome.last.retry_after) == ("rate_limit", 429, "7")


# --- the request ---------------------------------------------------------------------------


def test_request_translation():
    config = ModelConfig(name="r", provider="openai-responses", model="gpt-5",
                         params={"max_tokens": 300, "reasoning_effort": "low", "reasoning_summary": "auto", "max_retries": 1})  # fmt: skip
    request = ChatRequest.from_prompt("hi", system="Be brief", tools=[WEATHER], tool_choice="get_weather")
    body = OpenAIResponsesAdapter().request_body(config, request, stream=True)
    assert body == {
        "model": "gpt-5",
        "input": [{"role": "user", "content": "hi"}],
        "instructions": "Be brief",
        "max_output_tokens": 300,
        "reasoning": {"effort": "low", "summary": "auto"},
        "tools": [{"type": "function", "name": "get_weather", "description": "Current weather",
                   "parameters": WEATHER.parameters, "strict": False}],
        "tool_choice": {"type": "function", "name": "get_weather"},
        "stream": True,
    }  # fmt: skip
    assert OpenAIResponsesAdapter().endpoint(config) == "https://api.openai.com/v1/responses"


def test_chat_only_params_are_refused_not_dropped():
    config = ModelConfig(name="r", provider="openai-responses", model="gpt-5", params={"stop": ["\n"]})
    with pytest.raises(ProviderError) as raised:
        OpenAIResponsesAdapter().request_body(config, ChatRequest.from_prompt("hi"), stream=True)
    assert raised.value.error_type == "unsupported_param" and "stop" in raised.value.message


def test_the_kind_resolves_to_the_responses_adapter():
    resolved = resolve(ModelConfig(name="r", provider="openai-responses", model="gpt-5"))
    assert resolved.protocol == "responses" and isinstance(resolved.adapter, OpenAIResponsesAdapter)
