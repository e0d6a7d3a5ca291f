"""Ollama /api/chat bodies for the less usual params and turns: client options kept out of
the body, retry counts checked, formats with no Ollama equivalent refused with the ones
that work named, reasoning and tool results sent back the way Ollama reads them."""

from __future__ import annotations

import pytest

from core.providers import base
from core.providers.base import ProviderError
from core.providers.ollama_request import build_body, max_retries
from core.request import ChatRequest, Message, ThinkingBlock, ToolCall, ToolSpec
from core.store.models import ModelConfig


def config(**params: object) -> ModelConfig:
    return ModelConfig(name="o", provider="ollama-native", model="qwen3", params=dict(params))


def body_for(request: ChatRequest | None = None, **params: object) -> dict[str, object]:
    return build_body(config(**params), request or ChatRequest.from_prompt("hi"), stream=True)


def refusal(request: ChatRequest | None = None, **params: object) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        body_for(request, **params)
    return caught.value


def test_a_plain_prompt_is_just_model_messages_and_stream() -> None:
    assert build_body(config(), ChatRequest.from_prompt("hi"), stream=False) == {
        "model": "qwen3",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": False,
    }


def test_client_options_and_caps_configure_llmwb_and_are_never_sent() -> None:
    body = body_for(max_retries=0, max_response_bytes=1000, max_frames=5, deadline=3.0, temperature=0.5)
    assert body == {"model": "qwen3", "messages": [{"role": "user", "content": "hi"}], "options": {"temperature": 0.5}, "stream": True}


def test_the_retry_count_defaults_to_two_and_a_run_overrides_its_config() -> None:
    assert max_retries(config(), ChatRequest.from_prompt("x")) == 2
    assert max_retries(config(max_retries=5), ChatRequest.from_prompt("x")) == 5
    assert max_retries(config(max_retries=5), ChatRequest.from_prompt("x", params={"max_retries": 0})) == 0


@pytest.mark.parametrize("value", [-1, True, 1.5, "3", None])
def test_a_retry_count_that_is_not_a_whole_number_is_refused(value: object) -> None:
    with pytest.raises(ProviderError) as caught:
        max_retries(config(max_retries=value), ChatRequest.from_prompt("x"))
    assert caught.value.error_type == base.BAD_REQUEST
    assert caught.value.message == f"param max_retries must be a whole number >= 0, got {value!r}"


def test_max_completion_tokens_is_num_predict_and_a_list_of_stops_stays_a_list() -> None:
    body = body_for(max_completion_tokens=32, stop=["a", "b"])
    assert body["options"] == {"num_predict": 32, "stop": ["a", "b"]}


def test_a_text_response_format_asks_for_nothing() -> None:
    assert "format" not in body_for(response_format={"type": "text"})


@pytest.mark.parametrize(
    "response_format",
    [
        {"type": "json_schema", "json_schema": {"name": "x"}},  # no schema
        {"type": "json_schema", "json_schema": None},
        {"type": "json_schema", "json_schema": {"schema": "not an object"}},
        {"type": "grammar"},
        "json_object",
    ],
)
def test_a_response_format_ollama_cannot_follow_is_refused_naming_what_works(response_format: object) -> None:
    error = refusal(response_format=response_format)
    assert error.error_type == base.UNSUPPORTED
    assert error.message == (
        f"response_format {response_format!r} has no Ollama equivalent "
        '(use {"type": "json_object"}, {"type": "json_schema", ...}, or the param format)'
    )


@pytest.mark.parametrize(
    "name",
    ["n", "logit_bias", "user", "service_tier", "parallel_tool_calls", "stream_options", "store", "metadata",
     "prediction", "modalities", "audio", "thinking", "thinking_budget"],
)  # fmt: skip
def test_every_openai_or_anthropic_only_param_is_reported_by_name(name: str) -> None:
    error = refusal(**{name: 1})
    assert (error.error_type, error.message) == (base.UNSUPPORTED, f"Ollama's /api/chat has no parameter {name!r}")


def test_options_that_are_not_an_object_are_refused() -> None:
    error = refusal(options=[1, 2])
    assert (error.error_type, error.message) == (base.BAD_REQUEST, "param options must be an object, got [1, 2]")


def test_an_unknown_param_goes_to_the_top_level_as_given() -> None:
    assert body_for(logprobs=True, truncate=False)["logprobs"] is True


def test_reasoning_from_an_earlier_turn_goes_back_as_thinking() -> None:
    request = ChatRequest(
        messages=[
            Message("user", "q"),
            Message("assistant", "a", thinking=[ThinkingBlock("first "), ThinkingBlock("second")]),
            Message("assistant", "b", thinking=[ThinkingBlock("")]),
            Message("user", "q2"),
        ]
    )
    assert body_for(request)["messages"] == [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "a", "thinking": "first second"},
        {"role": "assistant", "content": "b"},
        {"role": "user", "content": "q2"},
    ]


def test_tool_results_name_only_the_calls_they_answer() -> None:
    request = ChatRequest(
        messages=[
            Message("user", "x"),
            Message("assistant", "", tool_calls=[ToolCall("c1", "clock", ""), ToolCall("c2", "ping", "  ")]),
            Message("tool", "12:00", tool_call_id="c1"),
            Message("tool", "pong", tool_call_id="c9"),  # answers no call made here
            Message("tool", "orphan"),
        ]
    )
    messages = body_for(request)["messages"]
    assert messages[1] == {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {"id": "c1", "function": {"name": "clock", "arguments": {}}},
            {"id": "c2", "function": {"name": "ping", "arguments": {}}},
        ],
    }
    assert messages[2:] == [
        {"role": "tool", "content": "12:00", "tool_name": "clock", "tool_call_id": "c1"},
        {"role": "tool", "content": "pong", "tool_call_id": "c9"},
        {"role": "tool", "content": "orphan"},
    ]


def test_tool_arguments_that_are_json_but_no_object_cannot_be_sent_back() -> None:
    request = ChatRequest(messages=[Message("user", "x"), Message("assistant", "", tool_calls=[ToolCall("c7", "t", "[1, 2]")])])
    error = refusal(request)
    assert error.error_type == base.BAD_REQUEST
    assert error.message == "cannot send tool call c7 back: its arguments are not a JSON object (Ollama needs one): '[1, 2]'"


def test_tools_go_out_when_the_model_may_choose_and_a_forced_choice_names_itself() -> None:
    tools = [ToolSpec(name="clock", description="the time")]
    for choice in (None, "auto"):
        body = body_for(ChatRequest.from_prompt("x", tools=tools, tool_choice=choice))
        assert body["tools"] == [
            {"type": "function", "function": {"name": "clock", "description": "the time", "parameters": {"type": "object", "properties": {}}}}
        ]
    error = refusal(ChatRequest.from_prompt("x", tools=tools, tool_choice="clock"))
    assert error.message == "Ollama's /api/chat has no tool_choice: it always decides itself (got 'clock')"
    assert "tools" not in body_for(ChatRequest.from_prompt("x", tool_choice="required"))  # no tools, nothing to force


def test_a_result_for_a_call_ollama_sent_without_an_id_still_names_its_tool() -> None:
    # Ollama's own tool calls carry no id: the result is matched by the tool's name.
    request = ChatRequest(
        messages=[Message("user", "x"), Message("assistant", "", tool_calls=[ToolCall("", "clock", "{}")]), Message("tool", "12:00")]
    )
    assert body_for(request)["messages"][2] == {"role": "tool", "content": "12:00", "tool_name": "clock"}


def test_long_arguments_that_cannot_be_sent_back_are_quoted_to_eighty_characters() -> None:
    arguments = "[" + "1, " * 40 + "1]"
    request = ChatRequest(messages=[Message("user", "x"), Message("assistant", "", tool_calls=[ToolCall("c8", "t", arguments)])])
    assert refusal(request).message.endswith(f"(Ollama needs one): {arguments[:80]!r}")
