"""A scenario file as a user writes one (core.simulator.scenario): every field of a fault,
timing, usage, chunking and tool call is read as written, the defaults hold for what is left
out, and each mistake is refused in one line naming the place in the file and what was expected."""

from __future__ import annotations

import pytest

from core.simulator import ScenarioError, scenario_from_dict
from core.simulator.scenario import Chunking, Fault, Timing, ToolCallScript, UsageScript


def _refusal(fields: dict) -> str:
    with pytest.raises(ScenarioError) as refused:
        scenario_from_dict({"name": "x", **fields})
    return str(refused.value)


def test_every_fault_field_is_read_as_written() -> None:
    fault = scenario_from_dict({"name": "x", "text": "hi", "fault": {
        "http_status": 503, "error_message": "down for maintenance", "headers": {"Retry-After": 3, "X-Why": "x"},
        "drop_after_chunks": 2, "malformed_after_chunks": 3, "stall_after_chunks": 4, "error_event_after_chunks": 5,
        "stall_s": 0.5, "headers_then_nothing": 1,
    }}).fault  # fmt: skip
    assert fault == Fault(http_status=503, error_message="down for maintenance",
                          headers={"retry-after": "3", "x-why": "x"}, drop_after_chunks=2, malformed_after_chunks=3,
                          stall_after_chunks=4, error_event_after_chunks=5, stall_s=0.5, headers_then_nothing=True)  # fmt: skip


def test_a_fault_written_empty_or_with_nulls_is_no_fault() -> None:
    assert scenario_from_dict({"name": "x", "fault": {}}).fault == Fault()
    nulls = {key: None for key in ("http_status", "error_message", "headers", "drop_after_chunks",
                                   "malformed_after_chunks", "stall_after_chunks", "error_event_after_chunks")}  # fmt: skip
    assert scenario_from_dict({"name": "x", "fault": nulls}).fault == Fault()
    assert scenario_from_dict({"name": "x", "fault": {"headers_then_nothing": False}}).fault == Fault()


@pytest.mark.parametrize("status", [400, 429, 599])
def test_an_error_status_from_400_to_599_is_taken(status: int) -> None:
    assert scenario_from_dict({"name": "x", "fault": {"http_status": status}}).fault.http_status == status


def test_every_other_field_is_read_as_written() -> None:
    scenario = scenario_from_dict({
        "name": "x", "text": "unused", "tool_calls": [{"id": "call_1", "name": "f", "arguments": {"q": "é"}}],
        "chunking": {"mode": "word", "size": 3, "arguments_size": 7},
        "timing": {"first_token_ms": 5, "gap_ms": 1.5, "jitter_ms": 0.25, "seed": 9},
        "usage": {"prompt_tokens": 11, "completion_tokens": 12, "reasoning_tokens": 13, "cached_tokens": 14},
    })  # fmt: skip
    assert scenario.tool_calls == [ToolCallScript(name="f", arguments='{"q": "é"}', id="call_1")]
    assert scenario.chunking == Chunking(mode="word", size=3, arguments_size=7)
    assert scenario.timing == Timing(first_token_ms=5.0, gap_ms=1.5, jitter_ms=0.25, seed=9)
    assert scenario.usage == UsageScript(prompt_tokens=11, completion_tokens=12, reasoning_tokens=13, cached_tokens=14)


@pytest.mark.parametrize("fields, message", [
    ({"fault": ["http_status"]}, "scenario.fault: expected a mapping, got list"),
    ({"tool_calls": ["f"]}, "scenario.tool_calls[0]: expected a mapping, got str"),
    ({"chunking": ["word"]}, "scenario.chunking: expected a mapping, got list"),
    ({"chunking": {"mod": "word"}}, "scenario.chunking: unknown key(s) 'mod' (known: mode, size, chunks, arguments_size)"),
    ({"fault": {"stal_s": 1}}, "scenario.fault: unknown key(s) 'stal_s' (known: http_status, error_message, headers,"
                               " stall_s, headers_then_nothing, drop_after_chunks, malformed_after_chunks,"
                               " stall_after_chunks, error_event_after_chunks)"),
    ({"fault": {"http_status": 399}}, "scenario.fault.http_status: expected an integer >= 400, got 399"),
    ({"fault": {"http_status": 600}}, "scenario.fault.http_status: expected 400..599, got 600"),
    ({"fault": {"error_message": 5}}, "scenario.fault.error_message: expected a string, got int"),
    ({"fault": {"headers": "retry-after: 3"}}, "scenario.fault.headers: expected a mapping, got str"),
    ({"fault": {"drop_after_chunks": -1}}, "scenario.fault.drop_after_chunks: expected an integer >= 0, got -1"),
    ({"fault": {"error_event_after_chunks": True}},
     "scenario.fault.error_event_after_chunks: expected an integer >= 0, got True"),
    ({"fault": {"stall_s": "slow"}}, "scenario.fault.stall_s: expected a number >= 0, got 'slow'"),
    ({"timing": {"gap_ms": -1}}, "scenario.timing.gap_ms: expected a number >= 0, got -1"),
    ({"timing": {"seed": 1.5}}, "scenario.timing.seed: expected an integer >= 0, got 1.5"),
    ({"timing": [1]}, "scenario.timing: expected a mapping, got list"),
    ({"timing": {"gap": 3}}, "scenario.timing: unknown key(s) 'gap' (known: first_token_ms, gap_ms, jitter_ms, seed)"),
    ({"usage": {"prompt_tokens": "many"}}, "scenario.usage.prompt_tokens: expected an integer >= 0, got 'many'"),
    ({"usage": {"tokens": 1}}, "scenario.usage: unknown key(s) 'tokens' (known: prompt_tokens, completion_tokens,"
                               " reasoning_tokens, cached_tokens)"),
    ({"usage": "lots"}, "scenario.usage: expected a mapping, got str"),
    ({"chunking": {"mode": "lines"}}, "scenario.chunking.mode: expected one of fixed, word, list, got 'lines'"),
    ({"chunking": {"size": 0}}, "scenario.chunking.size: expected an integer >= 1, got 0"),
    ({"chunking": {"arguments_size": 0}}, "scenario.chunking.arguments_size: expected an integer >= 1, got 0"),
    ({"chunking": {"mode": "list", "chunks": []}}, "scenario.chunking.chunks: expected a non-empty list of strings"),
    ({"chunking": {"mode": "list", "chunks": ["a", 2]}}, "scenario.chunking.chunks[1]: expected a string, got int"),
    ({"chunking": {"mode": "list"}}, "scenario.chunking: mode 'list' needs chunks"),
    ({"tool_calls": {"name": "f"}}, "scenario.tool_calls: expected a list"),
    ({"tool_calls": [{"name": "f"}, {"arguments": {}}]}, "scenario.tool_calls[1]: a tool call needs a name"),
    ({"tool_calls": [{"name": 3}]}, "scenario.tool_calls[0].name: expected a string, got int"),
    ({"tool_calls": [{"name": "f", "id": 3}]}, "scenario.tool_calls[0].id: expected a string, got int"),
    ({"tool_calls": [{"name": "f", "args": {}}]}, "scenario.tool_calls[0]: unknown key(s) 'args' (known: id, name, arguments)"),
    ({"text": "a", "echo": True}, "scenario: use only one of text, refusal, echo, generate (got text, echo)"),
    ({"refusal": "no", "tool_calls": [{"name": "f"}]}, "scenario: a refusal calls no tools (drop tool_calls or refusal)"),
    ({"api": "grpc"}, "scenario.api: expected one of openai, responses, anthropic, ollama, got 'grpc'"),
    ({"finish_reason": "done"}, "scenario.finish_reason: expected one of stop, length, tool_calls, content_filter,"
                                " got 'done'"),
    ({"generate": {"tokens": 0}}, "scenario.generate.tokens: expected an integer >= 1, got 0"),
    ({"generate": {"kind": "poetry"}}, "scenario.generate.kind: expected one of lorem_markdown, got 'poetry'"),
    ({"nonstream_text": 1}, "scenario.nonstream_text: expected a string, got int"),
    ({"after_tool_results": ["x"]}, "scenario.after_tool_results: expected a string, got list"),
    ({"description": 1}, "scenario.description: expected a string, got int"),
    ({"name": 7}, "scenario.name: expected a string, got int"),
    ({"reasoning": ["think"]}, "scenario.reasoning: expected a string, got list"),
    ({"text": ["a", "b"]}, "scenario.text: expected a string, got list"),
    ({"refusal": 1}, "scenario.refusal: expected a string, got int"),
])  # fmt: skip
def test_each_mistake_names_its_place_and_what_was_expected(fields: dict, message: str) -> None:
    assert _refusal(fields) == message


def test_what_is_left_out_takes_its_default() -> None:
    scenario = scenario_from_dict({"name": "x", "tool_calls": [{"name": "f"}], "chunking": {"size": 1},
                                   "usage": "computed"})  # fmt: skip
    assert (scenario.api, scenario.description, scenario.echo, scenario.text) == ("openai", "", False, "")
    assert scenario.tool_calls == [ToolCallScript(name="f", arguments="{}", id=None)]
    assert scenario.chunking == Chunking(mode="fixed", size=1)
    assert scenario.usage == UsageScript()


def test_the_api_description_and_echo_are_read_as_written() -> None:
    scenario = scenario_from_dict({"name": "x", "api": "anthropic", "description": "says back", "echo": True})
    assert (scenario.api, scenario.description, scenario.echo) == ("anthropic", "says back", True)


def test_generated_text_is_the_generator_s_for_that_seed() -> None:
    from core.simulator.textgen import generate_text

    scenario = scenario_from_dict({"name": "x", "generate": {"tokens": 40, "seed": 3}})
    assert scenario.text == generate_text("lorem_markdown", 40, seed=3) and scenario.text
    assert _refusal({"text": "a", "generate": {"tokens": 5}}) == (
        "scenario: use only one of text, refusal, echo, generate (got text, generate)"
    )
    assert _refusal({"generate": {"tokens": 5, "size": 1}}) == (
        "scenario.generate: unknown key(s) 'size' (known: kind, tokens, seed)"
    )
    assert _refusal({"generate": "lots"}) == "scenario.generate: expected a mapping, got str"


def test_several_unknown_keys_are_all_named() -> None:
    assert _refusal({"txt": "a", "colour": "red"}).startswith("scenario: unknown key(s) 'colour', 'txt' (known: name, ")


def test_chunks_given_as_one_string_are_refused() -> None:
    assert _refusal({"chunking": {"mode": "list", "chunks": "abc"}}) == (
        "scenario.chunking.chunks: expected a non-empty list of strings"
    )


def test_a_file_s_mistakes_name_the_file_and_its_scenario_keeps_where_it_came_from(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from core.simulator import load_scenario_file

    good = tmp_path / "good.yaml"
    good.write_text("text: hi\n")
    assert load_scenario_file(good).source == good and load_scenario_file(good).name == "good"
    bad = tmp_path / "bad.yaml"
    bad.write_text("text: hi\ntiming: {gap_ms: -1}\n")
    with pytest.raises(ScenarioError) as refused:
        load_scenario_file(bad)
    assert str(refused.value) == f"{bad}.timing.gap_ms: expected a number >= 0, got -1"


def test_a_json_file_is_read_as_json_and_a_file_that_cannot_be_read_says_why(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from core.simulator import load_scenario_file

    loose = tmp_path / "loose.json"
    loose.write_text("{text: hi}")  # a YAML mapping, not JSON
    with pytest.raises(ScenarioError, match=r"^" + str(loose) + r": not valid JSON: "):
        load_scenario_file(loose)
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"text: caf\xe9\n")
    with pytest.raises(ScenarioError) as refused:
        load_scenario_file(binary)
    assert str(refused.value) == f"{binary}: not UTF-8 text (at offset 9)"
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    with pytest.raises(ScenarioError) as refused:
        load_scenario_file(folder)
    assert str(refused.value) == f"{folder}: cannot read: [Errno 21] Is a directory: '{folder}'"


def test_a_file_that_is_not_a_mapping_is_refused_by_name(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from core.simulator import load_scenario_file

    listed = tmp_path / "listed.yaml"
    listed.write_text("- text: hi\n")
    with pytest.raises(ScenarioError) as refused:
        load_scenario_file(listed)
    assert str(refused.value) == f"{listed}: expected a mapping, got list"
    with pytest.raises(ScenarioError) as refused:
        scenario_from_dict(["x"])  # type: ignore[arg-type]
    assert str(refused.value) == "scenario: expected a mapping, got list"


def test_generate_with_only_its_kind_is_a_thousand_tokens_of_seed_zero() -> None:
    from core.simulator.textgen import generate_text

    scenario = scenario_from_dict({"name": "x", "generate": {"kind": "lorem_markdown"}})
    assert scenario.text == generate_text("lorem_markdown", 1000, seed=0)
    assert _refusal({"generate": {"seed": -1}}) == "scenario.generate.seed: expected an integer >= 0, got -1"


def test_an_echo_with_its_chunking_written_keeps_it() -> None:
    from core.simulator.script import build_plan

    body = {"messages": [{"role": "user", "content": "one two three four five six seven eight"}]}
    as_words = build_plan(scenario_from_dict({"name": "x", "echo": True}), body, streamed=True, tool_id_prefix="c_")
    whole = build_plan(scenario_from_dict({"name": "x", "echo": True, "chunking": {"mode": "fixed", "size": 100}}),
                       body, streamed=True, tool_id_prefix="c_")  # fmt: skip
    assert as_words.text == whole.text == "one two three four five six seven eight"
    assert len(whole.steps) < len(as_words.steps)  # one piece, not a piece per word


def test_a_scenario_folder_that_is_not_one_is_reported_or_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from core.simulator import load_scenarios

    missing = tmp_path / "no-such-folder"
    reported: list[tuple[object, str]] = []
    assert "demo-fast" in load_scenarios([missing], on_error=lambda path, exc: reported.append((path, str(exc))))
    assert reported == [(missing, f"{missing}: not a directory")]
    with pytest.raises(ScenarioError, match=f"^{missing}: not a directory$"):
        load_scenarios([missing])
    (tmp_path / "bad.yaml").write_text("text: [unclosed\n")
    reported.clear()
    load_scenarios([tmp_path], on_error=lambda path, exc: reported.append((path, str(exc))))
    assert [path for path, _ in reported] == [tmp_path / "bad.yaml"] and reported[0][1].startswith(f"{tmp_path / 'bad.yaml'}: ")


def test_a_change_to_one_caller_s_builtin_scenario_is_not_everyone_s() -> None:
    from core.simulator import builtin_scenarios

    mine = builtin_scenarios()
    original = mine["demo-fast"].text
    mine["demo-fast"].text = "changed by one caller"
    mine["demo-fast"].timing.gap_ms = 999.0
    fresh = builtin_scenarios()["demo-fast"]
    assert fresh.text == original and fresh.timing.gap_ms != 999.0
