"""The summary's sort: readable names in the toast, and the arrow pointing the way it sorts."""

from __future__ import annotations


def test_sort_toasts_name_the_column_as_shown_and_its_direction() -> None:
    # Imported here, not at collection: the compare widgets load Textual's screens and
    # markdown (~0.25 s of CPU), which every fast-lane xdist worker paid before its first test.
    from tui.widgets.compare.summary import sort_arrow, sort_description

    assert sort_description("ttft_ms") == "Sorted by TTFT ▲ (lowest first)"
    assert sort_description("decode_tps") == "Sorted by speed ▼ (highest first)"
    assert sort_description("label") == "Sorted by model ▲ (A to Z)"
    assert sort_description(None) == "Sorted in column order"
    assert sort_arrow("cost_usd") == "▲" and sort_arrow("decode_tps") == "▼"
