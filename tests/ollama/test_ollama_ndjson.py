"""NDJSON line splitting: lines cut anywhere across reads arrive whole, stamped when
their last bytes came in; a cut last line is still handed over."""

from __future__ import annotations

from typing import AsyncIterator

from core.providers.ndjson import iter_ndjson


async def _reads(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def lines_of(*chunks: bytes) -> list[str]:
    return [frame.data async for frame in iter_ndjson(_reads(*chunks))]


async def test_lines_split_across_reads_arrive_whole() -> None:
    assert await lines_of(b'{"a":', b'1}\n{"b":2}\n{"c"', b":3}\n") == ['{"a":1}', '{"b":2}', '{"c":3}']


async def test_multibyte_character_split_between_reads_is_intact() -> None:
    encoded = '{"content":"東京 ☕"}\n'.encode()
    cut = encoded.index("京".encode()) + 1  # inside the three bytes of 京
    assert await lines_of(encoded[:cut], encoded[cut:]) == ['{"content":"東京 ☕"}']


async def test_blank_lines_and_crlf_are_not_frames() -> None:
    assert await lines_of(b'{"a":1}\r\n\r\n\n{"b":2}\r\n') == ['{"a":1}', '{"b":2}']


async def test_a_last_line_without_its_newline_is_still_yielded() -> None:
    assert await lines_of(b'{"a":1}\n{"cut":"hal', b'f"') == ['{"a":1}', '{"cut":"half"']


async def test_a_long_line_in_many_small_reads_is_joined_once() -> None:
    text = "x" * 200_000
    line = ('{"content":"' + text + '"}\n').encode()
    pieces = [line[i : i + 7] for i in range(0, len(line), 7)]
    (only,) = await lines_of(*pieces)
    assert only == '{"content":"' + text + '"}'


async def test_each_line_is_stamped_when_its_last_bytes_arrived() -> None:
    stamps = [frame.at async for frame in iter_ndjson(_reads(b'{"a":', b"1}\n", b'{"b":2}\n'))]
    assert len(stamps) == 2 and stamps[0] <= stamps[1]


async def test_a_line_past_the_cap_is_too_large_after_the_lines_before_it() -> None:
    from core.providers import base
    from core.providers.base import Limits, ProviderError

    got: list[str] = []
    try:
        async for frame in iter_ndjson(_reads(b'{"a":1}\n', b'{"long":"' + b"x" * 100), Limits(max_frame_bytes=64)):
            got.append(frame.data)
    except ProviderError as error:
        assert error.error_type == base.TOO_LARGE and "max_frame_bytes" in error.message
    else:
        raise AssertionError("no too_large error")
    assert got == ['{"a":1}']
