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
