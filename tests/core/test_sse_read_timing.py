"""A frame is handed on with the read that completes it, never a read later.

Timing is the product's promise: a frame is stamped when its last bytes arrive, so it
must leave the splitter with that read. Counting the reads pulled when each frame comes
out checks this without a clock."""

from __future__ import annotations

import pytest

from core.providers.sse import iter_sse


async def frames_with_reads_pulled(reads: list[bytes]) -> list[tuple[str, int]]:
    pulled = 0

    async def chunks():
        nonlocal pulled
        for read in reads:
            pulled += 1
            yield read

    return [(frame.data, pulled) async for frame in iter_sse(chunks())]


@pytest.mark.parametrize(
    ("reads", "first_ends_at"),
    [
        ([b"data: 1\n", b"\n", b"data: 2\n\n"], 2),  # the blank line's second LF comes alone
        ([b"data: 1\n", b"\ndata: 2\n", b"\n"], 2),  # ... or starts the next read
        ([b"data: 1\r", b"\n", b"\r\n", b"data: 2\r\n\r\n"], 3),  # CRLF split after its CR
        ([b"data: 1\r\n", b"\r\ndata: 2\r\n\r\n"], 2),
    ],
)
async def test_a_frame_leaves_with_the_read_that_ends_it(reads, first_ends_at):
    assert await frames_with_reads_pulled(reads) == [("1", first_ends_at), ("2", len(reads))]


async def test_an_lf_after_a_split_crlf_is_dropped_once_only():
    # The CR ended read 1; read 2's LF is its other half. Read 3's LF is a blank line.
    out = await frames_with_reads_pulled([b"data: 1\r", b"\n", b"\ndata: 2\n\n"])
    assert out == [("1", 3), ("2", 3)]


async def test_a_cut_streams_last_frame_is_stamped_after_the_frames_before_it():
    async def chunks():
        yield b"data: 1\n\n"
        yield b"data: cut"

    stamps = [frame.at async for frame in iter_sse(chunks())]
    assert len(stamps) == 2 and isinstance(stamps[1], float) and stamps[1] >= stamps[0]


async def test_every_kind_of_frame_carries_its_reads_stamp():
    # Anthropic's frames have an `event:` line, keep-alives are comments: the wire view's
    # timeline needs each one's arrival time, not only the plain `data:` frames'.
    async def chunks():
        yield b"data: 1\n\n"
        yield b"event: ping\ndata: {}\n\n: keep-alive\n\ndata: a\ndata: b\n\n"
        yield b"data: 2\n\n"

    frames = [frame async for frame in iter_sse(chunks())]
    assert [f.event for f in frames] == [None, "ping", "comment", None, None]
    first, *middle, last = (f.at for f in frames)
    assert all(isinstance(at, float) and first <= at <= last for at in middle)
    assert len(set(middle)) == 1  # one read, one stamp
