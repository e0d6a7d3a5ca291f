"""An `error` a provider puts in a body or a stream, as the user reads it: the message, the
provider's own words beside it, OpenRouter's real cause, and one error type whoever said it."""

from __future__ import annotations

import pytest

from core.providers.payload_errors import payload_error


@pytest.mark.parametrize("error, message, error_type", [
    # OpenRouter sends the HTTP status it would have answered with as `code`.
    ({"code": 400, "message": "bad"}, "bad (400)", "bad_request"),
    ({"code": 599, "message": "odd gateway"}, "odd gateway (599)", "server_error"),
    ({"code": 600, "message": "not a status"}, "not a status (600)", "provider_error"),
    ({"code": 399, "message": "not an error status"}, "not an error status (399)", "provider_error"),
    # A status that does not say overloaded, with words that do.
    ({"type": "overloaded_error", "code": 500, "message": "busy"}, "busy (overloaded_error, 500)", "overloaded"),
    ({"type": "rate_limit_exceeded", "code": "too_many", "message": "slow down"},
     "slow down (rate_limit_exceeded, too_many)", "rate_limit"),
    # Only the words count, not True/False/"" given as a code.
    ({"type": "invalid_request_error", "code": True, "message": "no"}, "no (invalid_request_error)", "bad_request"),
    ({"type": "", "code": "context_length_exceeded", "message": "too long"}, "too long (context_length_exceeded)", "bad_request"),
    # No message: the provider's first word stands in, else the error as sent.
    ({"type": "server_error", "code": "internal", "message": ""}, "server_error (server_error, internal)", "server_error"),
    ({"type": "", "code": "not_found_error"}, "not_found_error (not_found_error)", "not_found"),
    ({"message": {"detail": "nested"}}, '{"detail":"nested"}', "provider_error"),
    ({"detail": "no words at all"}, '{"detail":"no words at all"}', "provider_error"),
])  # fmt: skip
def test_error_objects_read_the_same_for_every_provider(error: dict, message: str, error_type: str) -> None:
    read = payload_error(error, streamed=True)
    assert str(read) == f"provider error in stream: {message}"
    assert read.error_type == error_type


def test_an_error_without_message_or_words_is_shown_as_sent_within_bounds() -> None:
    read = payload_error({"detail": "x" * 1000}, streamed=False)
    assert str(read) == 'provider error in response: {"detail":"' + "x" * (300 - 11) + ""
    assert read.error_type == "provider_error"


def test_a_shapeless_error_is_shown_as_sent() -> None:
    assert str(payload_error("quota gone", streamed=False)) == "provider error in response: quota gone"
    assert str(payload_error(["a", 1], streamed=True)) == 'provider error in stream: ["a",1]'


@pytest.mark.parametrize("metadata, detail", [
    ({"raw": "upstream said no", "provider_name": "Together"}, "Together: upstream said no"),
    ({"raw": {"error": "json cause"}, "provider_name": "Fireworks"}, 'Fireworks: {"error":"json cause"}'),
    ({"raw": "no name", "provider_name": ""}, "no name"),
    ({"raw": "a number for a name", "provider_name": 7}, "a number for a name"),
    ({"raw": "r" * 500}, "r" * 500),
    ({"raw": "r" * 501}, "r" * 500 + "…"),
])  # fmt: skip
def test_openrouter_names_the_upstreams_own_error(metadata: dict, detail: str) -> None:
    read = payload_error({"code": 502, "message": "Provider returned error", "metadata": metadata}, streamed=True)
    assert str(read) == f"provider error in stream: Provider returned error — {detail} (502)"
    assert read.error_type == "server_error"


@pytest.mark.parametrize("metadata", [{"raw": ""}, {"raw": None}, {"provider_name": "X"}, "raw text", None])
def test_openrouter_without_an_upstream_cause_adds_nothing(metadata: object) -> None:
    read = payload_error({"code": 429, "message": "Rate limited", "metadata": metadata}, streamed=False)
    assert str(read) == "provider error in response: Rate limited (429)"
    assert read.error_type == "rate_limit"
