"""A 401 says "check the API key" only when a key was sent."""

from __future__ import annotations

import httpx2

from core.providers.http import NO_KEY, status_error


def _response(headers: dict[str, str]) -> httpx2.Response:
    request = httpx2.Request("POST", "http://127.0.0.1:9/v1/chat/completions", headers=headers)
    return httpx2.Response(401, json={"error": {"message": "Invalid API key"}}, request=request)


def test_a_key_that_was_sent_is_the_one_to_check() -> None:
    assert "(check the API key)" in str(status_error(_response({"Authorization": "Bearer sk-test"})))
    assert "(check the API key)" in str(status_error(_response({"x-api-key": "sk-ant-test"})))


def test_a_model_without_a_key_is_told_to_set_one() -> None:
    for headers in ({}, {"Authorization": f"Bearer {NO_KEY}"}):
        message = str(status_error(_response(headers)))
        assert "check the API key" not in message and "no API key was sent" in message
