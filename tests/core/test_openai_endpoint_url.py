"""The URL an OpenAI-compatible run names (in its errors, its curl export): the base URL
as configured, trailing slashes dropped, then /chat/completions, case and all."""

from __future__ import annotations

import pytest

from core.providers.openai_chat import OpenAIChatAdapter
from core.store.models import ModelConfig


@pytest.mark.parametrize(
    ("base_url", "endpoint"),
    [
        ("http://127.0.0.1:9/v1", "http://127.0.0.1:9/v1/chat/completions"),
        ("http://127.0.0.1:9/v1//", "http://127.0.0.1:9/v1/chat/completions"),
        ("http://127.0.0.1:9/proxy/BOX", "http://127.0.0.1:9/proxy/BOX/chat/completions"),
    ],
)
def test_the_endpoint_is_the_base_url_without_trailing_slashes_plus_chat_completions(base_url, endpoint):
    config = ModelConfig(name="c", provider="openai", model="m", base_url=base_url)
    assert OpenAIChatAdapter().endpoint(config) == endpoint
