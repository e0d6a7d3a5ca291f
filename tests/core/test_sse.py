"""SSE framing over arbitrary TCP read boundaries."""

from __future__ import annotations

import pytest

from core.providers.sse import iter_sse, parse_frame


async def frames_of(*reads: bytes) -> list[tuple[str | None, str, str]]:
    async def chunks():
        for read in reads:
            yield read

    return [(f.event, f.data, f.raw) async for f in iter_sse(chunks())]


def split_every(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


BODY = 'data: {"a": "东京"}\n\nevent: ping\ndata: {}\n\n: keep-alive\n\ndata: [DONE]\n\n'.encode()
EXPECTED = [
    (None, '{"a": "东京"}', 'data: {"a": "东京"}'),
    ("ping", "{}", "event: ping\ndata: {}"),
    ("comment", "", ": keep-alive"),
    (None, "[DONE]", "data: [DONE]"),
]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64, 10_000])
async def test_frames_split_across_reads_at_any_byte(size):
    # size 1 and 2 cut the three-byte characters and the blank lines themselves
    assert await frames_of(*split_every(BODY, size)) == EXPECTED


@pytest.mark.parametrize("size", [1, 3, 10_000])
async def test_crlf_and_bare_cr_line_ends(size):
    crlf = BODY.replace(b"\n", b"\r\n")
    assert await frames_of(*split_every(crlf, size)) == EXPECTED
    assert await frames_of(*split_every(BODY.replace(b"\n", b"\r"), size)) == EXPECTED


async def test_a_cr_at_the_end_of_a_read_is_not_a_blank_line_yet():
    assert await frames_of(b"data: 1\r", b"\ndata: 2\r\n", b"\r\n") == [(None, "1\n2", "data: 1\ndata: 2")]


async def test_an_unterminated_last_frame_is_still_yielded():
    assert await frames_of(b'data: {"x": 1}\n\ndata: {"cut": tr') == [
        (None, '{"x": 1}', 'data: {"x": 1}'),
        (None, '{"cut": tr', 'data: {"cut": tr'),
    ]
    assert await frames_of(b"data: last\n") == [(None, "last", "data: last")]
    assert await frames_of(b"\n\n\n") == []


def test_field_parsing():
    assert parse_frame("data:no-space", 0.0).data == "no-space"
    assert parse_frame("data: a\ndata: b", 0.0).data == "a\nb"
    assert parse_frame("event: message_stop", 0.0).event == "message_stop"
    assert parse_frame("id: 7\nretry: 10", 0.0) is None
    assert parse_frame("id\nretry: 10\n: note", 0.0) is None  # an `id` field without a value carries nothing too


def test_a_block_with_no_field_is_kept_for_the_wire_view():
    bare_error = parse_frame('{"error": {"message": "quota"}}', 0.0)
    assert (bare_error.event, bare_error.data) == ("error", '{"error": {"message": "quota"}}')
    pretty = parse_frame('{\n  "error": "overloaded"\n}', 0.0)  # spread over lines, still one object
    assert (pretty.event, pretty.data) == ("error", '{\n  "error": "overloaded"\n}')
    for text in ('{"choices": []}', '{"error": null}', "{not json", "upstream: warming up", "<html>"):
        frame = parse_frame(text, 0.0)
        assert (frame.event, frame.data, frame.raw) == (None, "", text)  # shown, read by no decoder


async def test_each_frame_is_stamped_when_its_last_bytes_arrived():
    async def chunks():
        yield b"data: 1\n\ndata: "
        yield b"2\n\n"

    stamps = [f.at async for f in iter_sse(chunks())]
    assert stamps[0] < stamps[1]


async def test_invalid_utf8_becomes_a_replacement_character_not_a_crash():
    """A server that sends broken bytes still shows the frame (and where it broke)."""
    assert await frames_of(b"data: a\xffb\n\ndata: c\xfe") == [(None, "a\ufffdb", "data: a\ufffdb"), (None, "c\ufffd", "data: c\ufffd")]


def test_field_values_with_and_without_the_optional_space():
    assert parse_frame("event:error\ndata:{}", 0.0).event == "error"
    assert parse_frame("event:  ping  \ndata: {}", 0.0).event == "ping"
    assert parse_frame("data:", 0.0).data == ""
    assert parse_frame("data:  two spaces", 0.0).data == " two spaces"  # only one space is the separator
    only_event = parse_frame("event: message_stop", 0.0)
    assert (only_event.event, only_event.data) == ("message_stop", "")
    assert parse_frame("id: 1\ndata: x\nretry: 5", 0.0).data == "x"
    comment = parse_frame(": ping 2024", 0.0)
    assert (comment.event, comment.data, comment.raw) == ("comment", "", ": ping 2024")
    assert parse_frame("", 0.0) is None


async def test_a_cut_stream_ending_in_line_ends_yields_the_frame_once():
    assert await frames_of(b"data: 1\n\ndata: 2\r\n") == [(None, "1", "data: 1"), (None, "2", "data: 2")]
    assert await frames_of(b"data: 1\r") == [(None, "1", "data: 1")]
    assert await frames_of(b": bye") == [("comment", "", ": bye")]


async def test_a_bare_retry_or_id_line_is_no_frame_on_the_wire():
    # A field without a value (no colon) sets nothing; the wire view shows no empty frame for it.
    assert await frames_of(b"retry\n\n", b"id\n\ndata: a\n\n") == [(None, "a", "data: a")]


async def test_blocks_with_no_field_are_stamped_when_they_arrived_and_shown_as_sent():
    """A proxy's bare JSON error, or a stray notice, sits in the wire view at the time its
    bytes came, as they came: a frame with no stamp would have no place on the timeline."""
    stamps = iter([3.25, 7.5])

    async def chunks():
        yield b'{"error": {"message": "quota"}}\n\n'
        yield b"upstream: warming up\n\n"

    frames = [(f.at, f.raw, f.event) async for f in iter_sse(chunks(), arrived=lambda: next(stamps))]
    assert frames == [(3.25, '{"error": {"message": "quota"}}', "error"), (7.5, "upstream: warming up", None)]


@pytest.mark.parametrize("last", [b"data: cut after a space ", b"data: cut after MAX"])
async def test_a_cut_last_frame_keeps_its_last_character(last):
    # Only the line ends around an unterminated last frame are dropped, nothing it carried.
    assert await frames_of(b"data: 1\n\n" + last + b"\n") == [(None, "1", "data: 1"), (None, last[6:].decode(), last.decode())]
