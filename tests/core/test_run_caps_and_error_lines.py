"""What core.providers.base promises every adapter: the caps a run's params ask for (and
the words when a value makes no sense), how long a run may take before it is stopped, an
error that is always one line with no key in it, frames' JSON read the way the JSON spec
reads it, and retries counted apart from redirects."""

from __future__ import annotations

import math

import pytest

from core.providers import base
from core.providers.base import (
    DEFAULT_DEADLINE_S,
    Limits,
    ProviderError,
    SendLog,
    limits_of,
    load_json,
    optional_text,
    require_text,
)

KEY = "sk-base-test-key-0123456789abcdef"


def test_no_cap_params_give_the_defaults_and_other_params_are_not_caps() -> None:
    assert limits_of({"temperature": 0.2, "max_tokens": 5}) == Limits()
    defaults = Limits()
    assert (defaults.max_response_bytes, defaults.max_frame_bytes, defaults.max_frames, defaults.deadline) == (
        64 * 1024 * 1024, 8 * 1024 * 1024, 200_000, None,
    )  # fmt: skip


def test_each_cap_param_is_taken_as_given() -> None:
    chosen = limits_of({"max_response_bytes": 1000, "max_frame_bytes": 10.0, "max_frames": 3, "deadline": 2})
    assert chosen == Limits(max_response_bytes=1000, max_frame_bytes=10, max_frames=3, deadline=2.0)
    assert type(chosen.max_frame_bytes) is int and type(chosen.deadline) is float
    assert limits_of({"deadline": 0.25}).deadline == 0.25


@pytest.mark.parametrize(
    ("name", "value", "kind"),
    [
        ("max_frames", 0, "a whole number > 0"),
        ("max_frames", -5, "a whole number > 0"),
        ("max_frames", 2.5, "a whole number > 0"),
        ("max_frames", True, "a whole number > 0"),
        ("max_frames", "10", "a whole number > 0"),
        ("max_response_bytes", math.inf, "a whole number > 0"),
        ("max_frame_bytes", math.nan, "a whole number > 0"),
        ("deadline", 0, "a number of seconds > 0"),
        ("deadline", -1.5, "a number of seconds > 0"),
        ("deadline", math.inf, "a number of seconds > 0"),
        ("deadline", None, "a number of seconds > 0"),
        ("deadline", False, "a number of seconds > 0"),
    ],
)
def test_a_cap_that_is_no_positive_number_is_refused_in_words(name: str, value: object, kind: str) -> None:
    with pytest.raises(ProviderError) as caught:
        limits_of({name: value, "temperature": 1})
    assert caught.value.error_type == base.BAD_REQUEST
    assert caught.value.message == f"param {name} must be {kind}, got {value!r}"


def test_the_deadline_is_the_cap_given_or_ten_read_timeouts_but_never_under_ten_minutes() -> None:
    assert Limits(deadline=5.0).deadline_for(300.0) == 5.0
    assert Limits().deadline_for(None) == DEFAULT_DEADLINE_S == 600.0
    assert Limits().deadline_for(30.0) == 600.0
    assert Limits().deadline_for(90.0) == 900.0


def test_an_error_is_one_line_with_keys_hidden_and_carries_what_the_error_event_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BASE_TEST_API_KEY", KEY)
    log = SendLog(first_sent_at=1.0)
    error = ProviderError(
        f"HTTP 401\n  bad key:\t{KEY}\r\n", base.AUTH, http_status=401, retry_after="3", request_id="req_1",
        send_log=log, wire_body=f'{{"error": "{KEY}"}}',
    )  # fmt: skip
    assert error.message == str(error) == "HTTP 401 bad key: [REDACTED]"
    assert (error.error_type, error.http_status, error.retry_after, error.request_id) == (base.AUTH, 401, "3", "req_1")
    assert error.send_log is log
    assert error.wire_body == '{"error": "[REDACTED]"}'
    plain = ProviderError("x", base.CONNECTION)
    assert (plain.http_status, plain.retry_after, plain.request_id, plain.send_log, plain.wire_body) == (None,) * 5
    assert ProviderError("x", base.SERVER, wire_body="").wire_body == ""


def test_an_auth_header_quoted_in_an_error_is_hidden_even_when_not_in_the_environment() -> None:
    error = ProviderError("echo: Authorization: Bearer sk-proj-abcdefghijklmnopqrstuvwx", base.AUTH)
    assert "abcdefghijklmnop" not in error.message


def test_numbers_orjson_cannot_hold_are_read_as_json_reads_them() -> None:
    assert load_json('{"usage": {"total_tokens": 1e400}}') == {"usage": {"total_tokens": math.inf}}
    assert load_json('{"a": 1}') == {"a": 1}


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ("[1e400, NaN]", "NaN is not JSON"),  # the fallback parser would take NaN: refused there too
        ("[1e400, -Infinity]", "-Infinity is not JSON"),
        ("[NaN]", "unexpected character"),
        ('"\\ud800"', "surrogate"),  # a lone surrogate no UTF-8 consumer could write out
        ("{not json", "line 1 column"),
    ],
)
def test_what_json_does_not_allow_is_refused(data: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        load_json(data)


def test_text_fields_must_be_strings_and_say_what_they_got() -> None:
    assert optional_text(None, "id") is None
    assert optional_text("abc", "id") == "abc"
    with pytest.raises(TypeError, match="^finish_reason is int, not a string$"):
        optional_text(3, "finish_reason")
    require_text("ok", "delta")
    with pytest.raises(TypeError, match="^content delta is list, not a string$"):
        require_text(["a"], "content delta")
    with pytest.raises(TypeError, match="^name is NoneType, not a string$"):
        require_text(None, "name")


@pytest.mark.parametrize(("sends", "retries"), [(0, 0), (1, 0), (2, 1), (3, 2)])
def test_retries_count_the_sends_after_the_first(sends: int, retries: int) -> None:
    assert SendLog(sends=sends).retries == retries


def test_a_fresh_send_log_has_sent_nothing_and_default_caps() -> None:
    log = SendLog()
    assert (log.first_sent_at, log.headers_at, log.sends, log.deadline_at) == (None, None, 0, None)
    assert log.limits == Limits()
