"""What a tool-call card and the outcome box under the output say: the card's title and
arguments while a call streams and once it is complete, and the error, cancelled and
refusal boxes, facts and styles (the mounted card is in tests/tui/test_output_pane.py)."""

from __future__ import annotations

from textual.content import Content

from tui.widgets.output.cards import RunOutcomeBox, ToolCallCard, error_box_content, refusal_box_content


def styled(content: Content) -> list[tuple[str, str]]:
    return [(content.plain[span.start : span.end], str(span.style)) for span in content.spans if span.start < span.end]


def test_a_streaming_card_is_named_by_the_first_delta_that_names_it_and_shows_the_raw_arguments() -> None:
    card = ToolCallCard(2)
    assert card._title().plain == "tool call ?  #2  · streaming…"
    card.grow("call_7", "get_weather", '{"city": ')
    card.grow(None, None, '"Oslo"')
    card.grow("", "", "}")  # later deltas of a call name nothing new
    assert card._title().plain == "tool call get_weather  #2  call_7  · streaming…"
    assert card._arguments().plain == '{"city": "Oslo"}'
    assert styled(card._title()) == [
        ("tool call ", "dim"), ("get_weather", "bold"), ("  #2", "dim"), ("  call_7", "dim"), ("  · ", "dim"),
        ("streaming…", "dim"),
    ]  # fmt: skip


def test_a_complete_call_shows_its_arguments_as_pretty_json_with_the_text_unescaped() -> None:
    card = ToolCallCard(0)
    card.grow("call_1", "get_weather", '{"city": "Zür')
    card.complete({"id": "call_1", "name": "get_weather", "arguments_raw": '{"city": "Zürich", "days": [1, 2]}',
                   "arguments_valid": True})  # fmt: skip
    assert card._title().plain == "tool call get_weather  #0  call_1  · complete"
    assert card._arguments().plain == '{\n  "city": "Zürich",\n  "days": [\n    1,\n    2\n  ]\n}'
    assert not card.has_class("-invalid") and card.has_class("tool-card")  # drawn as a card (output.tcss)
    # JSON's colours: a key and a string value each in their own
    colours = dict(styled(card._arguments()))
    assert colours['"city"'] != colours['"Zürich"'] and "$text-primary" in colours['"city"']
    no_arguments = ToolCallCard(1)
    no_arguments.complete({"id": "call_2", "name": "now", "arguments_raw": "", "arguments_valid": True})
    assert no_arguments._arguments().plain == "{}"


def test_an_invalid_call_is_marked_in_red_and_its_text_kept_raw() -> None:
    card = ToolCallCard(0)
    card.grow("call_1", "get_weather", '{"city": Par')
    card.complete({"id": "call_1", "name": "get_weather", "arguments_raw": '{"city": Par', "arguments_valid": False})
    assert card._title().plain.endswith("· INVALID JSON")
    assert styled(card._title())[-1] == ("INVALID JSON", "bold red")
    assert card._arguments().plain == '{"city": Par' and card.has_class("-invalid")


def test_a_completed_call_keeps_the_streamed_id_and_name_where_the_final_response_has_none() -> None:
    card = ToolCallCard(0)
    card.grow("call_1", "get_weather", '{"city": "Os')
    card.complete({"index": 0, "id": None, "name": None, "arguments_raw": '{"city": "Os', "arguments_valid": False})
    assert card._title().plain == "tool call get_weather  #0  call_1  · INVALID JSON"
    assert card._arguments().plain == '{"city": "Os'


def test_a_call_that_was_not_streamed_is_named_by_the_final_response() -> None:
    card = ToolCallCard(1)  # a non-streamed run's card: made when the response is whole
    card.complete({"index": 1, "id": "call_9", "name": "lookup", "arguments_raw": '{"q": 1}', "arguments_valid": True})
    assert card._title().plain == "tool call lookup  #1  call_9  · complete"


def test_a_call_the_provider_calls_valid_but_is_not_json_is_shown_raw() -> None:
    card = ToolCallCard(0)
    card.complete({"id": "call_1", "name": "f", "arguments_raw": "{'a': 1}", "arguments_valid": True})
    assert card._arguments().plain == "{'a': 1}" and card._title().plain.endswith("· complete")


def test_the_error_box_lists_the_facts_it_has_on_its_first_line_and_the_message_under_it() -> None:
    full = error_box_content(status="error", error="Rate limit reached", error_type="rate_limit", http_status=429,
                             retry_after="7")  # fmt: skip
    assert full.plain == "✗ rate_limit · HTTP 429 · retry after 7 s\nRate limit reached"
    assert styled(full) == [("✗ rate_limit · HTTP 429 · retry after 7 s", "bold")]
    bare = error_box_content(status="error", error=None, error_type=None, http_status=None, retry_after=None)
    assert bare.plain == "✗ error\nunknown error"


def test_a_cancelled_run_says_so_and_that_its_partial_output_is_kept() -> None:
    shown = error_box_content(status="cancelled", error="cancelled by the user", error_type="cancelled",
                              http_status=None, retry_after=None)  # fmt: skip
    assert styled(shown) == [("■ cancelled", "bold"), (" — partial output kept above", "dim")]


def test_a_refusal_box_gives_the_models_words_under_its_mark() -> None:
    shown = refusal_box_content("I can't help with that.")
    assert shown.plain == "⊘ refused by the model\nI can't help with that."
    assert styled(shown) == [("⊘ refused by the model", "bold")]
    box = RunOutcomeBox("refused", shown)
    assert box.has_class("outcome") and box.has_class("-refused")
    assert str(box.render()) == "⊘ refused by the model\nI can't help with that."
