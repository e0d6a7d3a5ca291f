"""An SDK's raw response read as frames (core.providers.http.SdkExchange): event streams
whatever the label's case, mislabelled streams, whole JSON bodies and pages, keys
scrubbed out of every frame, the run's caps and deadline, the request id and retries the
metrics show, and the words for a body cut or stalled half-way."""

from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator

import httpx2
import pytest

from core.metrics import clock
from core.providers import base
from core.providers.base import Frame, Limits, ProviderError, SendLog
from core.providers.http import SdkExchange

KEY = "sk-exchange-test-key-0123456789abcdef"


class SdkRaw:
    """What `with_streaming_response` hands over: the httpx2 response, and (some SDK
    versions) how often it retried."""

    def __init__(self, http_response: httpx2.Response, **extra: Any) -> None:
        self.http_response = http_response
        self.__dict__.update(extra)


def response(content_type: str | None, *reads: bytes | BaseException, headers: dict[str, str] | None = None,
             read_timeout: float | None = None) -> httpx2.Response:  # fmt: skip
    async def body() -> AsyncIterator[bytes]:
        for read in reads:
            if isinstance(read, BaseException):
                raise read
            yield read

    all_headers = dict(headers or {})
    if content_type is not None:
        all_headers["content-type"] = content_type
    extensions = {"timeout": {"connect": 5.0, "read": read_timeout}} if read_timeout else {}
    request = httpx2.Request("POST", "https://api.example.test/v1/chat/completions", extensions=extensions)
    return httpx2.Response(200, headers=all_headers, content=body(), request=request)


async def frames_of(exchange: SdkExchange) -> tuple[list[Frame], ProviderError | None]:
    got: list[Frame] = []
    try:
        async for frame in exchange.frames():
            got.append(frame)
    except ProviderError as error:
        return got, error
    return got, None


def exchange(http: httpx2.Response, *, stream: bool = True, send_log: SendLog | None = None, **extra: Any) -> SdkExchange:
    return SdkExchange(SdkRaw(http, **extra), stream=stream, send_log=send_log)


@pytest.mark.parametrize("content_type", ["text/event-stream", "Text/Event-Stream; charset=utf-8"])
async def test_an_event_stream_is_read_as_sse_frames_whatever_the_labels_case(content_type: str) -> None:
    http = response(content_type, b"event: delta\ndata: {\"a\":", b"1}\n\ndata: [DONE]\n\n")
    got, error = await frames_of(exchange(http))
    assert error is None
    assert [(f.event, f.data) for f in got] == [("delta", '{"a":1}'), (None, "[DONE]")]
    assert all(type(f.at) is float for f in got)


async def test_a_stream_labelled_as_plain_text_is_still_read_as_sse_after_blank_reads() -> None:
    http = response("text/plain", b"\n", b"  ", b'data: {"x": 1}\n\n', b"data: [DONE]\n\n")
    got, error = await frames_of(exchange(http))
    assert error is None and [f.data for f in got] == ['{"x": 1}', "[DONE]"]


async def test_a_streamed_request_answered_with_one_json_body_is_one_frame() -> None:
    body = b'{"id": "c1", "choices": []}'
    for content_type in ("application/json", "text/plain", None):
        got, error = await frames_of(exchange(response(content_type, body[:9], body[9:])))
        assert error is None and [(f.raw, f.data, f.event) for f in got] == [(body.decode(),) * 2 + (None,)]


async def test_a_page_instead_of_a_stream_is_kept_as_a_frame_and_named() -> None:
    page = b"<!doctype html>\n<title>Proxy login</title>\n"
    got, error = await frames_of(exchange(response("text/html; charset=utf-8", page)))
    assert [(f.raw, f.data) for f in got] == [(page.decode(), "")]
    assert error is not None and error.error_type == base.MALFORMED
    assert error.message == "the server answered with text/html; charset=utf-8, not an event stream: <!doctype html>"


async def test_a_whole_request_answered_with_an_event_stream_is_named_as_not_json() -> None:
    got, error = await frames_of(exchange(response("text/event-stream", b"data: {}\n\n"), stream=False))
    assert [f.data for f in got] == [""]
    assert error is not None and error.message == "the server answered with text/event-stream, not JSON: data: {}"


async def test_keys_are_scrubbed_from_every_frame_keeping_its_event_and_stamp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXCHANGE_TEST_API_KEY", KEY)
    http = response("text/event-stream", f"event: echo\ndata: your key {KEY}\n\ndata: clean\n\n".encode())
    got, error = await frames_of(exchange(http))
    assert error is None
    assert [(f.raw, f.event, f.data) for f in got] == [
        ("event: echo\ndata: your key [REDACTED]", "echo", "your key [REDACTED]"),
        ("data: clean", None, "clean"),
    ]
    assert all(type(f.at) is float for f in got)


async def test_the_runs_caps_come_from_its_send_log() -> None:
    body = b"data: 1\n\ndata: 2\n\ndata: 3\n\n"
    got, error = await frames_of(exchange(response("text/event-stream", body), send_log=SendLog(limits=Limits(max_frames=2))))
    assert [f.data for f in got] == ["1", "2"]
    assert error is not None and error.error_type == base.TOO_LARGE and "max_frames" in error.message
    got, error = await frames_of(exchange(response("text/event-stream", body)))  # no send log: the defaults
    assert error is None and len(got) == 3


async def test_a_body_that_stalls_past_the_runs_deadline_is_stopped() -> None:
    async def stalled() -> AsyncIterator[bytes]:
        yield b"data: 1\n\n"
        await asyncio.Event().wait()  # never set: only the deadline ends this read
        yield b""

    http = httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=stalled(),
                           request=httpx2.Request("POST", "https://api.example.test/v1/x"))  # fmt: skip
    log = SendLog(deadline_at=clock() - 1.0)
    got, error = await asyncio.wait_for(frames_of(exchange(http, send_log=log)), 30)
    assert error is not None and error.message.startswith("the run passed its deadline")
    assert [f.data for f in got] in ([], ["1"])


async def test_a_body_cut_or_stalled_half_way_says_which() -> None:
    stalled = response("text/event-stream", b"data: 1\n\n", httpx2.ReadTimeout("read"), read_timeout=7.5)
    got, error = await frames_of(exchange(stalled))
    assert [f.data for f in got] == ["1"] and error is not None
    assert (error.error_type, error.message) == (base.TIMEOUT, "timed out waiting for data from the server (no data for 7.5 s)")
    untimed = response("text/event-stream", httpx2.ReadTimeout("read"))
    assert (await frames_of(exchange(untimed)))[1].message == "timed out waiting for data from the server (read timeout)"
    cut = response("text/event-stream", b"data: 1\n\n", httpx2.RemoteProtocolError("peer closed"))
    got, error = await frames_of(exchange(cut))
    assert error is not None and (error.error_type, error.message) == (
        base.STREAM_CUT, "connection closed before the response ended (peer closed)",
    )  # fmt: skip


def test_the_request_id_is_openais_header_or_anthropics() -> None:
    both = {"x-request-id": "req_x", "request-id": "req_a"}
    assert exchange(response("text/event-stream", headers=both)).request_id == "req_x"
    assert exchange(response("text/event-stream", headers={"request-id": "req_a"})).request_id == "req_a"
    assert exchange(response("text/event-stream")).request_id is None


def test_retries_are_the_send_logs_or_else_what_the_sdk_says() -> None:
    log = SendLog(sends=3)
    timed = exchange(response("text/event-stream"), send_log=log, retries_taken=9)
    assert (timed.retries, timed.send_log, timed.status_code) == (2, log, 200)
    assert exchange(response("text/event-stream"), retries_taken=2).retries == 2
    assert exchange(response("text/event-stream"), retries_taken=0).retries == 0
    assert exchange(response("text/event-stream"), retries_taken=None).retries == 0
    assert exchange(response("text/event-stream")).retries == 0
