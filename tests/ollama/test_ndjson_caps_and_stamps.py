"""Ollama's NDJSON body at the edges of its caps (a body, a line or a line count exactly at
the cap is read; one byte or one line more is `too_large`, after the lines before it), and
which read's arrival stamp each line carries."""

from __future__ import annotations

from typing import AsyncIterator

import pytest

from core.providers import base
from core.providers.base import Limits, ProviderError
from core.providers.ndjson import iter_ndjson


KEPT = "stopped reading; what arrived before is kept"


async def _reads(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def _collect(chunks: tuple[bytes, ...], limits: Limits | None = None) -> tuple[list[str], ProviderError | None]:
    got: list[str] = []
    try:
        async for frame in iter_ndjson(_reads(*chunks), limits):
            got.append(frame.data)
    except ProviderError as error:
        return got, error
    return got, None


async def test_a_body_exactly_at_the_cap_is_read_and_one_byte_more_is_too_large() -> None:
    body = b'{"a":1}\n{"b":2}\n'  # 16 bytes
    assert await _collect((body,), Limits(max_response_bytes=16)) == (['{"a":1}', '{"b":2}'], None)
    got, error = await _collect((b'{"a":1}\n', b'{"b":2}\n'), Limits(max_response_bytes=15))
    assert got == ['{"a":1}']
    assert error is not None and error.error_type == base.TOO_LARGE
    assert error.message == "the response passed 15 bytes (max_response_bytes): " + KEPT


async def test_a_line_exactly_at_the_frame_cap_is_read() -> None:
    line = b'{"k":"' + b"x" * 10 + b'"}'  # 18 bytes
    assert len(line) == 18
    assert await _collect((line + b"\n",), Limits(max_frame_bytes=18)) == ([line.decode()], None)
    # Joined from pieces, and still open at the end of a read, it is measured the same way.
    assert await _collect((line[:9], line[9:], b"\n"), Limits(max_frame_bytes=18)) == ([line.decode()], None)
    got, error = await _collect((b'{"a":1}\n' + line + b"x\n",), Limits(max_frame_bytes=18))
    assert got == ['{"a":1}'] and error is not None
    assert (error.error_type, error.message) == (base.TOO_LARGE, "one frame passed 18 bytes (max_frame_bytes): " + KEPT)


async def test_a_line_still_open_after_a_read_is_cut_at_the_cap_before_its_end_arrives() -> None:
    # The pieces so far already pass the cap: stop there, without waiting for the newline.
    got, error = await _collect((b'{"a":1}\n{"long":"', b"x" * 20), Limits(max_frame_bytes=18))
    assert got == ['{"a":1}'] and error is not None
    assert (error.error_type, error.message) == (base.TOO_LARGE, "one frame passed 18 bytes (max_frame_bytes): " + KEPT)
    # Pieces exactly at the cap wait for the newline.
    open_line = b'{"long":"' + b"x" * 7 + b'"}'  # 18 bytes
    assert await _collect((open_line[:5], open_line[5:], b"\n"), Limits(max_frame_bytes=18)) == ([open_line.decode()], None)
    # Also when a line joined from pieces ended earlier in the same read.
    assert await _collect((b'{"a":', b'1}\n' + open_line, b"\n"), Limits(max_frame_bytes=18)) == (
        ['{"a":1}', open_line.decode()], None,
    )  # fmt: skip


async def test_exactly_max_frames_lines_are_read_and_one_more_is_too_large() -> None:
    body = b'{"n":1}\n\n{"n":2}\n{"n":3}\n'  # a blank line is not a frame
    assert await _collect((body,), Limits(max_frames=3)) == (['{"n":1}', '{"n":2}', '{"n":3}'], None)
    got, error = await _collect((body,), Limits(max_frames=2))
    assert got == ['{"n":1}', '{"n":2}']
    assert error is not None and error.error_type == base.TOO_LARGE
    assert error.message == "the number of frames passed 2 (max_frames): " + KEPT


async def test_bytes_that_are_not_utf8_become_replacement_characters_not_an_error() -> None:
    got, error = await _collect((b'{"a":"\xff\xfe"}\n', b'{"b":"\xc3"}',))
    assert error is None
    assert got == ['{"a":"\ufffd\ufffd"}', '{"b":"\ufffd"}']


async def test_spaces_around_a_line_are_not_part_of_its_frame() -> None:
    assert await _collect((b'  {"a":1} \t\n   \n {"b":2}  ',)) == (['{"a":1}', '{"b":2}'], None)


async def test_each_line_carries_the_stamp_of_the_read_that_completed_it() -> None:
    stamps = iter(range(100, 200))
    frames = [
        (frame.raw, frame.at)
        async for frame in iter_ndjson(
            _reads(b'{"a":', b'1}\n{"b":2}\n{"c"', b":3}\n{\"d\":4}"), arrived=lambda: float(next(stamps))
        )
    ]
    # Reads are stamped 100, 101, 102; the unterminated last line when the body ends (103).
    assert frames == [('{"a":1}', 101.0), ('{"b":2}', 101.0), ('{"c":3}', 102.0), ('{"d":4}', 103.0)]


async def test_a_frame_is_the_line_as_the_wire_view_shows_it_and_as_the_decoder_reads_it() -> None:
    (frame,) = [frame async for frame in iter_ndjson(_reads(b' {"a": 1}\r\n'))]
    assert (frame.raw, frame.event, frame.data) == ('{"a": 1}', None, '{"a": 1}')


@pytest.mark.parametrize("tail", [b"", b"   ", b"\r"])
async def test_nothing_but_blanks_after_the_last_newline_is_no_frame(tail: bytes) -> None:
    assert await _collect((b'{"a":1}\n' + tail,)) == (['{"a":1}'], None)


async def test_a_cut_last_line_in_many_reads_is_held_to_the_frame_cap() -> None:
    # No newline ever comes: the pieces together pass the cap, so it is not handed over whole.
    got, error = await _collect((b'{"a":1}\n', b"x" * 10, b"x" * 10), Limits(max_frame_bytes=15))
    assert got == ['{"a":1}'] and error is not None
    assert error.message == "one frame passed 15 bytes (max_frame_bytes): " + KEPT


async def test_only_the_bytes_after_the_last_newline_count_toward_an_open_line() -> None:
    assert await _collect((b'{"a":1}\n' + b"y" * 10, b"\n"), Limits(max_frame_bytes=12)) == (['{"a":1}', "y" * 10], None)
