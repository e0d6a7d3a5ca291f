"""The answer's growing views (tui/widgets/output/growing.py) look exactly as Textual's own
containers look — background, padding, border, line filters (NO_COLOR), the scrollbar and its
thumb at every scroll position, hovered, in another theme or colour — while an answer that
grows is laid out once per frame, not twice. The shortcuts they take are only worth it if
nobody can tell them from Textual's own paint."""

from __future__ import annotations

from textual._compositor import Compositor
from textual.app import App, ComposeResult
from textual.color import Color
from textual.containers import Horizontal, Vertical, VerticalScroll
from math import ceil

from textual.geometry import Region, Size
from textual.scrollbar import ScrollBarRender
from textual.widget import Widget
from textual.widgets import Static

from output_host import wait_until
from tui.widgets.output.growing import (
    GrowingBody, GrowingScroll, LaidOutOnce, SteadyScrollBar, _GrowingStylesCache, paints_plainly,
)  # fmt: skip

WIDTH = 20  # each column's width: the growing one on the left, Textual's own on the right


class Side(App[None]):
    """The same answer twice: in the growing views (left) and in Textual's VerticalScroll
    and Vertical (right), styled alike."""

    CSS = """
    .column { width: 20; height: 100%; background: $panel; scrollbar-size-vertical: 2; }
    .column.-red { scrollbar-color: red; scrollbar-background: #102030; }
    .body { height: auto; background: #203040; padding: 1 2; }
    .body.-boxed { border: solid green; }
    """

    def compose(self) -> ComposeResult:
        with Horizontal():  # the body's child given as Textual's containers take them
            with GrowingScroll(classes="column", id="growing"):
                yield GrowingBody(Static(id="growing-text"), classes="body")
            with VerticalScroll(classes="column", id="textual"):
                yield Vertical(Static(id="textual-text"), classes="body")

    def show(self, text: str) -> None:
        for side in ("growing", "textual"):
            self.query_one(f"#{side}-text", Static).update(text)

    def both(self, change) -> None:
        for side in ("growing", "textual"):
            change(self.query_one(f"#{side}"))


def columns(app: App) -> tuple[list, list]:
    """Each column's cells, row by row: character and colours (not the widgets' ids)."""
    update = app.screen._compositor.render_full_update()
    rows = [
        [(char, segment.style.clear_meta_and_links() if segment.style else None)
         for strip in chop for segment in strip for char in segment.text]
        for chop in update.strips
    ]
    return [row[:WIDTH] for row in rows], [row[WIDTH : 2 * WIDTH] for row in rows]


def lines(count: int) -> str:
    return "\n".join(f"line {index} of the answer" for index in range(count))


async def same_paint(app: App, pilot, what: str) -> None:
    await pilot.pause()
    growing, textual = columns(app)
    assert growing == textual, what


async def test_the_growing_views_paint_what_textuals_own_containers_paint() -> None:
    app = Side()
    async with app.run_test(size=(2 * WIDTH, 12)) as pilot:
        for count in (0, 1, 6, 20, 45):  # no scrollbar, then a thumb that shrinks as it grows
            app.show(lines(count))
            app.both(lambda view: view.scroll_end(animate=False, immediate=True))
            await same_paint(app, pilot, f"{count} lines, at the end")
        growing = app.query_one("#growing", GrowingScroll)
        assert growing.vertical_scrollbar.display and growing.max_scroll_y > 30
        for y in range(int(growing.max_scroll_y), -1, -1):  # the thumb at every position it takes
            app.both(lambda view: view.scroll_to(y=y, animate=False, immediate=True))
            await same_paint(app, pilot, f"scrolled to line {y}")
        await pilot.hover("#growing", offset=(WIDTH - 1, 3))
        await pilot.hover("#textual", offset=(WIDTH - 1, 3))  # one hovered at a time: compare each
        await pilot.pause()
        hovered_textual = columns(app)[1]
        await pilot.hover("#growing", offset=(WIDTH - 1, 3))
        await pilot.pause()
        assert columns(app)[0] == hovered_textual, "the scrollbar hovered"
        await pilot.hover("#growing", offset=(2, 3))
        app.both(lambda view: view.add_class("-red"))
        await same_paint(app, pilot, "the view's scrollbar colours changed")
        app.both(lambda view: view.remove_class("-red"))
        await same_paint(app, pilot, "the view's scrollbar colours changed back")
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await same_paint(app, pilot, "another theme")
        for body in app.query(".body"):
            body.add_class("-boxed")
        await same_paint(app, pilot, "a bordered body (painted by Textual, not as blank lines)")
        app.both(lambda view: view.scroll_end(animate=False, immediate=True))
        await same_paint(app, pilot, "a bordered body, scrolled to its end")


async def test_with_no_color_the_growing_views_are_as_grey_as_the_rest(monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")  # Textual's Monochrome line filter
    app = Side()
    async with app.run_test(size=(2 * WIDTH, 12)) as pilot:
        app.show(lines(30))
        await same_paint(app, pilot, "NO_COLOR")
        growing, _ = columns(app)
        backgrounds = {style.bgcolor.get_truecolor() for row in growing for _, style in row if style and style.bgcolor}
        assert backgrounds and all(red == green == blue for red, green, blue in backgrounds), backgrounds


class GrowingText(LaidOutOnce, Static):
    """The answer itself grows too (the pane's StreamingMarkdown is laid out once as well)."""


class Answer(App[None]):
    CSS = "GrowingBody { height: auto; }"

    def compose(self) -> ComposeResult:
        with GrowingScroll(), GrowingBody():
            yield GrowingText(id="answer")


async def test_an_answer_that_grows_is_laid_out_once_a_frame(monkeypatch) -> None:
    """Each flush grows the answer, its body and the view scrolling it; Textual asked for a
    second layout of the whole screen right after each one (the size set as a reactive):
    with Textual's VerticalScroll and Vertical, 2 layouts for each of these flushes."""
    app = Answer()
    async with app.run_test(size=(40, 10)) as pilot:
        answer = app.query_one("#answer", Static)
        answer.update(lines(12))  # longer than the view: its scrollbar is there
        await wait_until(pilot, lambda: app.query_one(GrowingScroll).max_scroll_y == 2)
        layouts = [0]
        reflow = Compositor.reflow

        def counted(self, parent, size):
            layouts[0] += 1
            return reflow(self, parent, size)

        monkeypatch.setattr(Compositor, "reflow", counted)
        for count in (13, 30, 31):
            before = layouts[0]
            answer.update(lines(count))
            await wait_until(pilot, lambda: app.query_one(GrowingBody).size.height == count)
            for _ in range(3):  # a second layout, if one was asked for, comes in the next frame
                await pilot.pause()
            assert layouts[0] - before == 1, f"{count} lines: {layouts[0] - before} layouts"


def test_only_borderless_untinted_opaque_unhatched_widgets_are_painted_as_blank_lines() -> None:
    assert paints_plainly(Widget())
    for style, value in (
        ("border", ("solid", "red")), ("border_left", ("heavy", "red")), ("outline", ("solid", "red")),
        ("outline_bottom", ("solid", "red")), ("tint", Color(255, 0, 0, 0.3)), ("opacity", 0.5),
        ("text_opacity", 0.5), ("hatch", ("cross", Color(255, 0, 0))),
    ):  # fmt: skip
        widget = Widget()
        setattr(widget.styles, style, value)
        assert not paints_plainly(widget), style
    padded = Widget()
    padded.styles.padding = (1, 2)
    padded.styles.background = "red"
    assert paints_plainly(padded)  # a background and padding are what the blank lines paint
    unhatched = Widget()
    unhatched.styles.hatch = "none"
    unhatched.styles.border = ("none", "red")
    assert paints_plainly(unhatched)


class Grown(LaidOutOnce, Widget):
    pass


def test_a_line_refreshed_is_painted_again_and_an_empty_cache_marks_nothing() -> None:
    """Textual repaints a line of a widget when it is marked dirty or not cached: a part of
    a drawn widget refreshed must be marked (or it keeps its old look), an emptied cache
    need not be."""
    cache = Grown()._styles_cache
    assert isinstance(cache, _GrowingStylesCache)
    cache.set_dirty(Region(0, 0, 10, 500))
    assert not cache._dirty_lines  # nothing cached: every line is rendered anyway
    cache._cache.update({y: object() for y in range(6)})  # six lines drawn
    cache.set_dirty(Region(0, 2, 10, 2))
    assert [y for y in range(6) if cache.is_dirty(y)] == [2, 3]
    cache.set_dirty()  # the whole widget: nothing kept
    assert not cache._cache and not cache._dirty_lines


class BarOfHeight(SteadyScrollBar):
    """The answer view's scrollbar, unmounted, as tall as a layout would make it."""

    def __init__(self, height: int) -> None:
        super().__init__(thickness=1)
        self.height = height

    @property
    def size(self) -> Size:
        return Size(1, self.height)


def drawn(bar: BarOfHeight) -> list[tuple[str, str]]:
    """The bar as Textual draws it in this state (ScrollBar._render_bar's arguments)."""
    window = bar.window_size if bar.window_size < bar.window_virtual_size else 0
    segments = ScrollBarRender.render_bar(
        size=bar.height, virtual_size=ceil(bar.window_virtual_size), window_size=ceil(window),
        position=bar.position, thickness=1, vertical=True,
    ).segments  # fmt: skip
    return [(segment.text, str(segment.style)) for segment in segments]


def test_the_scrollbar_is_painted_again_whenever_its_thumb_moves_by_an_eighth_of_a_cell() -> None:
    """SteadyScrollBar keeps its last paint while its thumb is where it was: every state in
    which Textual would draw the bar differently must be told apart, or the thumb is stale."""
    for height, virtual in ((5, 6), (10, 11), (10, 37), (12, 12), (17, 200), (12, 500.5), (3, 40)):
        bar = BarOfHeight(height)
        bar.window_virtual_size, bar.window_size = virtual, height
        last = None
        for step in range(int(max(virtual - height, 0) * 40) + 2):  # scrolled a 40th of a line at a time
            bar.position = step / 40
            now = (drawn(bar), bar._thumb())
            if last is not None and now[0] != last[0]:
                assert now[1] != last[1], f"{height} rows, {virtual} lines, at {bar.position}"
            last = now
    for following in (True, False):  # the answer grows, the view at its end, or read from its start
        bar = BarOfHeight(10)
        bar.window_size, last = 10, None
        for virtual in range(5, 400):
            bar.window_virtual_size, bar.position = virtual, max(virtual - 10, 0) if following else 0
            now = (drawn(bar), bar._thumb())
            if last is not None and now[0] != last[0]:
                assert now[1] != last[1], f"{virtual} lines, {'following' if following else 'at the start'}"
            last = now
