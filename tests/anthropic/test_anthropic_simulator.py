"""The Anthropic adapter against the simulator's /v1/messages: thinking, text,
tool_use, faults, streamed vs not, usage with cache tokens."""

from __future__ import annotations

from anthropic_support import builtin_without_delays, scripted

from core.events import Failed, Finished, ReasoningDelta, TextDelta, ToolCallDelta
from core.request import ChatRequest
from core.simulator.anthropic_wire import signature_for
from core.simulator.scenario import Timing
from core.store import Store


async def test_thinking_text_and_tool_use_in_one_stream(simulator, anthropic_config, collect):
    scenario = builtin_without_delays("demo-claude")
    simulator.add_scenario(scenario)
    config = anthropic_config(simulator.root_url, model="demo-claude")
    outcome = await collect(config, ChatRequest.from_prompt("Weather in Tokyo?"))

    assert isinstance(outcome.last, Finished), outcome.last
    final = outcome.last.final_response
    assert final["reasoning"] == scenario.reasoning
    assert final["content"] == "I'll look up the current weather in 東京 for you."
    [call] = final["tool_calls"]
    assert call["name"] == "get_weather" and call["index"] == 0
    assert call["arguments"] == {"city": "東京", "unit": "celsius", "note": "café ☕"}
    assert final["finish_reason"] == "tool_calls"
    # the signed thinking block, kept whole so the next turn can send it back
    assert final["thinking_blocks"] == [{"thinking": scenario.reasoning, "signature": signature_for(scenario.reasoning)}]

    kinds = [type(e) for e in outcome.events if isinstance(e, (ReasoningDelta, TextDelta, ToolCallDelta))]
    first_text, first_tool = kinds.index(TextDelta), kinds.index(ToolCallDelta)
    assert set(kinds[:first_text]) == {ReasoningDelta}
    assert set(kinds[first_text:first_tool]) == {TextDelta} and set(kinds[first_tool:]) == {ToolCallDelta}


async def test_parallel_tool_calls_with_fragments_split_mid_key_and_mid_character(simulator, anthropic_config, collect):
    simulator.add_scenario(
        scripted(
            "parallel",
            text="Checking both.",
            tool_calls=[
                {"id": "toolu_a", "name": "get_weather", "arguments": '{"location": "東京都", "note": "☕☕"}'},
                # \u escapes cut in the middle by 3-character fragments
                {"id": "toolu_b", "name": "get_time", "arguments": '{"timezone": "\\u6771\\u4eac"}'},
            ],
            chunking={"mode": "fixed", "size": 4, "arguments_size": 3},
        )
    )
    outcome = await collect(anthropic_config(simulator.root_url, model="parallel"), ChatRequest.from_prompt("go"))

    assert isinstance(outcome.last, Finished), outcome.last
    calls = outcome.last.final_response["tool_calls"]
    assert [(c["index"], c["id"], c["name"]) for c in calls] == [(0, "toolu_a", "get_weather"), (1, "toolu_b", "get_time")]
    assert calls[0]["arguments"] == {"location": "東京都", "note": "☕☕"}
    assert calls[1]["arguments"] == {"timezone": "東京"}
    assert calls[1]["arguments_raw"] == '{"timezone": "\\u6771\\u4eac"}'
    fragments = [d.arguments_delta for d in outcome.of_type(ToolCallDelta) if d.index == 0 and d.arguments_delta]
    assert fragments[:2] == ['{"l', "oca"]  # the key arrives in pieces
    # indexes count tool calls (0, 1), not content blocks (the text block is block 0)
    assert {d.index for d in outcome.of_type(ToolCallDelta)} == {0, 1}


async def test_error_event_mid_stream_fails_with_partial_output_saved(simulator, anthropic_config, collect):
    simulator.add_scenario(
        scripted("overloaded-mid", text="one two three four five six", chunking={"mode": "word"},
                 fault={"error_event_after_chunks": 3, "error_message": "Overloaded"})
    )  # fmt: skip
    store = Store()
    config = anthropic_config(simulator.root_url, model="overloaded-mid")
    outcome = await collect(config, ChatRequest.from_prompt("count"), store=store)

    assert isinstance(outcome.last, Failed), outcome.last
    assert outcome.last.error_type == "overloaded"
    assert "Overloaded" in outcome.last.error
    assert outcome.last.http_status == 200  # the error came inside a 200 response
    assert outcome.last.partial_response["content"] == "one two three"
    saved = store.get_run(outcome.last.run_id)
    assert saved.status == "error" and saved.response["content"] == "one two three"
    assert any(frame.data.startswith("event: error") for frame in store.get_frames(saved.id))


async def test_streamed_and_whole_responses_are_equal(simulator, anthropic_config, collect):
    simulator.add_scenario(builtin_without_delays("demo-claude"))
    config = anthropic_config(simulator.root_url, model="demo-claude")
    streamed = await collect(config, ChatRequest.from_prompt("Weather?", stream=True))
    whole = await collect(config, ChatRequest.from_prompt("Weather?", stream=False))

    assert isinstance(streamed.last, Finished) and isinstance(whole.last, Finished)
    a, b = dict(streamed.last.final_response), dict(whole.last.final_response)
    assert a.pop("id") != b.pop("id")  # one message id per response
    assert a == b
    assert simulator.exchanges[-1].body["stream"] is False
    # the whole response still reaches consumers as deltas, in one shape
    deltas = [type(e) for e in whole.events if isinstance(e, (ReasoningDelta, TextDelta, ToolCallDelta))]
    assert deltas == [ReasoningDelta, TextDelta, ToolCallDelta]


async def test_usage_and_cost_count_cache_reads_at_the_cached_price(simulator, anthropic_config, collect):
    simulator.add_scenario(
        scripted("cached", text="ok", usage={"prompt_tokens": 1000, "completion_tokens": 200, "cached_tokens": 600})
    )
    config = anthropic_config(
        simulator.root_url, model="cached", price_input=3.0, price_cached_input=0.3, price_output=15.0
    )
    outcome = await collect(config, ChatRequest.from_prompt("hi"))

    usage = outcome.last.final_response["usage"]
    assert (usage["input_tokens"], usage["cache_read_input_tokens"], usage["output_tokens"]) == (400, 600, 200)
    metrics = outcome.last.metrics
    assert (metrics["prompt_tokens"], metrics["cached_tokens"], metrics["completion_tokens"]) == (1000, 600, 200)
    assert metrics["total_tokens"] == 1200 and metrics["usage_source"] == "provider"
    # 400 × $3 + 600 × $0.30 + 200 × $15, per million
    assert metrics["cost_usd"] == 0.00438


async def test_runs_are_in_history_with_metrics_like_openai_ones(simulator, anthropic_config, collect):
    scenario = builtin_without_delays("demo-claude")
    # A 1 ms gap: a decode window to measure (with none, the whole answer can arrive in
    # one packet, and there is no decode rate to report).
    scenario.timing = Timing(first_token_ms=0, gap_ms=1)
    simulator.add_scenario(scenario)
    store = Store()
    config = anthropic_config(simulator.root_url, model="demo-claude", price_input=3.0, price_output=15.0)
    outcome = await collect(config, ChatRequest.from_prompt("Weather?"), store=store, group_id="g1")

    [run] = store.list_runs(group_id="g1")
    assert run.id == outcome.last.run_id
    assert (run.provider, run.model, run.status, run.stream) == ("anthropic", "demo-claude", "ok", True)
    for key in ("ttfb_ms", "ttft_ms", "total_ms", "chunks", "itl_p50_ms", "decode_tps", "cost_usd"):
        assert run.metrics[key] is not None, key
    assert run.metrics["request_id"].startswith("req_")  # from the `request-id` header
    assert run.response["thinking_blocks"][0]["signature"]


async def test_http_529_is_overloaded_and_429_keeps_retry_after(simulator, anthropic_config, collect):
    config = anthropic_config(simulator.root_url, model="fault-529", params={"max_retries": 0})
    overloaded = await collect(config, ChatRequest.from_prompt("hi"))
    assert isinstance(overloaded.last, Failed)
    assert (overloaded.last.error_type, overloaded.last.http_status) == ("overloaded", 529)

    limited = await collect(config.model_copy(update={"model": "fault-429"}), ChatRequest.from_prompt("hi"))
    assert (limited.last.error_type, limited.last.http_status, limited.last.retry_after) == ("rate_limit", 429, "7")
    assert len(simulator.exchanges) == 2  # max_retries 0: the SDK did not retry


async def test_malformed_and_dropped_streams_keep_what_arrived(simulator, anthropic_config, collect):
    simulator.add_scenario(scripted("bad", text="abcdefgh", chunking={"size": 2}, fault={"malformed_after_chunks": 2}))
    simulator.add_scenario(scripted("cut", text="abcdefgh", chunking={"size": 2}, fault={"drop_after_chunks": 3}))
    config = anthropic_config(simulator.root_url, model="bad")

    malformed = await collect(config, ChatRequest.from_prompt("hi"))
    assert (malformed.last.error_type, malformed.last.partial_response["content"]) == ("malformed_chunk", "abcd")
    dropped = await collect(config.model_copy(update={"model": "cut"}), ChatRequest.from_prompt("hi"))
    assert (dropped.last.error_type, dropped.last.partial_response["content"]) == ("stream_cut", "abcdef")


async def test_openai_only_param_is_reported_before_anything_is_sent(simulator, anthropic_config, collect):
    store = Store()
    config = anthropic_config(simulator.root_url, model="demo-claude", params={"seed": 7})
    outcome = await collect(config, ChatRequest.from_prompt("hi"), store=store)

    assert isinstance(outcome.last, Failed)
    assert outcome.last.error_type == "unsupported_param"
    assert outcome.last.error == "the Anthropic Messages API has no parameter 'seed'"
    assert simulator.exchanges == []
    assert store.get_run(outcome.last.run_id).error_type == "unsupported_param"


async def test_thinking_budget_and_max_tokens_reach_the_server(simulator, anthropic_config, collect):
    simulator.add_scenario(builtin_without_delays("demo-claude"))
    config = anthropic_config(simulator.root_url, model="demo-claude", params={"thinking_budget": 2048, "top_k": 5})
    await collect(config, ChatRequest.from_prompt("hi", params={"max_tokens": 9000}))

    body = simulator.exchanges[-1].body
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert body["max_tokens"] == 9000 and body["top_k"] == 5
    assert "thinking_budget" not in body and "max_retries" not in body
