"""The plain and wire views' text (WrappedText, unmounted: its rows as they would be drawn):
wrapped at the view's width however the text arrived, control characters never reaching
the terminal, and text kept but not wrapped while the view is hidden."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.geometry import Size

from output_host import wait_until
from tui.widgets.output.wrapped_text import WrappedText

ANSWER = "The quick brown fox jumps over the lazy dog.\n\nThen it\tran off, far away into the woods.\nEnd"


def view(width: int = 12) -> WrappedText:
    text = WrappedText(auto_scroll=False)
    text.expect_width(width)
    return text


def test_text_wraps_at_word_ends_within_the_width() -> None:
    shown = view()
    shown.write("The quick brown fox jumps")
    assert shown._rows == ["The quick ", "brown fox ", "jumps"]
    shown.write("\n\nover")
    assert shown._rows == ["The quick ", "brown fox ", "jumps", "", "over"]
    assert shown.virtual_size == Size(12, 5)  # what the view scrolls: its rows


def test_streamed_in_pieces_the_rows_are_those_of_the_whole_text() -> None:
    whole = view()
    whole.write(ANSWER)
    for size in (1, 2, 3, 5, 7, 11):
        streamed = view()
        for start in range(0, len(ANSWER), size):
            streamed.write(ANSWER[start : start + size])
        assert (streamed._rows, streamed.text) == (whole._rows, whole.text), f"in pieces of {size}"
    assert whole.row_count == len(whole._rows) == 12


def test_control_characters_show_as_replacement_marks_and_line_ends_as_line_ends() -> None:
    shown = view(40)
    shown.write("red \x1b[31mtext\x07\r\nbar 10%\rbar 20%\ttab\x7f\nend\r")
    assert shown._rows == ["red \ufffd[31mtext\ufffd", "bar 10%\ufffdbar 20%    tab\ufffd", "end\ufffd"]
    shown.write("\n")  # a CR ending one write is not known to be a CRLF
    assert shown._rows[-2:] == ["end\ufffd", ""]
    shown.write("bell\x07\r\nlast")  # a CRLF ending the next-to-last line of a write
    assert shown._rows[-2:] == ["bell\ufffd", "last"]


def test_a_printable_line_is_kept_as_it_is_beside_one_that_is_cleaned() -> None:
    shown = view(40)
    shown.write("plain line\nbell\x07\n")
    assert shown.text == "plain line\nbell\ufffd\n"


def test_a_hidden_view_keeps_its_text_and_wraps_it_once_shown() -> None:
    shown = view()
    shown.hold()
    shown.write("The quick brown ")
    shown.write("fox")
    assert shown._rows == [""] and shown.text == "The quick brown fox"  # an empty view: one blank row
    shown.release()
    assert shown._rows == ["The quick ", "brown fox"]
    shown.write(" jumps")  # released: written as it comes
    assert shown._rows == ["The quick ", "brown fox ", "jumps"]


def test_cleared_while_hidden_the_view_stays_hidden_and_forgets_its_text() -> None:
    shown = view()
    shown.write("old answer")
    shown.hold()
    shown.write(" more")
    shown.clear()
    assert (shown.text, shown._rows) == ("", [])
    assert shown.virtual_size == Size(12, 0)  # nothing left to scroll
    shown.write("new")
    assert (shown.text, shown._rows) == ("new", [])
    shown.release()
    assert shown._rows == ["new"]


def test_text_written_before_the_view_had_a_width_is_wrapped_when_it_gets_one_and_only_then() -> None:
    shown = WrappedText(auto_scroll=False)
    shown.write("The quick brown fox")
    assert shown.row_count == 0
    shown.expect_width(12)
    assert shown._rows == ["The quick ", "brown fox"] and shown.virtual_size == Size(12, 2)
    shown.expect_width(5)  # a width is known: only a layout's resize re-wraps
    assert shown._rows == ["The quick ", "brown fox"]
    shown.write(" jumps")
    assert shown._rows == ["The quick ", "brown fox ", "jumps"]


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield WrappedText()


async def test_a_view_at_its_end_stays_there_when_a_narrower_width_wraps_it_into_more_rows() -> None:
    app = Host()
    async with app.run_test(size=(60, 10)) as pilot:
        shown = app.query_one(WrappedText)
        shown.write("\n".join(f"line {n}: " + "word " * 8 for n in range(40)))
        await wait_until(pilot, lambda: shown.max_scroll_y > 0 and shown.is_vertical_scroll_end)
        rows = shown.row_count
        await pilot.resize_terminal(30, 10)
        await wait_until(pilot, lambda: shown.row_count > rows and shown.is_vertical_scroll_end)


async def test_each_row_is_drawn_in_the_views_colours_and_knows_its_place_in_the_text() -> None:
    """Past the last row: blank, in the view's background. Each cell carries its offset,
    which Textual's mouse selection reads to copy the text under it."""
    app = Host()
    async with app.run_test(size=(40, 6)) as pilot:
        shown = app.query_one(WrappedText)
        shown.write("first row\nsecond")
        await wait_until(pilot, lambda: shown.row_count == 2 and shown.size.width > 0)
        width, colours = shown.scrollable_content_region.width, (shown.rich_style.color, shown.rich_style.bgcolor)
        second, past = shown.render_line(1), shown.render_line(4)
        assert second.text == "second".ljust(width) and past.text == " " * width
        for strip in (second, past):
            assert {(segment.style.color, segment.style.bgcolor) for segment in strip} == {colours}
        assert [segment.style.meta.get("offset") for segment in second][0] == (0, 1)
