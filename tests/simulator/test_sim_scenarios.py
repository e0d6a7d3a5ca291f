"""Scenario files: the shipped set, the format's rules, chunking, usage and jitter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from core.simulator import ScenarioError, builtin_scenarios, load_scenario_file, load_scenarios, scenario_from_dict
from core.simulator.script import TEXT, TOOL_ARGS, build_plan, content_gaps, cut_fixed, cut_words
from core.simulator.scenario import Timing

SHIPPED = {
    "demo-fast", "demo-chinese", "demo-long", "demo-reasoning", "demo-tools", "demo-claude", "echo",
    "demo-flaky", "demo-diff", "bench-20k", "fault-429", "fault-401", "fault-500", "fault-529",
    "fault-drop", "fault-malformed", "fault-stall", "fault-error-event", "fault-headers-only",
}  # fmt: skip


def test_every_shipped_scenario_loads_under_its_agreed_name() -> None:
    assert SHIPPED <= set(builtin_scenarios())


def test_shipped_scenarios_script_what_their_names_promise() -> None:
    s = builtin_scenarios()
    assert (s["demo-fast"].timing.first_token_ms, s["demo-fast"].timing.gap_ms) == (150, 15)
    assert "```" in s["demo-fast"].text and "\n- " in s["demo-fast"].text
    assert len(s["demo-long"].text) >= 20_000 and s["demo-long"].timing.gap_ms == 1
    bench = build_plan(s["bench-20k"], {}, streamed=True, tool_id_prefix="call_")
    assert len(bench.steps) >= 20_000 and s["bench-20k"].timing.gap_ms == 0
    assert s["demo-reasoning"].reasoning and s["demo-reasoning"].text
    tools = s["demo-tools"]
    assert [json.loads(c.arguments)["city"] for c in tools.tool_calls] == ["Paris", "Tokyo"]
    assert tools.resolved_finish_reason == "tool_calls" and tools.chunking.size == 3
    claude = s["demo-claude"]
    assert claude.api == "anthropic" and claude.reasoning and claude.text and claude.tool_calls
    assert s["echo"].echo
    assert s["demo-flaky"].fault.drop_after_chunks == 8
    assert s["demo-diff"].nonstream_text not in (None, s["demo-diff"].text)
    assert s["fault-429"].fault.http_status == 429 and s["fault-429"].fault.headers == {"retry-after": "7"}
    assert s["fault-stall"].fault.stall_after_chunks == 4 and s["fault-stall"].fault.stall_s == 1.5


def test_multibyte_text_and_arguments_are_cut_mid_word() -> None:
    s = builtin_scenarios()
    chinese = build_plan(s["demo-chinese"], {}, streamed=True, tool_id_prefix="call_")
    pieces = [step.text for step in chinese.steps if step.kind == TEXT]
    assert all(len(piece) <= 3 for piece in pieces) and any(len(piece.encode()) > len(piece) for piece in pieces)
    claude = build_plan(s["demo-claude"], {}, streamed=True, tool_id_prefix="toolu_")
    fragments = [step.text for step in claude.steps if step.kind == TOOL_ARGS]
    assert any(not fragment.isascii() for fragment in fragments)
    assert "".join(fragments) == s["demo-claude"].tool_calls[0].arguments


def test_user_directory_overrides_a_builtin_and_adds_new_names(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text("name: demo-fast\ntext: overridden\n")
    (tmp_path / "extra.json").write_text(json.dumps({"text": "from json"}))
    (tmp_path / "notes.txt").write_text("ignored")
    scenarios = load_scenarios([tmp_path])
    assert scenarios["demo-fast"].text == "overridden"
    assert scenarios["extra"].text == "from json"  # name defaults to the file stem
    assert builtin_scenarios()["demo-fast"].text != "overridden"


def test_a_typo_in_a_key_is_an_error_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "typo.yaml"
    path.write_text("name: typo\ntext: hi\ntiming: {first_token_ms: 5, gap: 3}\n")
    with pytest.raises(ScenarioError, match="'gap'"):
        load_scenario_file(path)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"name": "x", "text": "a", "echo": True}, "only one of"),
        ({"name": "x", "chunking": {"mode": "tokens"}}, "mode"),
        ({"name": "x", "chunking": {"mode": "list"}}, "needs chunks"),
        ({"name": "x", "finish_reason": "done"}, "finish_reason"),
        ({"name": "x", "fault": {"http_status": 200}}, "http_status"),
        ({"name": "x", "tool_calls": [{"arguments": {}}]}, "needs a name"),
        ({"text": "no name"}, "needs a name"),
    ],
)
def test_invalid_scenarios_are_rejected(fields: dict, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        scenario_from_dict(fields)


def test_broken_user_file_can_be_skipped_and_reported(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("name: [unclosed\n")
    (tmp_path / "good.yaml").write_text("text: fine\n")
    errors: list[Path] = []
    scenarios = load_scenarios([tmp_path], on_error=lambda path, exc: errors.append(path))
    assert errors == [tmp_path / "bad.yaml"] and scenarios["good"].text == "fine"
    with pytest.raises(ScenarioError, match="bad.yaml"):
        load_scenarios([tmp_path])


def test_chunking_modes_reassemble_to_the_text() -> None:
    text = "  Hello  wide\nworld, 你好 🚀 "
    assert "".join(cut_fixed(text, 3)) == text and "".join(cut_words(text)) == text
    assert cut_words("Hello big world") == ["Hello", " big", " world"]
    listed = scenario_from_dict({"name": "l", "chunking": {"mode": "list", "chunks": ["ex", "plicit", " list"]}})
    plan = build_plan(listed, {}, streamed=True, tool_id_prefix="call_")
    assert [s.text for s in plan.steps] == ["ex", "plicit", " list"] and plan.text == "explicit list"


def test_raw_string_arguments_are_sent_verbatim_even_when_invalid_json() -> None:
    scenario = scenario_from_dict({"name": "bad-args", "tool_calls": [{"name": "f", "arguments": '{"city": "Par'}]})
    plan = build_plan(scenario, {}, streamed=True, tool_id_prefix="call_")
    assert plan.tool_calls[0].arguments == '{"city": "Par' and plan.tool_calls[0].id.startswith("call_")
    assert plan.finish_reason == "tool_calls"


def test_computed_usage_is_characters_over_four_rounded_up() -> None:
    scenario = scenario_from_dict({"name": "u", "reasoning": "x" * 9, "text": "y" * 10})
    body = {"system": "s" * 3, "messages": [{"role": "user", "content": [{"type": "text", "text": "q" * 6}]}]}
    usage = build_plan(scenario, body, streamed=True, tool_id_prefix="call_").usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.reasoning_tokens, usage.cached_tokens) == (3, 5, 3, 0)
    given = scenario_from_dict({"name": "g", "text": "hi", "usage": {"prompt_tokens": 12, "completion_tokens": 50}})
    usage = build_plan(given, body, streamed=True, tool_id_prefix="call_").usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (12, 50, 62)


def test_jitter_is_deterministic_per_seed_and_bounded() -> None:
    def first(timing: Timing, n: int = 50) -> list[float]:
        gaps = content_gaps(timing)
        return [next(gaps) for _ in range(n)]

    seeded = Timing(gap_ms=20, jitter_ms=5, seed=1)
    assert first(seeded) == first(seeded)
    assert first(seeded) != first(Timing(gap_ms=20, jitter_ms=5, seed=2))
    assert all(0.015 <= gap <= 0.025 for gap in first(seeded))
    assert set(first(Timing(gap_ms=20))) == {0.02}


def test_the_documented_example_is_a_valid_scenario() -> None:
    doc = (Path(__file__).parents[2] / "core" / "simulator" / "SCENARIO_FORMAT.md").read_text()
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    scenario = scenario_from_dict(yaml.safe_load(example))
    assert scenario.name == "weather-demo" and scenario.fault.headers == {"retry-after": "7"}
    assert scenario.tool_calls[0].arguments == '{"city": "Paris"}' and scenario.chunking.arguments_size == 3
