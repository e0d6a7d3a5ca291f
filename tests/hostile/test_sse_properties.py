"""Property-based tests of the SSE parser: whatever the TCP reads look like, the
same frames come out; whatever the bytes are, the only failure is the documented
one (`too_large`, past a cap)."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from core.providers.base import Limits, ProviderError
from core.providers.sse import iter_sse

# A field value: any text without line ends (those end the line in every SSE dialect).
VALUE = st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=40)
EVENT = st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)
LINE = st.one_of(
    st.tuples(st.just("data"), VALUE),
    st.tuples(st.just("event"), EVENT),
    st.tuples(st.just("comment"), VALUE),
    st.tuples(st.just("id"), st.text("0123456789", max_size=5)),
)
BLOCK = st.lists(LINE, min_size=1, max_size=5)
NEWLINE = st.sampled_from(["\n", "\r\n", "\r"])


def render(blocks: list[list[tuple[str, str]]], newline: str, *, terminated: bool) -> bytes:
    out = []
    for block in blocks:
        for field, value in block:
            out.append((f": {value}" if field == "comment" else f"{field}: {value}") + newline)
        out.append(newline)
    text = "".join(out)
    if not terminated and text:
        text = text[: -len(newline)]  # the last blank line lost: a cut stream
    return text.encode()


def expected(blocks: list[list[tuple[str, str]]]) -> list[tuple[str | None, str]]:
    """What the SSE spec says each block carries (event, data), or nothing."""
    frames = []
    for block in blocks:
        data = [value for field, value in block if field == "data"]
        events = [value for field, value in block if field == "event"]
        if data or events:
            frames.append((events[-1] if events else None, "\n".join(data)))
        elif block[0][0] == "comment":
            frames.append(("comment", ""))
    return frames


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(data)) for c in cuts})
    pieces, start = [], 0
    for point in points:
        pieces.append(data[start:point])
        start = point
    pieces.append(data[start:])
    return pieces


def parse(pieces: list[bytes], limits: Limits | None = None) -> tuple[list[tuple[str | None, str, str]], str | None]:
    """The frames iter_sse yields for these reads, and the error_type it ended with (if any)."""

    async def go() -> tuple[list[tuple[str | None, str, str]], str | None]:
        async def reads():
            for piece in pieces:
                yield piece

        frames = []
        try:
            async for frame in iter_sse(reads(), limits):
                frames.append((frame.event, frame.data, frame.raw))
        except ProviderError as error:
            return frames, error.error_type
        return frames, None

    return asyncio.run(go())


CUTS = st.lists(st.integers(min_value=0, max_value=2000), max_size=30)


@settings(max_examples=150, deadline=None)
@given(blocks=st.lists(BLOCK, max_size=8), newline=NEWLINE, terminated=st.booleans(), cuts=CUTS)
def test_the_same_frames_whatever_the_reads_and_line_ends(blocks, newline, terminated, cuts):
    body = render(blocks, newline, terminated=terminated)
    whole_frames, error = parse([body])
    assert error is None
    assert [(event, data) for event, data, _raw in whole_frames] == expected(blocks)
    assert parse(split(body, cuts)) == (whole_frames, None)
    # the same stream with LF line ends reads the same
    assert parse([render(blocks, "\n", terminated=terminated)]) == (whole_frames, None)


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=600), cuts=CUTS)
def test_any_bytes_parse_the_same_whatever_the_reads(body, cuts):
    whole_frames, error = parse([body])
    assert error is None
    assert parse(split(body, cuts)) == (whole_frames, None)


@settings(max_examples=200, deadline=None)
@given(
    body=st.binary(max_size=600) | st.lists(BLOCK, max_size=8).map(lambda b: render(b, "\n", terminated=True)),
    cuts=CUTS,
    max_frame=st.integers(1, 80),
    max_bytes=st.integers(1, 700),
    max_frames=st.integers(1, 6),
)
def test_past_a_cap_only_too_large_and_the_frames_before_it(body, cuts, max_frame, max_bytes, max_frames):
    limits = Limits(max_response_bytes=max_bytes, max_frame_bytes=max_frame, max_frames=max_frames)
    whole_frames, error = parse([body], limits)
    assert error in (None, "too_large")
    assert len(whole_frames) <= max_frames
    # raw is the frame's bytes decoded with replacement: an invalid byte came in as one
    # byte and reads as U+FFFD, three bytes when encoded again
    assert all(len(raw.encode()) - 2 * raw.count("\ufffd") <= max_frame for _event, _data, raw in whole_frames)
    assert parse(split(body, cuts), limits) == (whole_frames, error)
