"""An SDK's raw response read as frames (core.providers.http.SdkExchange), the cases the
body tests leave out: every frame carries the connection's arrival stamp (never one
before the headers'), also on a mislabelled stream and a whole JSON body; a body
labelled JSON is handed on as JSON whatever it holds; a mislabelled body is told apart
by its first byte after any whitespace; bytes that are no UTF-8 do not end the run; a
mislabelled stream keeps the run's caps; an empty mislabelled stream is no error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest

from core.providers import base
from core.providers.base import Frame, Limits, ProviderError, SendLog
from core.providers.http import SdkExchange


class SdkRaw:
    def __init__(self, http_response: httpx2.Response) -> None:
        self.http_response = http_response


class StampedStream:
    """Stands for the kernel-stamped connection (core.providers.netstamp): `arrived_at`
    is the arrival of the bytes its last read returned, here scripted per read."""

    def __init__(self) -> None:
        self.last: float | None = None

    def arrived_at(self) -> float | None:
        return self.last


def response(content_type: str | None, *reads: bytes, stamps: list[float] | None = None) -> httpx2.Response:
    """A response whose body comes in `reads`; with `stamps`, read i arrived at stamps[i]."""
    stream = StampedStream() if stamps is not None else None

    async def body() -> AsyncIterator[bytes]:
        for index, read in enumerate(reads):
            if stream is not None and stamps is not None:
                stream.last = stamps[index]
            yield read

    headers = {"content-type": content_type} if content_type is not None else {}
    extensions: dict[str, Any] = {"network_stream": stream} if stream is not None else {}
    request = httpx2.Request("POST", "https://api.example.test/v1/chat/completions")
    return httpx2.Response(200, headers=headers, content=body(), request=request, extensions=extensions)


async def frames_of(http: httpx2.Response, *, stream: bool = True, send_log: SendLog | None = None,
                    ) -> tuple[list[Frame], ProviderError | None]:  # fmt: skip
    got: list[Frame] = []
    try:
        async for frame in SdkExchange(SdkRaw(http), stream=stream, send_log=send_log).frames():
            got.append(frame)
    except ProviderError as error:
        return got, error
    return got, None


async def test_each_frame_carries_the_arrival_stamp_of_the_read_that_ended_it() -> None:
    http = response("text/event-stream", b"data: 1\n\n", b"data: 2\n\ndata: 3\n\n", stamps=[5.0, 6.5])
    got, error = await frames_of(http)
    assert error is None and [(f.data, f.at) for f in got] == [("1", 5.0), ("2", 6.5), ("3", 6.5)]


async def test_no_frame_is_stamped_before_the_headers_arrived() -> None:
    # Two kernel stamps converted to the core's clock one by one: a frame in the headers'
    # packet could come out a few µs before them, and a TTFT below the headers' time.
    log = SendLog(headers_at=7.0)
    http = response("text/event-stream", b"data: 1\n\n", b"data: 2\n\n", stamps=[6.99, 8.0])
    got, error = await frames_of(http, send_log=log)
    assert error is None and [f.at for f in got] == [7.0, 8.0]


@pytest.mark.parametrize("content_type", ["text/plain", None])
async def test_a_mislabelled_stream_is_stamped_by_the_connection_too(content_type: str | None) -> None:
    http = response(content_type, b"data: 1\n\n", b"data: 2\n\n", stamps=[3.0, 4.0])
    got, error = await frames_of(http)
    assert error is None and [(f.data, f.at) for f in got] == [("1", 3.0), ("2", 4.0)]


async def test_a_whole_json_body_is_stamped_when_its_last_bytes_arrived() -> None:
    http = response("application/json", b'{"id": ', b'"c1"}', stamps=[3.0, 4.0])
    got, error = await frames_of(http, stream=False)
    assert error is None and [(f.data, f.at) for f in got] == [('{"id": "c1"}', 4.0)]


@pytest.mark.parametrize("stream", [True, False])
@pytest.mark.parametrize("content_type", ["application/json", "Application/JSON; charset=utf-8"])
@pytest.mark.parametrize("body", [b'"quota exceeded"', b"null", b"  42\n"])
async def test_a_body_labelled_json_is_handed_on_as_json_whatever_it_holds(content_type: str, body: bytes, stream: bool) -> None:
    got, error = await frames_of(response(content_type, body), stream=stream)
    assert error is None and [(f.raw, f.data, f.event) for f in got] == [(body.decode(), body.decode(), None)]


@pytest.mark.parametrize("stream", [True, False])
@pytest.mark.parametrize("body", [b'\n  {"id": "c1", "choices": []}', b'[{"error": {"message": "no"}}]', b' \t[1]'])
async def test_an_unlabelled_json_body_is_found_after_leading_whitespace_and_as_an_array(body: bytes, stream: bool) -> None:
    got, error = await frames_of(response("text/plain", body), stream=stream)
    assert error is None and [(f.raw, f.data) for f in got] == [(body.decode(),) * 2]


async def test_bytes_that_are_no_utf8_are_kept_replaced_and_do_not_end_the_run() -> None:
    body = b'{"content": "caf\xe9 \xff"}'
    for content_type, stream in (("application/json", False), ("application/json", True), ("text/plain", False)):
        got, error = await frames_of(response(content_type, body), stream=stream)
        assert error is None and [f.data for f in got] == ['{"content": "caf\ufffd \ufffd"}']


async def test_a_mislabelled_stream_keeps_the_runs_caps() -> None:
    body = b"data: 1\n\ndata: 2\n\ndata: 3\n\n"
    got, error = await frames_of(response("text/plain", body), send_log=SendLog(limits=Limits(max_frames=2)))
    assert [f.data for f in got] == ["1", "2"]
    assert error is not None and error.error_type == base.TOO_LARGE and "max_frames" in error.message


async def test_an_empty_mislabelled_stream_is_no_frame_and_no_error() -> None:
    # The decoder then says the stream ended without an answer; the body is not blamed.
    for reads in ((), (b"",)):
        got, error = await frames_of(response("text/plain", *reads))
        assert (got, error) == ([], None)
    # Only whitespace: kept for the wire view as it came, with nothing to decode.
    got, error = await frames_of(response("text/plain", b"\n", b"  "))
    assert error is None and [(f.raw, f.data) for f in got] == [("  ", "")]
