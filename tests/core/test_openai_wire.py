"""The runner and the OpenAI adapter against a real loopback server: what a user
sees assembled, how fast it says it arrived, what it cost."""

from __future__ import annotations

import json
import math
import statistics

import orjson
from runkit import SSE_HEAD, RawServer, chunk, json_response, openai_config, run_to_end, scripted, sse

from core.events import Failed, Finished, ReasoningDelta, RunStarted, TextDelta, ToolCallDelta, WireFrame, to_json_line
from core.request import ChatRequest

ARGS_TOKYO = '{"city": "東京", "note": "café ☕", "unit": "celsius"}'
ARGS_ESCAPED = '{"timezone": "\\u6771\\u4eac", "days": [1, 2]}'


async def test_text_reasoning_and_parallel_tool_calls_assemble_to_the_script(simulator):
    simulator.add_scenario(
        scripted(
            "everything",
            reasoning="Two cities; call both tools. 先想想。",
            text="Looking up 東京 and Paris ☕.",
            tool_calls=[
                {"id": "call_A", "name": "get_weather", "arguments": ARGS_TOKYO},
                {"id": "call_B", "name": "get_time", "arguments": ARGS_ESCAPED},
            ],
            chunking={"mode": "fixed", "size": 5, "arguments_size": 3},
        )
    )
    outcome = await run_to_end(openai_config(simulator.root_url, "everything"), "go")

    assert isinstance(outcome.last, Finished), outcome.last
    final = outcome.last.final_response
    assert final["reasoning"] == outcome.streamed_reasoning == "Two cities; call both tools. 先想想。"
    assert final["content"] == outcome.streamed_text == "Looking up 東京 and Paris ☕."
    assert [(c["index"], c["id"], c["name"]) for c in final["tool_calls"]] == [
        (0, "call_A", "get_weather"),
        (1, "call_B", "get_time"),
    ]
    assert final["tool_calls"][0]["arguments"] == {"city": "東京", "note": "café ☕", "unit": "celsius"}
    assert final["tool_calls"][0]["arguments_raw"] == ARGS_TOKYO
    assert final["tool_calls"][1]["arguments"] == {"timezone": "東京", "days": [1, 2]}
    assert final["tool_calls"][1]["arguments_raw"] == ARGS_ESCAPED
    assert all(c["arguments_valid"] for c in final["tool_calls"])
    assert final["finish_reason"] == final["provider_finish_reason"] == "tool_calls"
    # the arguments really arrived in pieces: the first key cut in the middle, an escape cut in two
    assert outcome.arguments_of(0)[:2] == ['{"c', "ity"]
    assert '"\\u6771\\u4eac"' not in outcome.arguments_of(1)
    assert "".join(outcome.arguments_of(1)) == ARGS_ESCAPED


async def test_the_builtin_tools_demo_gives_two_calls_with_their_ids(simulator):
    outcome = await run_to_end(openai_config(simulator.root_url, "demo-tools"), "weather?")

    calls = outcome.last.final_response["tool_calls"]
    assert [(c["id"], c["arguments"]["city"]) for c in calls] == [("call_paris", "Paris"), ("call_tokyo", "Tokyo")]
    starts = [e for e in outcome.of_type(ToolCallDelta) if e.name]
    assert [(e.index, e.id, e.name) for e in starts] == [(0, "call_paris", "get_weather"), (1, "call_tokyo", "get_weather")]


async def test_ttft_matches_the_servers_clock_and_the_scripted_delay(simulator):
    """Same process, same perf_counter clock, so the server's record is the truth.

    client TTFT = (server: first content written - request fully read)
                + send-to-receive (t0, just before the transport, to the server having read
                  the request: TCP connect incl. anyio's resolver thread hop, the write, the
                  server's parse) + loopback delivery of the first frame.
    So TTFT - truth is never negative (t0 cannot be after the server got the request).
    The client reads on the I/O thread and this server runs on the test's loop: the
    send-to-receive part then includes waking the other thread, which on a loaded
    machine takes the scheduler several ms. What the stamps must get right is the
    response: TTFT - TTFB against (first content written - head written), under 5 ms
    on the best of three runs; the sign on every run.
    """
    scenario = scripted("timed", text="a b c d e f g h i j", chunking={"mode": "word"}, timing={"first_token_ms": 80, "gap_ms": 6})
    simulator.add_scenario(scenario)
    config = openai_config(simulator.root_url, "timed")
    await run_to_end(config, "warm-up")  # the process's first run pays one-off costs outside t0

    # Bounded at the best of 3 runs, as the TTFT: a reader starved past a 6 ms gap reads two
    # frames at once, which the kernel stamps as one (docs/design-notes.md) — not a stamping error.
    # Up to 8 while the best still misses: with four xdist workers and a hog on each core (load
    # 8-10), three runs in a row were starved (TTFT 6.6-20 ms past the truth: a gap or three).
    excess_ms, itl_error_ms = [], []
    for run in range(8):
        outcome = await run_to_end(config, "measure")
        exchange = simulator.exchanges[-1]
        metrics = outcome.last.metrics
        truth_ms = (exchange.first_content_at - exchange.received_at) * 1000.0
        head_to_content_ms = (exchange.first_content_at - exchange.head_written_at) * 1000.0
        excess_ms.append(abs(metrics["ttft_ms"] - metrics["ttfb_ms"] - head_to_content_ms))

        # Never early; how late the simulator itself is depends on the machine's load,
        # so only the stamps' agreement with its record (excess_ms) is bounded.
        assert 80.0 <= truth_ms <= metrics["ttft_ms"]
        assert metrics["ttfb_ms"] < metrics["ttft_ms"]
        assert metrics["chunks"] == exchange.content_frames == 10
        server_gaps = [(b - a) * 1000.0 for a, b in zip(exchange.content_times, exchange.content_times[1:])]
        itl_error_ms.append(abs(metrics["itl_p50_ms"] - statistics.median(server_gaps)))
        assert metrics["itl_p50_ms"] <= metrics["itl_p95_ms"] <= metrics["itl_max_ms"]
        # frames are due on an absolute schedule from the request's arrival
        assert metrics["total_ms"] >= 80.0 + 9 * 6.0
        if run >= 2 and min(excess_ms) < 5.0 and min(itl_error_ms) < 2.0:
            break
    assert min(excess_ms) < 5.0, excess_ms
    assert min(itl_error_ms) < 2.0, itl_error_ms


async def test_decode_rate_follows_the_design_formulas(simulator):
    simulator.add_scenario(
        scripted("rate", text="x" * 40, chunking={"size": 4}, usage={"prompt_tokens": 3, "completion_tokens": 10}, timing={"first_token_ms": 5, "gap_ms": 20})
    )
    metrics = (await run_to_end(openai_config(simulator.root_url, "rate"), "go")).last.metrics

    window = metrics["total_ms"] - metrics["ttft_ms"]
    if window > 0:
        assert metrics["tpot_ms"] == round(window / 9, 3)
        assert metrics["decode_tps"] == round(9 / window * 1000.0, 2)
    else:  # a reader starved for the whole 0.2 s stream read it in one piece: no rate to give
        assert (metrics["tpot_ms"], metrics["decode_tps"]) == (None, None)


async def test_usage_and_cost_are_exact_with_a_cached_input_price(simulator):
    simulator.add_scenario(
        scripted(
            "priced",
            reasoning="hmm",
            text="The answer.",
            usage={"prompt_tokens": 1000, "completion_tokens": 500, "reasoning_tokens": 100, "cached_tokens": 400},
        )
    )
    config = openai_config(simulator.root_url, "priced", price_input=2.0, price_cached_input=0.5, price_output=8.0)
    outcome = await run_to_end(config, "go")

    metrics = outcome.last.metrics
    assert metrics["usage_source"] == "provider"
    assert (metrics["prompt_tokens"], metrics["completion_tokens"], metrics["total_tokens"]) == (1000, 500, 1500)
    assert (metrics["reasoning_tokens"], metrics["cached_tokens"]) == (100, 400)
    # 600 uncached x $2 + 400 cached x $0.50 + 500 out x $8, per million
    assert metrics["cost_usd"] == 0.0054
    assert outcome.last.final_response["usage"]["cached_tokens"] == 400
    # the adapter asked for usage in the stream
    assert simulator.exchanges[-1].body["stream_options"] == {"include_usage": True}

    no_cache_price = openai_config(simulator.root_url, "priced", price_input=2.0, price_output=8.0)
    assert (await run_to_end(no_cache_price, "go")).last.metrics["cost_usd"] == 0.006


async def test_a_server_that_rejects_stream_options_gets_a_retry_and_estimated_usage():
    text = "Usage is estimated here: four characters a token."

    async def picky(request, writer):
        if "stream_options" in request.body:
            writer.write(json_response(400, {"error": {"message": "Unrecognized request argument supplied: stream_options", "type": "invalid_request_error"}}))
            return
        writer.write(SSE_HEAD + sse(chunk({"role": "assistant", "content": ""}), chunk({"content": text}), chunk({}, "stop"), "[DONE]"))

    async with RawServer(picky) as server:
        request = ChatRequest.from_prompt("How is usage counted?", system="Be brief.")
        outcome = await run_to_end(openai_config(server.root_url, "picky", price_input=1.0, price_output=1.0), request)

    assert isinstance(outcome.last, Finished), outcome.last
    assert ["stream_options" in r.body for r in server.requests] == [True, False]
    metrics = outcome.last.metrics
    assert metrics["usage_source"] == "estimated"
    assert metrics["completion_tokens"] == math.ceil(len(text) / 4)
    assert metrics["prompt_tokens"] == math.ceil(len("Be brief.How is usage counted?") / 4)
    assert metrics["retries"] == 1
    assert metrics["cost_usd"] == (metrics["prompt_tokens"] + metrics["completion_tokens"]) / 1_000_000
    assert outcome.last.final_response["usage"] is None


async def test_stream_and_non_stream_give_the_same_final_response(simulator):
    simulator.add_scenario(
        scripted(
            "same",
            reasoning="Plan: answer, then call.",
            text="Here is 東京's weather.",
            tool_calls=[{"id": "call_1", "name": "get_weather", "arguments": ARGS_TOKYO}],
            chunking={"size": 3},
        )
    )
    config = openai_config(simulator.root_url, "same")
    streamed = await run_to_end(config, ChatRequest.from_prompt("go"))
    whole = await run_to_end(config, ChatRequest.from_prompt("go", stream=False))

    assert isinstance(whole.last, Finished), whole.last
    for key in ("content", "reasoning", "tool_calls", "finish_reason", "usage"):
        assert whole.last.final_response[key] == streamed.last.final_response[key], key
    # non-streamed: the whole text as one content event, TTFT = total, one chunk
    assert [e.content for e in whole.of_type(TextDelta)] == ["Here is 東京's weather."]
    assert [e.reasoning for e in whole.of_type(ReasoningDelta)] == ["Plan: answer, then call."]
    assert [(e.index, e.id, e.arguments_delta) for e in whole.of_type(ToolCallDelta)] == [(0, "call_1", ARGS_TOKYO)]
    metrics = whole.last.metrics
    assert metrics["ttft_ms"] == metrics["total_ms"] and metrics["chunks"] == 1 and metrics["stream"] is False
    assert metrics["tpot_ms"] is None and metrics["decode_tps"] is None
    assert simulator.exchanges[-1].body["stream"] is False and "stream_options" not in simulator.exchanges[-1].body


async def test_a_whole_json_answer_to_a_streamed_request_is_read_as_one():
    completion = {
        "id": "chatcmpl-1", "object": "chat.completion", "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "not streamed"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5},
    }  # fmt: skip

    async def ignores_stream(request, writer):
        writer.write(json_response(200, completion))

    async with RawServer(ignores_stream) as server:
        outcome = await run_to_end(openai_config(server.root_url, "m"), "go")

    assert isinstance(outcome.last, Finished), outcome.last
    assert outcome.streamed_text == outcome.last.final_response["content"] == "not streamed"
    assert outcome.last.metrics["completion_tokens"] == 3


async def test_frames_split_mid_character_across_tcp_writes_arrive_intact():
    body = sse(chunk({"content": "东京"}), chunk({"content": "☕!"}), chunk({}, "stop"), "[DONE]").replace(b"\n\n", b"\r\n\r\n")

    async def dribble(request, writer):
        writer.write(SSE_HEAD)
        for i in range(0, len(body), 7):  # 7-byte writes cut the 3-byte characters
            writer.write(body[i : i + 7])
            await writer.drain()

    async with RawServer(dribble) as server:
        outcome = await run_to_end(openai_config(server.root_url, "m"), "go")

    assert outcome.last.final_response["content"] == "东京☕!"
    assert [e.content for e in outcome.of_type(TextDelta)] == ["东京", "☕!"]


async def test_wire_frames_are_the_raw_sse_frames_in_order(simulator):
    simulator.add_scenario(scripted("wire", text="abcdef", chunking={"size": 3}))
    outcome = await run_to_end(openai_config(simulator.root_url, "wire"), "go")

    frames = outcome.of_type(WireFrame)
    assert frames[-1].data == "data: [DONE]"
    assert [orjson.loads(f.data[6:])["choices"][0]["delta"].get("content") for f in frames[1:3]] == ["abc", "def"]
    offsets = [f.offset_ms for f in frames]
    assert offsets == sorted(offsets) and round(offsets[0], 3) >= outcome.last.metrics["ttfb_ms"]  # as stored
    assert not (await run_to_end(openai_config(simulator.root_url, "wire"), "go", wire_frames=False)).of_type(WireFrame)


def test_json_lines_are_byte_compatible_with_the_design():
    assert to_json_line(TextDelta("这")) == '{"content": "这", "done": false}'
    assert to_json_line(ReasoningDelta("Let me think")) == '{"reasoning": "Let me think", "done": false}'
    assert (
        to_json_line(ToolCallDelta(0, "call_A", "get_weather", '{"ci'))
        == '{"tool_call": {"index": 0, "id": "call_A", "name": "get_weather", "arguments_delta": "{\\"ci"}, "done": false}'
    )
    assert to_json_line(RunStarted("r1", "cfg", True)) is None


async def test_a_runs_json_lines_end_with_one_done_object(simulator):
    simulator.add_scenario(scripted("lines", text="这是一个测试", chunking={"size": 1}))
    outcome = await run_to_end(openai_config(simulator.root_url, "lines"), "go", wire_frames=False)

    lines = [line for line in map(to_json_line, outcome.events) if line is not None]
    assert lines[0] == '{"content": "这", "done": false}'
    parsed = [json.loads(line) for line in lines]
    assert [p["done"] for p in parsed] == [False] * 6 + [True]
    assert list(parsed[-1])[:3] == ["done", "final_response", "metrics"]
    assert parsed[-1]["final_response"]["content"] == "这是一个测试"

    failed = [line for line in map(to_json_line, (await run_to_end(openai_config(simulator.root_url, "fault-429"), "go")).events) if line]
    last = json.loads(failed[-1])
    assert list(last)[:5] == ["done", "status", "error", "error_type", "http_status"]
    assert (last["done"], last["status"], last["error_type"], last["http_status"]) == (True, "error", "rate_limit", 429)
    assert {"partial_response", "metrics"} <= set(last)
    assert isinstance(outcome.events[0], RunStarted) and not isinstance(outcome.last, Failed)
