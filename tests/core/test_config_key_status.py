"""What `llmwb models list` and the models pane say about a config's key: never the key,
only whether it is needed, set or missing (core.store.kinds, through both config classes)."""

from __future__ import annotations

import pytest

from core.store.models import ModelConfig
from core.store.peek import ConfigView


def _view(provider: str, api_key_env: str | None) -> ConfigView:
    return ConfigView(id=1, name="c", provider=provider, model="m", base_url=None, api_key_env=api_key_env,
                      params={}, price_input=0.0, price_cached_input=None, price_output=0.0, timeout=None)  # fmt: skip


@pytest.mark.parametrize("provider, api_key_env, status", [
    ("openai", None, "missing"), ("anthropic", "", "missing"), ("openai-responses", None, "missing"),
    ("simulator", None, "not needed"), ("ollama", None, "not needed"), ("openai-compatible", None, "not needed"),
    ("openai", "LLMWB_TEST_KEY_SET", "set"), ("ollama", "LLMWB_TEST_KEY_SET", "set"),
    ("openai", "LLMWB_TEST_KEY_UNSET", "missing"), ("simulator", "LLMWB_TEST_KEY_UNSET", "missing"),
])  # fmt: skip
def test_a_config_s_key_is_needed_set_or_missing(monkeypatch, provider, api_key_env, status) -> None:
    monkeypatch.setenv("LLMWB_TEST_KEY_SET", "sk-test-value")
    monkeypatch.delenv("LLMWB_TEST_KEY_UNSET", raising=False)
    config = ModelConfig(name="c", provider=provider, model="m", api_key_env=api_key_env)
    assert config.key_status() == status
    assert _view(provider, api_key_env).key_status() == status
