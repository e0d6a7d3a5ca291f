"""A scripted refusal, as each protocol sends one: the official SDKs read it as a
refusal, and llmwb's run ends as `content_filter` with the refusal kept apart from
the answer — so a user can see how the workbench shows a model that declines."""

from __future__ import annotations

import anthropic
import openai
import pytest

from core.events import Finished, RefusalDelta, TextDelta
from core.request import ChatRequest
from core.runner import RunOptions, run
from core.simulator import SimulatorServer
from core.simulator.scenario import ScenarioError, scenario_from_dict
from core.store.models import ModelConfig

from .helpers import add, instant, user

REFUSAL = "I'm sorry, but I can't help with that request."


async def test_chat_completions_streams_refusal_deltas(server: SimulatorServer, openai_client: openai.AsyncOpenAI) -> None:
    instant(server, "demo-refusal")
    stream = await openai_client.chat.completions.create(model="demo-refusal", messages=user(), stream=True)
    refused = ""
    async for chunk in stream:
        for choice in chunk.choices:
            assert not choice.delta.content
            refused += choice.delta.refusal or ""
    assert refused == REFUSAL

    whole = await openai_client.chat.completions.create(model="demo-refusal", messages=user())
    message = whole.choices[0].message
    assert (message.content, message.refusal, whole.choices[0].finish_reason) == (None, REFUSAL, "stop")


async def test_the_responses_stream_manager_accepts_a_refusal_part(
    server: SimulatorServer, openai_client: openai.AsyncOpenAI
) -> None:
    instant(server, "demo-refusal")
    async with openai_client.responses.stream(model="demo-refusal", input="hello") as stream:
        deltas = [event.delta async for event in stream if event.type == "response.refusal.delta"]
        final = await stream.get_final_response()
    [message] = final.output
    [part] = message.content
    assert part.type == "refusal" and part.refusal == "".join(deltas) == REFUSAL
    assert final.output_text == ""


async def test_claude_declines_through_its_stop_reason(
    server: SimulatorServer, anthropic_client: anthropic.AsyncAnthropic
) -> None:
    instant(server, "demo-refusal")
    async with anthropic_client.messages.stream(model="demo-refusal", max_tokens=100, messages=user()) as stream:
        final = await stream.get_final_message()
    assert final.stop_reason == "refusal" and final.content[0].text == REFUSAL


@pytest.mark.parametrize(("provider", "suffix"), [("openai-compatible", "/v1"), ("openai-responses", "/v1"), ("anthropic", "")])
async def test_a_run_ends_as_content_filter_with_the_refusal_apart(server: SimulatorServer, provider: str, suffix: str) -> None:
    instant(server, "demo-refusal")
    config = ModelConfig(name="refuser", provider=provider, model="demo-refusal", base_url=server.root_url + suffix)
    events = [e async for e in run(config, ChatRequest.from_prompt("hello", stream=True), RunOptions(store=None))]
    final = events[-1]
    assert isinstance(final, Finished)
    assert final.final_response["finish_reason"] == "content_filter"
    if provider == "anthropic":  # Claude's refusal is text; only the stop reason says it declined
        assert "".join(e.content for e in events if isinstance(e, TextDelta)) == REFUSAL
    else:
        assert "".join(e.refusal for e in events if isinstance(e, RefusalDelta)) == REFUSAL
        assert final.final_response["refusal"] == REFUSAL and not final.final_response["content"]


async def test_max_tokens_cuts_a_refusal_and_keeps_it_a_refusal(server: SimulatorServer, openai_client: openai.AsyncOpenAI) -> None:
    add(server, name="long-no", refusal="No. " * 50, timing={"first_token_ms": 0, "gap_ms": 0})
    result = await openai_client.chat.completions.create(model="long-no", messages=user(), max_tokens=5)
    message = result.choices[0].message
    assert message.content is None and message.refusal == ("No. " * 50)[:20]
    assert result.choices[0].finish_reason == "length"


def test_a_refusal_is_its_own_text_and_calls_no_tools() -> None:
    with pytest.raises(ScenarioError, match="only one of text, refusal"):
        scenario_from_dict({"name": "x", "text": "hi", "refusal": "no"})
    with pytest.raises(ScenarioError, match="a refusal calls no tools"):
        scenario_from_dict({"name": "x", "refusal": "no", "tool_calls": [{"name": "f"}]})
