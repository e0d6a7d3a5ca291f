"""HTTP statuses through the real `openai` SDK path, answered by respx.

The base URL is a closed loopback port: if respx ever stops intercepting (the
httpx2 alias not applied, a transport respx does not patch), these runs become
connection errors and every assertion on the status fails.
"""

from __future__ import annotations

import httpx
import httpx2
import pytest
import respx
from runkit import chunk, openai_config, run_to_end, sse

from core.events import Failed, Finished

ROOT = "http://127.0.0.1:9"  # the discard port: nothing listens there on a test machine
URL = ROOT + "/v1/chat/completions"


def error_json(message: str, error_type: str = "invalid_request_error") -> dict:
    return {"error": {"message": message, "type": error_type, "param": None, "code": None}}


def sse_response(*payloads) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=sse(*payloads))


def test_respx_patches_the_httpx_the_sdks_use():
    assert httpx is httpx2


@pytest.mark.parametrize(
    ("status", "error_type", "words"),
    [
        (400, "bad_request", "HTTP 400 request rejected: 'temperature' must be <= 2"),
        # The config has no key variable: the hint says so rather than "check the API key".
        (401, "auth", "HTTP 401 authentication failed: Incorrect API key provided (no API key was sent: set the model's key variable)"),
        (403, "auth", "HTTP 403 authentication failed: Country not supported (no API key was sent: set the model's key variable)"),
        (404, "not_found", "HTTP 404 not found: The model `gpt-9` does not exist"),
        (422, "bad_request", "HTTP 422 request rejected: Unprocessable"),
        (429, "rate_limit", "HTTP 429 rate limited: Slow down (retry after 3 s)"),
        (500, "server_error", "HTTP 500 server error: Internal error"),
        (503, "server_error", "HTTP 503 server error: Service unavailable"),
        (529, "overloaded", "HTTP 529 overloaded: Overloaded"),
    ],
)
async def test_error_statuses_become_one_line_errors(status, error_type, words):
    message = words.split(": ", 1)[1].removesuffix(" (no API key was sent: set the model's key variable)").removesuffix(" (retry after 3 s)")
    headers = {"retry-after": "3", "x-request-id": "req_respx"} if status == 429 else {"x-request-id": "req_respx"}
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(URL).mock(return_value=httpx.Response(status, json=error_json(message), headers=headers))
        outcome = await run_to_end(openai_config(ROOT, "gpt-9"), "go")

    assert route.call_count == 1
    failure = outcome.last
    assert isinstance(failure, Failed)
    assert (failure.error_type, failure.http_status, failure.error) == (error_type, status, words)
    assert failure.metrics["request_id"] == "req_respx"


async def test_a_non_json_error_body_is_shown_as_text():
    with respx.mock(assert_all_called=True) as mock:
        mock.post(URL).mock(return_value=httpx.Response(502, text="<html>Bad Gateway</html>\n"))
        outcome = await run_to_end(openai_config(ROOT, "m"), "go")
    assert (outcome.last.error_type, outcome.last.error) == ("server_error", "HTTP 502 server error: <html>Bad Gateway</html>")


async def test_sdk_retries_are_counted_and_inside_ttft():
    ok = sse_response(chunk({"content": "finally"}), chunk({}, "stop"), "[DONE]")
    busy = httpx.Response(503, json=error_json("busy", "server_error"), headers={"retry-after-ms": "1"})
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(URL).mock(side_effect=[busy, busy, ok])
        outcome = await run_to_end(openai_config(ROOT, "m", params={"max_retries": 2}), "go")

    assert route.call_count == 3
    assert isinstance(outcome.last, Finished), outcome.last
    assert outcome.last.final_response["content"] == "finally"
    metrics = outcome.last.metrics
    assert metrics["retries"] == 2
    assert metrics["ttft_ms"] >= 2.0  # two 1 ms waits happened after t0


async def test_a_failure_after_retries_still_counts_them():
    busy = httpx.Response(500, json=error_json("down", "server_error"), headers={"retry-after-ms": "1"})
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(URL).mock(return_value=busy)
        outcome = await run_to_end(openai_config(ROOT, "m", params={"max_retries": 1}), "go")
    assert route.call_count == 2
    assert (outcome.last.error_type, outcome.last.metrics["retries"]) == ("server_error", 1)


async def test_a_retry_answered_with_a_redirect_still_counts():
    busy = httpx.Response(503, json=error_json("busy", "server_error"), headers={"retry-after-ms": "1"})
    moved = httpx.Response(301, headers={"location": "https://elsewhere.test/v1/chat/completions"})
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(URL).mock(side_effect=[busy, moved])
        outcome = await run_to_end(openai_config(ROOT, "m", params={"max_retries": 1}), "go")
    assert route.call_count == 2
    assert (outcome.last.error_type, outcome.last.metrics["retries"]) == ("redirect", 1)


async def test_stream_options_rejection_is_retried_without_them():
    rejected = httpx.Response(400, json=error_json("stream_options: Extra inputs are not permitted"))
    ok = sse_response(chunk({"content": "hello"}), chunk({}, "stop"), "[DONE]")
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(URL).mock(side_effect=[rejected, ok])
        outcome = await run_to_end(openai_config(ROOT, "m"), "go")

    bodies = [call.request.content for call in route.calls]
    assert [b"stream_options" in body for body in bodies] == [True, False]
    assert outcome.last.metrics["usage_source"] == "estimated" and outcome.last.metrics["retries"] == 1


async def test_other_400s_are_not_retried():
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(URL).mock(return_value=httpx.Response(400, json=error_json("max_tokens is too large")))
        outcome = await run_to_end(openai_config(ROOT, "m"), "go")
    assert route.call_count == 1 and outcome.last.error_type == "bad_request"


async def test_a_bad_max_retries_param_is_a_clear_error():
    outcome = await run_to_end(openai_config(ROOT, "m", params={"max_retries": "lots"}), "go")
    assert (outcome.last.error_type, outcome.last.error) == ("bad_request", "param max_retries must be a whole number >= 0, got 'lots'")
