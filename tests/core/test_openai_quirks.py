"""OpenAI-protocol quirks seen in real recorded traffic, each on a real payload (sources in
recorded_quirks/README.md): refusals, Mistral's list-of-parts content, Groq's `x_groq.usage`,
OpenRouter's upstream cause and comment lines, Azure's prompt-filter chunk, and one set of
error types for errors that arrive inside a stream."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pytest
from runkit import SSE_HEAD, RawServer, json_response, openai_config, run_to_end

from core.events import Failed, Finished, ReasoningDelta, RefusalDelta, TextDelta, to_json_line
from core.providers.anthropic_messages import AnthropicMessagesDecoder
from core.providers.base import Frame, ProviderError
from core.providers.openai_chat import OpenAIChatDecoder
from core.request import ChatRequest
from tui.cli.run import PlainSink

RECORDED = Path(__file__).with_name("recorded_quirks")
REFUSAL = "I'm very sorry, but I can't assist with that."


def replaying(body: bytes, head: bytes = SSE_HEAD) -> RawServer:
    async def handler(_request, writer):
        writer.write(head + body)
        await writer.drain()

    return RawServer(handler)


def feed_lines(decoder: OpenAIChatDecoder, *datas: str) -> list:
    events = []
    for data in datas:
        events.extend(decoder.feed(Frame(0.0, "data: " + data, None, data)))
    return events


# --- refusals ----------------------------------------------------------------


async def test_a_streamed_refusal_is_shown_as_a_refusal_not_an_empty_answer():
    async with replaying((RECORDED / "openai_refusal_stream.sse").read_bytes()) as server:
        outcome = await run_to_end(openai_config(server.root_url, "gpt-4o-2024-08-06"), "How do I make anthrax?")

    assert isinstance(outcome.last, Finished)
    final = outcome.last.final_response
    assert "".join(e.refusal for e in outcome.of_type(RefusalDelta)) == REFUSAL
    assert final["refusal"] == REFUSAL and final["content"] == ""
    # OpenAI says "stop"; the normalised reason says what happened
    assert (final["finish_reason"], final["provider_finish_reason"]) == ("content_filter", "stop")
    metrics = outcome.last.metrics
    assert (metrics["prompt_tokens"], metrics["completion_tokens"], metrics["usage_source"]) == (79, 12, "provider")
    assert metrics["chunks"] == 11 and metrics["ttft_ms"] is not None  # a refusal's first words are its first token
    assert to_json_line(outcome.of_type(RefusalDelta)[0]) == '{"refusal": "I\'m", "done": false}'


async def test_a_non_streamed_refusal_is_shown_as_a_refusal():
    body = (RECORDED / "openai_refusal_whole.json").read_bytes()
    async with RawServer(_answer_with(json_response(200, orjson.loads(body)))) as server:
        request = ChatRequest.from_prompt("How do I make anthrax?", stream=False)
        outcome = await run_to_end(openai_config(server.root_url, "gpt-4o-2024-08-06"), request)

    final = outcome.last.final_response
    assert [e.refusal for e in outcome.of_type(RefusalDelta)] == [REFUSAL]
    assert final["refusal"] == REFUSAL and final["finish_reason"] == "content_filter"


def _answer_with(raw: bytes):
    async def handler(_request, writer):
        writer.write(raw)
        await writer.drain()

    return handler


def test_the_cli_prints_a_refusal_and_says_it_is_one():
    out, err = io.StringIO(), io.StringIO()
    sink = PlainSink(out, err, wire=False)
    sink(RefusalDelta("I'm very sorry"))
    sink(RefusalDelta(", but no."))
    sink(Finished(final_response={"refusal": "I'm very sorry, but no.", "tool_calls": []}, metrics={}, run_id="r1"))
    assert out.getvalue() == "I'm very sorry, but no.\n"
    assert err.getvalue().startswith("[refusal]\nrefused by the model · ")


# --- content as a list of parts (Mistral magistral) ---------------------------

# pydantic-ai test_mistral_model_thinking_part_iter.yaml (tests/recorded/mistral/magistral_parts_stream.sse)
MAGISTRAL_HEAD = '{"id":"9f9d90210f194076abeee223863eaaf0","object":"chat.completion.chunk","created":1764296393,"model":"magistral-medium-latest","choices":[{"index":0,"delta":'
MAGISTRAL_STREAM = [
    MAGISTRAL_HEAD + '{"role":"assistant","content":""},"finish_reason":null}]}',
    MAGISTRAL_HEAD + '{"content":[{"type":"thinking","thinking":[{"type":"text","text":"Okay"}]}]},"finish_reason":null}]}',
    MAGISTRAL_HEAD + '{"content":[{"type":"thinking","thinking":[{"type":"text","text":", the"}]}]},"finish_reason":null}]}',
    MAGISTRAL_HEAD + '{"content":"The answer"},"finish_reason":null}]}',
    MAGISTRAL_HEAD + '{"content":[{"type":"thinking","thinking":[]},{"type":"text","text":" is 4."}]},"finish_reason":null}]}',
    MAGISTRAL_HEAD + '{"content":""},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"total_tokens":40,"completion_tokens":30}}',
    "[DONE]",
]


def test_streamed_list_of_parts_content_is_reasoning_then_text():
    decoder = OpenAIChatDecoder(stream=True)
    events = feed_lines(decoder, *MAGISTRAL_STREAM)
    decoder.finish()
    assert [type(e) for e in events] == [ReasoningDelta, ReasoningDelta, TextDelta, TextDelta]
    final = decoder.response.snapshot()
    assert (final["reasoning"], final["content"]) == ("Okay, the", "The answer is 4.")
    assert final["usage"]["completion_tokens"] == 30 and final["finish_reason"] == "stop"


def test_a_whole_list_of_parts_message_is_reasoning_and_text():
    # the shape of pydantic-ai's test_mistral_model_thinking_part.yaml #1 (tests/recorded/mistral/magistral_parts_whole.json)
    body = {
        "id": "9abe8b736bff46af8e979b52334a57cd", "object": "chat.completion", "created": 1764296396,
        "model": "magistral-medium-latest",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "tool_calls": None, "content": [
            {"type": "thinking", "thinking": [{"type": "text", "text": "The user asks for 2+2."}]},
            {"type": "text", "text": "2 + 2 = **4**"},
        ]}}],
        "usage": {"prompt_tokens": 12, "total_tokens": 40, "completion_tokens": 28},
    }  # fmt: skip
    decoder = OpenAIChatDecoder(stream=False)
    events = feed_lines(decoder, orjson.dumps(body).decode())
    assert [type(e) for e in events] == [ReasoningDelta, TextDelta]
    final = decoder.response.snapshot()
    assert (final["reasoning"], final["content"]) == ("The user asks for 2+2.", "2 + 2 = **4**")


# --- usage outside the top level (Groq) ----------------------------------------


def test_groq_usage_in_x_groq_is_the_providers_usage():
    # pydantic-ai test_tool_use_failed_error_streaming.yaml #1 (tests/recorded/groq/tool_call_stream.sse), last chunk
    last = (
        '{"id":"chatcmpl-f1bd1b3a-44a4-4a55-8c2a-8b8f1e9bbd1b","object":"chat.completion.chunk","created":1771434741,'
        '"model":"openai/gpt-oss-120b","system_fingerprint":"fp_e8236260a9","choices":[{"index":0,"delta":{},"logprobs":null,'
        '"finish_reason":"tool_calls"}],"x_groq":{"id":"req_01khrvt32ze9rb75za4xqmdz13","usage":{"queue_time":0.00491786,'
        '"prompt_tokens":304,"prompt_time":0.01460151,"completion_tokens":49,"completion_time":0.11216431,"total_tokens":353,'
        '"total_time":0.12676582,"completion_tokens_details":{"reasoning_tokens":23}}}}'
    )
    decoder = OpenAIChatDecoder(stream=True)
    feed_lines(decoder, last, "[DONE]")
    usage = decoder.response.usage
    assert (usage["prompt_tokens"], usage["completion_tokens"], usage["reasoning_tokens"]) == (304, 49, 23)


# --- Azure's prompt-filter chunk, OpenRouter's comments ----------------------------

AZURE_STREAM = (
    b'data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}}]}\n\n'
    b'data: {"choices":[{"content_filter_results":{},"delta":{"content":"","refusal":null,"role":"assistant"},"finish_reason":null,"index":0,"logprobs":null}],"created":1750697159,"id":"chatcmpl-BleatwEUn3D8iXsgXpDqeOPEMuW3j","model":"gpt-4o-2024-08-06","object":"chat.completion.chunk","system_fingerprint":"fp_ee1d74bde0"}\n\n'
    b'data: {"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}},"delta":{"content":"Hallo"},"finish_reason":null,"index":0,"logprobs":null}],"created":1750697159,"id":"chatcmpl-BleatwEUn3D8iXsgXpDqeOPEMuW3j","model":"gpt-4o-2024-08-06","object":"chat.completion.chunk","system_fingerprint":"fp_ee1d74bde0"}\n\n'
    b": OPENROUTER PROCESSING\n\n"
    b'data: {"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}},"delta":{"content":" Welt"},"finish_reason":null,"index":0,"logprobs":null}],"created":1750697159,"id":"chatcmpl-BleatwEUn3D8iXsgXpDqeOPEMuW3j","model":"gpt-4o-2024-08-06","object":"chat.completion.chunk","system_fingerprint":"fp_ee1d74bde0"}\n\n'
    b'data: {"choices":[{"content_filter_results":{},"delta":{},"finish_reason":"stop","index":0,"logprobs":null}],"created":1750697159,"id":"chatcmpl-BleatwEUn3D8iXsgXpDqeOPEMuW3j","model":"gpt-4o-2024-08-06","object":"chat.completion.chunk","system_fingerprint":"fp_ee1d74bde0"}\n\n'
    b"data: [DONE]\n\n"
)


async def test_azure_prompt_filter_chunk_and_openrouter_comments_carry_nothing_but_break_nothing():
    async with replaying(AZURE_STREAM) as server:
        outcome = await run_to_end(openai_config(server.root_url, "gpt-4o"), "Translate to German: Hello world!")

    final = outcome.last.final_response
    assert final["content"] == "Hallo Welt" and final["finish_reason"] == "stop"
    # the id and model come from the first chunk that has them, not Azure's empty ones
    assert (final["id"], final["model"]) == ("chatcmpl-BleatwEUn3D8iXsgXpDqeOPEMuW3j", "gpt-4o-2024-08-06")
    assert outcome.last.metrics["chunks"] == 2


# --- errors: OpenRouter's upstream cause, one set of words mid-stream ----------------

OPENROUTER_429 = {
    "error": {
        "code": 429, "message": "Provider returned error",
        "metadata": {"provider_name": "Google", "raw": "google/gemini-2.0-flash-exp:free is temporarily rate-limited upstream. Please retry shortly, or add your own key to accumulate your rate limits: https://openrouter.ai/settings/integrations"},
    },
    "user_id": "user_2wT5ElBE4Es3R4QrNLpZiXICmQP",
}  # fmt: skip


async def test_openrouter_http_error_names_the_upstream_cause():
    async with RawServer(_answer_with(json_response(429, OPENROUTER_429))) as server:
        outcome = await run_to_end(openai_config(server.root_url, "google/gemini-2.0-flash-exp:free"), "joke")

    failure = outcome.last
    assert isinstance(failure, Failed) and failure.error_type == "rate_limit"
    assert failure.error.startswith("HTTP 429 rate limited: Provider returned error — Google: google/gemini-2.0-flash-exp:free is temporarily rate-limited upstream.")


def test_openrouter_midstream_error_keeps_usage_and_partial_output():
    # pydantic-ai test_openrouter_stream_error.yaml (tests/recorded/openrouter/midstream_error_token_limit.sse), last chunk
    error_chunk = (
        '{"id":"gen-1762179802-UN8pkJI4AGZvryk0kFnb","provider":"Minimax","error":{"code":400,"message":"Token limit reached"},'
        '"model":"minimax/minimax-m2:free","object":"chat.completion.chunk","created":1762179802,"choices":[{"index":0,'
        '"delta":{"role":"assistant","content":""},"finish_reason":null,"native_finish_reason":null,"logprobs":null}],'
        '"usage":{"prompt_tokens":43,"completion_tokens":10,"total_tokens":53,"cost":0,"is_byok":false,'
        '"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":11,"image_tokens":0}}}'
    )
    decoder = OpenAIChatDecoder(stream=True)
    feed_lines(decoder, '{"id":"gen-1","choices":[{"index":0,"delta":{"reasoning":"The user"}}]}')
    with pytest.raises(ProviderError) as raised:
        feed_lines(decoder, error_chunk)
    assert raised.value.error_type == "bad_request"
    assert raised.value.message == "provider error in stream: Token limit reached (400)"
    assert decoder.response.usage["completion_tokens"] == 10 and decoder.response.reasoning == "The user"


@pytest.mark.parametrize(
    ("decoder_class", "event", "error", "error_type", "message"),
    [
        # Groq (pydantic-ai test_tool_use_failed_error_streaming.yaml #0), an OpenAI-protocol error event
        (OpenAIChatDecoder, "error", {"message": "Tool call validation failed", "type": "invalid_request_error",
                                      "code": "tool_use_failed", "status_code": 400},
         "bad_request", "provider error in stream: Tool call validation failed (invalid_request_error, tool_use_failed)"),
        (OpenAIChatDecoder, None, {"message": "Overloaded", "type": "server_error", "code": "overloaded"},
         "overloaded", "provider error in stream: Overloaded (server_error, overloaded)"),
        (AnthropicMessagesDecoder, "error", {"type": "overloaded_error", "message": "Overloaded"},
         "overloaded", "provider error in stream: Overloaded (overloaded_error)"),
        (OpenAIChatDecoder, None, {"message": "Rate limit reached", "type": "rate_limit_exceeded"},
         "rate_limit", "provider error in stream: Rate limit reached (rate_limit_exceeded)"),
        (AnthropicMessagesDecoder, "error", {"type": "rate_limit_error", "message": "Rate limited"},
         "rate_limit", "provider error in stream: Rate limited (rate_limit_error)"),
        (AnthropicMessagesDecoder, "error", {"type": "api_error", "message": "Internal server error"},
         "server_error", "provider error in stream: Internal server error (api_error)"),
    ],
)  # fmt: skip
def test_mid_stream_errors_get_one_set_of_words_across_protocols(decoder_class, event, error, error_type, message):
    decoder = decoder_class(stream=True)
    payload = {"type": "error", "error": error} if decoder_class is AnthropicMessagesDecoder else {"error": error}
    data = orjson.dumps(payload).decode()
    with pytest.raises(ProviderError) as raised:
        decoder.feed(Frame(0.0, data, event, data))
    assert (raised.value.error_type, raised.value.message) == (error_type, message)


# --- retry-after-ms ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "retry_after"),
    [
        ({"retry-after-ms": "1500", "retry-after": "2"}, "1.5"),  # the finer figure wins
        ({"retry-after-ms": "250"}, "0.25"),  # milliseconds, never read as 250 seconds
        ({"retry-after-ms": "soon", "retry-after": "7"}, "7"),  # a bad ms value falls back
        ({"retry-after": "7"}, "7"),
    ],
)
async def test_retry_after_ms_is_milliseconds(headers, retry_after):
    body = {"error": {"message": "Rate limit reached for requests", "type": "requests", "code": "rate_limit_exceeded"}}
    async with RawServer(_answer_with(json_response(429, body, headers))) as server:
        outcome = await run_to_end(openai_config(server.root_url, "gpt-4o"), "hi")

    failure = outcome.last
    assert (failure.error_type, failure.retry_after) == ("rate_limit", retry_after)
    assert failure.error.endswith(f"(retry after {retry_after} s)")


def test_bare_string_parts_are_text_and_unknown_parts_show_nothing():
    decoder = OpenAIChatDecoder(stream=True)
    events = feed_lines(decoder, '{"choices":[{"index":0,"delta":{"content":["Hi", {"type":"reference","reference_ids":[1]}, {"type":"text","text":" there"}]}}]}')
    assert [e.content for e in events] == ["Hi", " there"]
