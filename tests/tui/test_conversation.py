"""The turns before this one, shown above a run that continues a tool-call conversation: what
the user asked, each assistant turn with its tool calls, the results sent back, then this run."""

from __future__ import annotations

from textual.content import Content

from tui.widgets.output.conversation import RESULT_PREVIEW, earlier_turns

ASKED = {"role": "user", "content": "Weather in Oslo and Paris?"}
CALLED = {
    "role": "assistant", "content": None,
    "tool_calls": [{"id": "call_1", "name": "get_weather", "arguments": '{"city": "Oslo"}'},
                   {"id": "call_2", "name": "get_weather", "arguments": '{"city": "Paris"}'}],
}  # fmt: skip
RESULTS = [{"role": "tool", "tool_call_id": "call_1", "content": "12 °C"},
           {"role": "tool", "tool_call_id": "call_2", "content": "15 °C"}]  # fmt: skip


def styled(content: Content) -> list[tuple[str, str]]:
    return [(content.plain[span.start : span.end], str(span.style)) for span in content.spans if span.start < span.end]


def test_a_first_turn_has_no_earlier_turns() -> None:
    assert earlier_turns({"messages": [ASKED]}) is None
    assert earlier_turns({}) is None
    assert earlier_turns({"messages": ["assistant", ASKED]}) is None  # not a message: ignored


def test_a_second_turn_shows_the_question_the_calls_and_their_results_then_this_run() -> None:
    shown = earlier_turns({"messages": [ASKED, CALLED, *RESULTS]})
    assert shown is not None
    assert shown.plain.split("\n") == [
        "You",
        "Weather in Oslo and Paris?",
        "Turn 1 · assistant",
        "→ tool call get_weather  call_1",
        '  {"city": "Oslo"}',
        "→ tool call get_weather  call_2",
        '  {"city": "Paris"}',
        "← result of get_weather  call_1",
        "  12 °C",
        "← result of get_weather  call_2",
        "  15 °C",
        "Turn 2 · assistant (this run)",
    ]
    colours = styled(shown)
    assert colours[:2] == [("You", "bold $accent"), ("Turn 1 · assistant", "bold $accent")]
    assert colours[2:6] == [
        ("→ tool call ", "$text-muted"), ("get_weather", "bold"), ("  call_1", "$text-muted"),
        ('  {"city": "Oslo"}', "$text-muted"),
    ]  # fmt: skip
    assert colours[10:14] == [
        ("← result of ", "$text-muted"), ("get_weather", "bold"), ("  call_1", "$text-muted"), ("  12 °C", "$text-muted"),
    ]  # fmt: skip
    assert colours[-1] == ("Turn 2 · assistant (this run)", "bold $accent")


def test_turns_are_counted_and_an_assistants_words_shown_with_its_calls() -> None:
    answered = {"role": "assistant", "content": "Oslo is colder.",
                "tool_calls": [{"id": "call_3", "name": "get_time", "arguments": ""}]}  # fmt: skip
    shown = earlier_turns({"messages": [ASKED, CALLED, *RESULTS, {"role": "user", "content": ""}, answered,
                                        {"role": "tool", "tool_call_id": "call_3", "content": "09:00"}]})  # fmt: skip
    assert shown is not None
    lines = shown.plain.split("\n")
    assert lines[11:] == [
        "Turn 2 · assistant",  # the empty user message shows nothing
        "Oslo is colder.",
        "→ tool call get_time  call_3",
        "  ",
        "← result of get_time  call_3",
        "  09:00",
        "Turn 3 · assistant (this run)",
    ]


def test_a_long_result_shows_its_head_and_an_unknown_calls_result_is_a_tools() -> None:
    long = "x" * (RESULT_PREVIEW + 1)
    shown = earlier_turns({"messages": [ASKED, CALLED, {"role": "tool", "tool_call_id": "call_1", "content": long},
                                        {"role": "tool", "tool_call_id": "call_9", "content": "y" * RESULT_PREVIEW}]})  # fmt: skip
    assert shown is not None
    lines = shown.plain.split("\n")
    assert lines[7] == "← result of get_weather  call_1"
    assert lines[8] == "  " + "x" * (RESULT_PREVIEW - 1) + "…"
    assert lines[9:11] == ["← result of tool  call_9", "  " + "y" * RESULT_PREVIEW]  # exactly the preview: whole


def test_content_given_as_parts_shows_their_text() -> None:
    parts = {"role": "user", "content": [{"type": "text", "text": "Look at"}, "stray", {"type": "image"},
                                         {"type": "text", "text": "this"}]}  # fmt: skip
    shown = earlier_turns({"messages": [parts, CALLED]})
    assert shown is not None
    assert shown.plain.split("\n")[:4] == ["You", "Look at", "", "this"]
