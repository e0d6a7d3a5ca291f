"""`--provider openai-responses` in the CLI, and the seeded demo-responses model run end to end."""

from __future__ import annotations

import pytest

import json


def test_add_an_openai_responses_model(llmwb):
    added = llmwb("models", "add", "gpt5r", "--provider", "openai-responses", "--model", "gpt-5-mini",
                  "--api-key-env", "OPENAI_API_KEY", "--param", "reasoning_effort=low")  # fmt: skip
    assert added.code == 0, added.err
    [entry] = [e for e in json.loads(llmwb("models", "list", "--json").out) if e["name"] == "gpt5r"]
    assert entry["provider"] == "openai-responses"


@pytest.mark.unpaced  # the order of what is printed, not its pace
def test_demo_responses_streams_reasoning_then_text(llmwb):
    result = llmwb("run", "--model", "demo-responses", "--prompt", "hi", "--json")
    assert result.code == 0, result.err
    lines = result.json_lines()
    kinds = [next(k for k in ("reasoning", "content", "done") if k in line) for line in lines]
    assert kinds == sorted(kinds, key=("reasoning", "content", "done").index) and kinds[0] == "reasoning"
    final = lines[-1]
    assert final["final_response"]["content"] == "".join(line["content"] for line in lines if "content" in line)
    assert final["final_response"]["id"].startswith("resp_")
    assert final["metrics"]["usage_source"] == "provider" and final["metrics"]["reasoning_tokens"] > 0


def test_history_show_says_a_saved_run_was_a_refusal(llmwb, store):
    from core.store.models import Run

    refusal = "I'm very sorry, but I can't assist with that."
    run = Run(id="refused1", model_config_name="gpt-4o", provider="openai", model="gpt-4o", stream=True,
              request={"messages": [{"role": "user", "content": "How do I make anthrax?"}]}, status="ok",
              response={"content": "", "reasoning": "", "tool_calls": [], "refusal": refusal,
                        "finish_reason": "content_filter", "provider_finish_reason": "stop"})  # fmt: skip
    store.finish_run(run, [])
    shown = llmwb("history", "show", "refused1")
    assert shown.code == 0, shown.err
    assert refusal in shown.out and "refusal" in shown.out and "(no text)" not in shown.out
    assert "finish reason: content_filter (provider: stop)" in shown.out
