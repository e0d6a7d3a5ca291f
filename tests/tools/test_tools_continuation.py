"""continuation_request on saved runs: what it builds, and what it refuses."""

from __future__ import annotations

import pytest

from core.request import ChatRequest, ToolSpec
from core.store.models import ModelConfig, Run
from core.tools import ToolError, continuation_request, validate_tool_definition

CALLS = [
    {"index": 0, "id": "call_1", "name": "get_weather", "arguments": {"city": "Oslo"},
     "arguments_raw": '{"city": "Oslo"}', "arguments_valid": True},
    {"index": 1, "id": "call_2", "name": "get_time", "arguments": "{bad", "arguments_raw": "{bad",
     "arguments_valid": False},
]  # fmt: skip


def saved_run(store, *, finish_reason="tool_calls", status="ok", config_name="cfg") -> str:
    request = ChatRequest.from_prompt(
        "hi", system="sys", params={"temperature": 0.1}, tools=[ToolSpec("get_weather")], tool_choice="required",
        stream=False,
    )  # fmt: skip
    run = Run(
        model_config_name=config_name, provider="openai", model="m", status=status,
        request={**request.to_dict(), "endpoint": "http://x", "body": {}},
        response={"content": "Let me check.", "tool_calls": CALLS, "finish_reason": finish_reason,
                  "thinking_blocks": [{"thinking": "t", "signature": "s"}, {"redacted_data": "r"}]},
    )  # fmt: skip
    store.create_run(run)
    return run.id


@pytest.fixture
def config(store):
    return store.save_config(ModelConfig(name="cfg", provider="openai", model="m"))


def test_builds_the_follow_up_with_everything_the_first_turn_had(store, config):
    run_id = saved_run(store)
    got_config, request = continuation_request(store, run_id, {"call_1": "4°C", "call_2": "12:00"})
    assert got_config.name == "cfg"
    assert (request.system, request.params, request.tool_choice, request.stream) == ("sys", {"temperature": 0.1}, "required", False)
    assert [t.name for t in request.tools] == ["get_weather"]
    user, assistant, *results = request.messages
    assert user.content == "hi"
    assert assistant.content == "Let me check."
    # raw arguments go back as the model wrote them, invalid ones included
    assert [(c.id, c.arguments) for c in assistant.tool_calls] == [("call_1", '{"city": "Oslo"}'), ("call_2", "{bad")]
    assert [(b.thinking, b.signature, b.redacted_data) for b in assistant.thinking] == [("t", "s", None), ("", None, "r")]
    assert [(m.role, m.tool_call_id, m.content) for m in results] == [("tool", "call_1", "4°C"), ("tool", "call_2", "12:00")]


def test_a_canned_result_answers_a_call_without_one(store, config):
    store.save_tool(validate_tool_definition("get_time", "", {"type": "object"}, canned_result="noon"))
    _, request = continuation_request(store, saved_run(store), {"call_1": "4°C"})
    assert request.messages[-1].content == "noon"


def test_a_call_without_any_result_is_named(store, config):
    with pytest.raises(ToolError) as caught:
        continuation_request(store, saved_run(store), {"call_1": "4°C"})
    assert str(caught.value).startswith("no result for tool call call_2 (get_time)")


def test_refusals(store, config):
    with pytest.raises(ToolError, match="no run 'nope' in history"):
        continuation_request(store, "nope", {})
    with pytest.raises(ToolError, match=r"did not end in tool calls \(finish_reason stop\)"):
        continuation_request(store, saved_run(store, finish_reason="stop"), {})
    with pytest.raises(ToolError, match=r"did not end in tool calls \(status error\)"):
        continuation_request(store, saved_run(store, status="error"), {})
    with pytest.raises(ToolError, match=r"has no tool call call_9 \(its calls: call_1, call_2\)"):
        continuation_request(store, saved_run(store), {"call_9": "x"})
    with pytest.raises(ToolError, match="model config 'gone' of run .* no longer exists"):
        continuation_request(store, saved_run(store, config_name="gone"), {"call_1": "a", "call_2": "b"})
