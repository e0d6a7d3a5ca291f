"""The one line a user reads when the HTTP exchange fails (core.providers.http): every
status's words and error type, the server's own message from each error shape, the wait
hint, redirects named but never followed, timeouts and cut connections told apart."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from core.providers import base
from core.providers.base import ProviderError, SendLog
from core.providers.http import (
    map_sdk_error,
    map_transport_error,
    max_retries_of,
    not_what_was_asked,
    redirect_error,
    status_error,
)

URL = "https://api.example.test/v1/chat/completions"


def sent(headers: dict[str, str] | None = None, timeout: dict[str, float] | None = None) -> httpx2.Request:
    extensions = {"timeout": timeout} if timeout is not None else {}
    return httpx2.Request("POST", URL, headers=headers or {"authorization": "Bearer sk-real"}, extensions=extensions)


def answer(status: int, body: Any = b"", headers: dict[str, str] | None = None, request: httpx2.Request | None = None) -> httpx2.Response:
    content = body if isinstance(body, bytes) else httpx2.Response(200, json=body).content
    return httpx2.Response(status, content=content, headers=headers or {}, request=request or sent())


@pytest.mark.parametrize(
    ("status", "error_type", "words"),
    [
        (401, base.AUTH, "authentication failed"),
        (403, base.AUTH, "authentication failed"),
        (404, base.NOT_FOUND, "not found"),
        (429, base.RATE_LIMIT, "rate limited"),
        (529, base.OVERLOADED, "overloaded"),
        (500, base.SERVER, "server error"),
        (503, base.SERVER, "server error"),
        (400, base.BAD_REQUEST, "request rejected"),
        (422, base.BAD_REQUEST, "request rejected"),
        (499, base.BAD_REQUEST, "request rejected"),
    ],
)
def test_each_status_gets_its_words_and_error_type(status: int, error_type: str, words: str) -> None:
    error = status_error(answer(status, {"error": {"message": "the reason"}}))
    assert (error.error_type, error.http_status) == (error_type, status)
    assert error.message.startswith(f"HTTP {status} {words}: the reason")


def test_an_overloaded_error_body_is_overloaded_whatever_the_status() -> None:
    error = status_error(answer(500, {"error": {"type": "overloaded_error", "message": "Overloaded"}}))
    assert error.error_type == base.OVERLOADED and error.message == "HTTP 500 overloaded: Overloaded"
    shouted = status_error(answer(400, {"error": "Model OVERLOADED, try later"}))
    assert shouted.error_type == base.OVERLOADED and shouted.message == "HTTP 400 overloaded: Model OVERLOADED, try later"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"error": {"message": "bad model"}}, "bad model"),
        ({"error": {"message": "Provider returned error", "metadata": {"raw": "quota", "provider_name": "Groq"}}},
         "Provider returned error — Groq: quota"),
        ({"message": "top-level message"}, "top-level message"),  # no `error`: the body itself
        ({"error": "a plain string"}, "a plain string"),
        ({"detail": "FastAPI style"}, "Bad Request"),  # nothing known: the status's reason
        ({"error": {"code": 7}}, "Bad Request"),
        (b"", "Bad Request"),
        ([1, 2], "Bad Request"),
    ],
)  # fmt: skip
def test_the_servers_own_message_is_found_in_each_shape(body: Any, detail: str) -> None:
    assert status_error(answer(400, body)).message == f"HTTP 400 request rejected: {detail}"


def test_a_text_body_the_sdk_passes_on_is_the_message_cut_to_three_hundred_characters() -> None:
    text = "  plain text from a proxy \n"
    assert status_error(answer(400, text.encode()), text).message == "HTTP 400 request rejected: plain text from a proxy"
    assert status_error(answer(400, b"x" * 500), "x" * 500).message == "HTTP 400 request rejected: " + "x" * 300
    assert status_error(answer(400, b" "), "  \n").message == "HTTP 400 request rejected: Bad Request"
    # Read raw, a body that is no JSON is kept for the wire view; the status's reason is the line.
    raw = status_error(answer(502, b"<html>bad gateway</html>"))
    assert raw.message == "HTTP 502 server error: Bad Gateway" and raw.wire_body == "<html>bad gateway</html>"


def test_a_body_given_by_the_sdk_is_used_over_the_raw_one() -> None:
    error = status_error(answer(400, {"error": {"message": "raw"}}), {"error": {"message": "parsed"}})
    assert error.message == "HTTP 400 request rejected: parsed"


def test_an_error_keeps_its_body_for_the_wire_view_and_its_request_id() -> None:
    error = status_error(answer(500, b'{"error": {"message": "boom"}}', {"request-id": "req_b"}))
    assert error.wire_body == '{"error": {"message": "boom"}}' and error.request_id == "req_b"
    openai_style = status_error(answer(500, b"{}", {"x-request-id": "req_x", "request-id": "req_b"}))
    assert openai_style.request_id == "req_x"
    assert status_error(answer(500, b"{}")).request_id is None


def test_a_401_says_whether_a_key_went_out() -> None:
    assert status_error(answer(401, b"")).message == "HTTP 401 authentication failed: Unauthorized (check the API key)"
    keyless = answer(401, b"", request=sent({"authorization": "Bearer not-needed"}))
    assert status_error(keyless).message == (
        "HTTP 401 authentication failed: Unauthorized (no API key was sent: set the model's key variable)"
    )
    for header in ("x-api-key", "api-key"):
        assert status_error(answer(403, b"", request=sent({header: "k-1"}))).message.endswith("(check the API key)")
    assert status_error(answer(401, b"", request=sent({"x-api-key": "not-needed"}))).message.endswith(
        "(no API key was sent: set the model's key variable)"
    )
    # A response with no request attached: assume a key was sent.
    assert status_error(httpx2.Response(401)).message.endswith("(check the API key)")


@pytest.mark.parametrize(
    ("headers", "retry_after", "words"),
    [
        ({"retry-after": "7"}, "7", "(retry after 7 s)"),
        ({"retry-after": "Wed, 21 Oct 2026 07:28:00 GMT"}, "Wed, 21 Oct 2026 07:28:00 GMT",
         "(retry after Wed, 21 Oct 2026 07:28:00 GMT)"),
        ({"retry-after-ms": "1500", "retry-after": "2"}, "1.5", "(retry after 1.5 s)"),
        ({"retry-after-ms": "0"}, "0", "(retry after 0 s)"),
        ({"retry-after-ms": "soon", "retry-after": "3"}, "3", "(retry after 3 s)"),
        ({"retry-after-ms": "-5", "retry-after": "3"}, "3", "(retry after 3 s)"),
        ({"retry-after-ms": "inf"}, None, None),
        ({}, None, None),
    ],
)  # fmt: skip
def test_the_wait_hint_is_in_seconds(headers: dict[str, str], retry_after: str | None, words: str | None) -> None:
    error = status_error(answer(429, {"error": {"message": "slow down"}}, headers))
    assert error.retry_after == retry_after
    assert error.message == "HTTP 429 rate limited: slow down" + (f" {words}" if words else "")


def test_a_redirect_is_named_with_its_target_and_not_followed() -> None:
    error = status_error(answer(301, b"", {"location": "/v2/chat"}))
    assert (error.error_type, error.http_status) == (base.REDIRECT, 301)
    assert error.message == (
        "HTTP 301 redirect to https://api.example.test/v2/chat: not followed, so the API key is sent only to the "
        "configured base URL (set the base URL to the new address if it is right)"
    )
    assert redirect_error(answer(302, b"")).message.startswith("HTTP 302 redirect without a location: not followed")
    odd = redirect_error(answer(307, b"", {"location": "http://[::1"}))
    assert odd.message.startswith("HTTP 307 redirect to http://[::1: not followed")
    assert status_error(answer(399, b"")).error_type == base.REDIRECT


def test_a_page_instead_of_the_format_asked_for_is_named_by_its_label_and_first_line() -> None:
    error = not_what_was_asked("text/html", "\n\n  <title>Sign in</title>\n<body>", "an event stream")
    assert (error.error_type, error.message) == (
        base.MALFORMED, "the server answered with text/html, not an event stream: <title>Sign in</title>",
    )  # fmt: skip
    assert not_what_was_asked("", "  \n", "JSON").message == "the server answered with no content type, not JSON: an empty body"
    assert not_what_was_asked("text/plain", "y" * 300, "JSON").message.endswith(": " + "y" * 200)


class FakeTimeout(Exception):
    pass


class ReadTimeout(Exception):  # the name is what counts: both SDKs and httpx2 share it
    pass


class RemoteProtocolError(Exception):
    pass


class APITimeoutError(Exception):
    def __init__(self, request: httpx2.Request) -> None:
        super().__init__("Request timed out.")
        self.request = request


class APIConnectionError(Exception):
    pass


class APIStatusError(Exception):
    def __init__(self, response: httpx2.Response, body: Any) -> None:
        super().__init__("status")
        self.response, self.body = response, body


def test_transport_failures_mid_body_say_which_kind() -> None:
    assert map_transport_error(ReadTimeout(), read_timeout=30.0).message == (
        "timed out waiting for data from the server (no data for 30 s)"
    )
    assert map_transport_error(ReadTimeout(), read_timeout=0.25).error_type == base.TIMEOUT
    assert map_transport_error(ReadTimeout()).message == "timed out waiting for data from the server (read timeout)"
    cut = map_transport_error(RemoteProtocolError("peer closed connection"))
    assert (cut.error_type, cut.message) == (base.STREAM_CUT, "connection closed before the response ended (peer closed connection)")
    assert map_transport_error(RemoteProtocolError()).message == "connection closed before the response ended (RemoteProtocolError)"
    other = map_transport_error(OSError("network is unreachable"))
    assert (other.error_type, other.message) == (base.CONNECTION, "OSError: network is unreachable")
    assert map_transport_error(httpx2.ReadError("reset")).error_type == base.STREAM_CUT
    assert map_transport_error(httpx2.WriteTimeout("w")).error_type == base.TIMEOUT
    assert map_transport_error(httpx2.PoolTimeout("p")).error_type == base.TIMEOUT


def test_an_sdk_timeout_names_the_address_and_which_wait_ran_out() -> None:
    read = map_sdk_error(APITimeoutError(sent(timeout={"connect": 5.0, "read": 30.0})), URL)
    assert (read.error_type, read.message) == (base.TIMEOUT, f"timed out talking to {URL} (no response within 30 s)")
    connect = APITimeoutError(sent(timeout={"connect": 2.5, "read": 30.0}))
    connect.__cause__ = httpx2.ConnectTimeout("connect")
    assert map_sdk_error(connect, URL).message == f"timed out talking to {URL} (could not connect within 2.5 s)"
    unknown = map_sdk_error(APITimeoutError(sent(timeout={})), URL)
    assert unknown.message == f"timed out talking to {URL} (no response)"
    bare = map_sdk_error(httpx2.ConnectTimeout("c"), URL)  # no request attached
    assert bare.message == f"timed out talking to {URL} (could not connect)"


def test_an_sdk_connection_error_names_the_address_and_the_cause() -> None:
    failed = APIConnectionError("Connection error.")
    failed.__cause__ = ConnectionRefusedError("connection refused")
    error = map_sdk_error(failed, "http://127.0.0.1:9/v1")
    assert (error.error_type, error.message) == (base.CONNECTION, "cannot connect to http://127.0.0.1:9/v1: connection refused")
    silent = APIConnectionError("Connection error.")
    silent.__context__ = ConnectionResetError()
    assert map_sdk_error(silent, URL).message == f"cannot connect to {URL}: ConnectionResetError"
    assert map_sdk_error(APIConnectionError("x"), URL).message == f"cannot connect to {URL}: APIConnectionError"


def test_an_sdk_status_error_is_the_status_line_and_keeps_the_send_log() -> None:
    log = SendLog(sends=2)
    error = map_sdk_error(APIStatusError(answer(404, b"{}"), {"error": {"message": "no such model"}}), URL, send_log=log)
    assert (error.error_type, error.message, error.send_log) == (base.NOT_FOUND, "HTTP 404 not found: no such model", log)
    mine = ProviderError("already said", base.TOO_LARGE)
    assert map_sdk_error(mine, URL, send_log=log) is mine and mine.send_log is log
    earlier = SendLog()
    kept = ProviderError("x", base.SERVER, send_log=earlier)
    assert map_sdk_error(kept, URL, send_log=log).send_log is earlier
    assert map_sdk_error(FakeTimeout("?"), URL).message == "FakeTimeout: ?"


@pytest.mark.parametrize("value", [-1, 1.0, True, "2", None])
def test_a_retry_count_that_is_not_a_whole_number_is_refused(value: object) -> None:
    with pytest.raises(ProviderError) as caught:
        max_retries_of({"max_retries": value}, 2)
    assert (caught.value.error_type, caught.value.message) == (
        base.BAD_REQUEST, f"param max_retries must be a whole number >= 0, got {value!r}",
    )  # fmt: skip


def test_the_retry_count_is_the_params_or_the_sdks_default() -> None:
    assert max_retries_of({}, 2) == 2
    assert max_retries_of({"max_retries": 0}, 2) == 0
    assert max_retries_of({"max_retries": 5}, 2) == 5


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"error": True, "message": "Invalid API key"}, "Invalid API key"),  # a flag beside the message
        ({"error": {"code": 400}, "message": "model is required"}, "model is required"),
        ({"error": None, "message": "quota"}, "quota"),
    ],
)
def test_a_message_beside_an_error_that_says_nothing_is_the_detail(body: Any, detail: str) -> None:
    assert status_error(answer(400, body)).message == f"HTTP 400 request rejected: {detail}"


def test_every_3xx_status_is_a_redirect_not_followed() -> None:
    for status in (300, 301, 308, 399):
        error = status_error(answer(status, b"", {"location": "https://elsewhere.test/v1"}))
        assert (error.error_type, error.http_status) == (base.REDIRECT, status)
        assert error.message.startswith(f"HTTP {status} redirect to https://elsewhere.test/v1: not followed")
    assert status_error(answer(400, b"")).error_type == base.BAD_REQUEST


def test_an_error_with_no_message_and_no_reason_phrase_says_so() -> None:
    """A status without a reason phrase (499, 520) and an empty body: the line says the
    answer had no message instead of ending in a bare colon."""
    assert status_error(answer(499, b"")).message == "HTTP 499 request rejected (no message in the answer)"
    assert status_error(answer(520, b"")).message == "HTTP 520 server error (no message in the answer)"
    assert status_error(answer(500, b"")).message == "HTTP 500 server error: Internal Server Error"
