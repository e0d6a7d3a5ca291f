"""What a user reads when a stream passes one of its caps, and the frames they keep.

The error line names the cap in the unit it was set in (bytes, MB or a count) and the
param that sets it, so the user knows which knob to turn; the kind is `too_large`."""

from __future__ import annotations

import itertools

import pytest

from core.providers.base import Limits, ProviderError
from core.providers.sse import SseSplitter, iter_sse

MB = 1024 * 1024


async def read_all(reads: list[bytes], limits: Limits) -> tuple[list[str], ProviderError | None]:
    async def chunks():
        for read in reads:
            yield read

    seen: list[str] = []
    try:
        async for frame in iter_sse(chunks(), limits):
            seen.append(frame.data)
    except ProviderError as error:
        return seen, error
    return seen, None


@pytest.mark.parametrize(
    ("cap", "said"),
    [(1000, "1000 bytes"), (MB - 1, "1048575 bytes"), (MB, "1 MB"), (3 * MB // 2, "1.5 MB"), (8 * MB, "8 MB")],
)
async def test_a_frame_over_the_cap_names_the_cap_in_bytes_or_mb(cap, said):
    seen, error = await read_all([b"data: first\n\n", b"data: " + b"x" * cap + b"\n\n"], Limits(max_frame_bytes=cap))
    assert seen == ["first"]
    assert error is not None and error.error_type == "too_large"
    assert error.message == f"one frame passed {said} (max_frame_bytes): stopped reading; what arrived before is kept"


async def test_the_frame_count_cap_is_said_as_a_count_not_a_size():
    body = b"".join(b"data: %d\n\n" % i for i in range(5))
    seen, error = await read_all([body], Limits(max_frames=3))
    assert seen == ["0", "1", "2"]
    assert error is not None and error.error_type == "too_large"
    assert error.message == "the number of frames passed 3 (max_frames): stopped reading; what arrived before is kept"


async def test_a_response_over_its_byte_cap_keeps_the_frames_inside_it():
    seen, error = await read_all([b"data: a\n\ndata: b\n\n", b"data: c\n\n"], Limits(max_response_bytes=2 * MB))
    assert (seen, error) == (["a", "b", "c"], None)
    seen, error = await read_all([b"data: a\n\ndata: b\n\n", b"data: " + b"c" * 100 + b"\n\n"], Limits(max_response_bytes=30))
    assert seen == ["a", "b"]
    assert error is not None and error.message == (
        "the response passed 30 bytes (max_response_bytes): stopped reading; what arrived before is kept"
    )


async def test_blank_lines_before_the_first_frame_are_not_part_of_it():
    # Some servers open the body with a blank line; the wire view shows the frame as sent.
    async def chunks():
        yield b"\n\ndata: a\n\n"

    frames = [(f.raw, f.data) async for f in iter_sse(chunks())]
    assert frames == [("data: a", "a")]


@pytest.mark.parametrize(
    "reads",
    [
        [b"data: 1234\n\n"],  # the frame and its blank line in one read
        [b"data: 1234", b"\n\n"],  # the frame waits for its blank line at exactly the cap
        [b"data: 0\n\ndata: 1234", b"\n\n"],  # the rest of a read is exactly the cap
        # a read ending between the two LFs of the blank line (or CR and CRLF): the first
        # LF ends the frame's line, it is not one byte of the frame past the cap
        [b"data: 1234\n", b"\n"],
        [b"data: 0\n\ndata: 1234\n", b"\n"],
        [b"data: 1234\r", b"\n\r\n"],
    ],
)
async def test_a_frame_of_exactly_the_cap_is_not_over_it(reads):
    seen, error = await read_all(reads, Limits(max_frame_bytes=len(b"data: 1234")))
    assert error is None
    assert seen[-1] == "1234"


@pytest.mark.parametrize("cap", [1000, 2 * MB])
async def test_a_frame_still_growing_past_the_cap_stops_the_read(cap):
    # No blank line ever comes: the frame must not be read (nor kept) without end.
    reads = [b"data: before\n\n", b"data: " + b"x" * cap, b"y" * 10, b"z" * 10]
    pulled = 0

    async def chunks():
        nonlocal pulled
        for read in reads:
            pulled += 1
            yield read

    seen: list[str] = []
    with pytest.raises(ProviderError) as caught:
        async for frame in iter_sse(chunks(), Limits(max_frame_bytes=cap)):
            seen.append(frame.data)
    assert seen == ["before"]
    assert pulled == 2
    said = "1000 bytes" if cap == 1000 else "2 MB"
    assert caught.value.error_type == "too_large"
    assert caught.value.message == f"one frame passed {said} (max_frame_bytes): stopped reading; what arrived before is kept"


async def test_a_cut_last_frame_past_the_frame_count_is_refused_too():
    # The stream was cut after frame 3's bytes (no blank line): it still counts.
    seen, error = await read_all([b"data: 1\n\ndata: 2\n\ndata: 3"], Limits(max_frames=2))
    assert seen == ["1", "2"]
    assert error is not None and error.message == (
        "the number of frames passed 2 (max_frames): stopped reading; what arrived before is kept"
    )
    seen, error = await read_all([b"data: 1\n\ndata: 2"], Limits(max_frames=2))
    assert (seen, error) == (["1", "2"], None)


async def test_the_response_cap_counts_every_read_and_a_body_of_exactly_the_cap_is_whole():
    exact = [b"data: a\n\n", b"data: b\n\n"]  # 18 bytes in two reads
    assert await read_all(exact, Limits(max_response_bytes=18)) == (["a", "b"], None)
    # Each read is under the cap, together they pass it: the frame the cap still holds is kept.
    seen, error = await read_all([b"data: a\n\n", b"data: b\n\ndata: c\n\n"], Limits(max_response_bytes=21))
    assert seen == ["a", "b"]
    assert error is not None and error.message == (
        "the response passed 21 bytes (max_response_bytes): stopped reading; what arrived before is kept"
    )


def _split_at_the_cap(reads: list[bytes], max_frame: int) -> tuple[list[bytes], bool]:
    """The frame blocks the splitter hands out for these reads, up to and with whether the
    frame cap stopped them (as iter_sse stops reading there), the unfinished tail last."""
    splitter = SseSplitter(max_frame)
    blocks: list[bytes] = []
    for read in reads:
        blocks += splitter.feed(read)
        if splitter.overflow is not None:
            return blocks, True
    return [*blocks, splitter.tail()], False


def test_every_short_stream_splits_the_same_wherever_a_read_ends():
    # Every stream of up to five of LF, CR and a byte of text, cut in two at each place,
    # against caps of one to three bytes: where a read ends never changes the frames or
    # whether the cap stopped them. (A read ending between the two LFs of a blank line
    # once counted the first LF as a byte of the frame: 130 of these cases failed.)
    for length in range(1, 6):
        for symbols in itertools.product((b"\n", b"\r", b"x"), repeat=length):
            body = b"".join(symbols)
            for max_frame in (1, 2, 3):
                whole = _split_at_the_cap([body], max_frame)
                for cut in range(1, length):
                    assert _split_at_the_cap([body[:cut], body[cut:]], max_frame) == whole, (body, cut, max_frame)
