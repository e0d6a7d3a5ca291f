"""A reopened run's sparkline comes from its saved frames' arrival times."""

from __future__ import annotations

from core.store.models import RunFrame
from tui.widgets.metrics.spark import frame_text_chars, ticks_from_frames


def frame(offset_ms: float, data: str) -> RunFrame:
    return RunFrame(run_id="r", seq=0, offset_ms=offset_ms, data=data)


def test_text_is_counted_whichever_protocol_carried_it() -> None:
    openai = 'data: {"choices":[{"delta":{"content":"abcd"}}]}'
    anthropic = 'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"type":"thinking_delta","thinking":"12345678"}}'
    ollama = '{"message":{"role":"assistant","content":"hello"},"done":false}'
    assert [frame_text_chars(d) for d in (openai, anthropic, ollama)] == [4, 8, 5]
    assert frame_text_chars("data: [DONE]") == frame_text_chars('event: ping\ndata: {"type": "ping"}') == 0


def test_a_stall_shows_as_zeros_between_bursts() -> None:
    frames = [frame(100, 'data: {"choices":[{"delta":{"content":"abcdefgh"}}]}'),
              frame(1100, 'data: {"choices":[{"delta":{"content":"abcd"}}]}')]  # fmt: skip
    ticks = ticks_from_frames(frames, 250)
    assert ticks == [0.0, 2.0, 0.0, 0.0, 0.0, 1.0]
    assert ticks_from_frames([], 250) == []


def test_text_is_counted_with_or_without_the_space_after_data_and_over_several_data_lines() -> None:
    """SSE allows `data:{...}`, and one JSON object spread over several `data:` lines (the
    decoders join them and show the text live): a reopened run counts that text too."""
    assert frame_text_chars('data:{"choices":[{"delta":{"content":"abcd"}}]}') == 4
    spread = 'event: message\ndata: {"choices": [{"delta":\ndata: {"content": "abcdef"}}]}'
    assert frame_text_chars(spread) == 6
    assert frame_text_chars('data: {"choices": [\ndata: {"delta": {"content": "cut"') == 0  # not JSON: nothing


def test_frames_in_the_same_tick_add_up() -> None:
    frames = [frame(10, 'data: {"choices":[{"delta":{"content":"abcd"}}]}'),
              frame(120, 'data: {"choices":[{"delta":{"content":"abcdefgh"}}]}'),
              frame(260, 'data: {"choices":[{"delta":{"content":"abcd"}}]}')]  # fmt: skip
    assert ticks_from_frames(frames, 250) == [0.0, 3.0, 1.0]


def test_an_answer_that_came_within_the_first_tick_still_draws() -> None:
    """As live (the sidebar's zero baseline and one bucket): a quick answer is not a flat line."""
    frames = [frame(40, '{"message":{"role":"assistant","content":"hello there"},"done":false}'),
              frame(90, '{"message":{"role":"assistant","content":""},"done":true}')]  # fmt: skip
    assert ticks_from_frames(frames, 250) == [0.0, 2.75]
