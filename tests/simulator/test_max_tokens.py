"""The simulator honours a request's max_tokens: output cut at the budget, finish_reason length."""

from __future__ import annotations

from core.simulator.scenario import builtin_scenarios
from core.simulator.script import build_plan


def test_a_long_answer_is_cut_at_max_tokens_with_finish_reason_length() -> None:
    scenario = builtin_scenarios()["demo-long"]
    body = {"model": "demo-long", "messages": [{"role": "user", "content": "go"}], "max_tokens": 20}
    plan = build_plan(scenario, body, streamed=True, tool_id_prefix="call_")
    assert plan.finish_reason == "length"
    assert plan.usage.completion_tokens == 20
    assert len(plan.reasoning) + len(plan.text) <= 80 and plan.text
    assert "".join(step.text for step in plan.steps) == plan.reasoning + plan.text


def test_a_budget_the_answer_fits_in_changes_nothing() -> None:
    scenario = builtin_scenarios()["demo-fast"]
    body = {"model": "demo-fast", "messages": [{"role": "user", "content": "go"}]}
    whole = build_plan(scenario, body, streamed=True, tool_id_prefix="call_")
    roomy = build_plan(scenario, {**body, "max_completion_tokens": 100_000}, streamed=True, tool_id_prefix="call_")
    assert roomy.text == whole.text and roomy.finish_reason == whole.finish_reason == "stop"
