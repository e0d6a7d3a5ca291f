"""Every provider kind a model config may name goes to the adapter that speaks its wire
protocol, with the base URL it will be sent to; the embedded simulator is reached at its
root for Anthropic and Ollama native, under /v1 for the OpenAI protocols."""

from __future__ import annotations

import pytest

from core.providers.anthropic_messages import AnthropicMessagesAdapter
from core.providers.ollama_native import OllamaNativeAdapter
from core.providers.openai_chat import OpenAIChatAdapter
from core.providers.openai_responses import OpenAIResponsesAdapter
from core.providers.registry import UnknownProvider, resolve
from core.simulator import embedded_root_url, shutdown_embedded
from core.store.models import ModelConfig

ADAPTERS = {
    "openai": OpenAIChatAdapter,
    "responses": OpenAIResponsesAdapter,
    "anthropic": AnthropicMessagesAdapter,
    "ollama": OllamaNativeAdapter,
}


@pytest.mark.parametrize(
    ("provider", "protocol", "endpoint"),
    [
        ("openai", "openai", "https://api.openai.com/v1/chat/completions"),
        ("openai-compatible", "openai", "http://127.0.0.1:9/v1/chat/completions"),
        ("openai-responses", "responses", "https://api.openai.com/v1/responses"),
        ("anthropic", "anthropic", "https://api.anthropic.com/v1/messages"),
        ("ollama", "openai", "http://localhost:11434/v1/chat/completions"),
        ("llamacpp", "openai", "http://localhost:8080/v1/chat/completions"),
        ("vllm", "openai", "http://localhost:8000/v1/chat/completions"),
        ("lmstudio", "openai", "http://localhost:1234/v1/chat/completions"),
        ("ollama-native", "ollama", "http://localhost:11434/api/chat"),
    ],
)
def test_each_kind_gets_the_adapter_of_its_protocol(provider: str, protocol: str, endpoint: str) -> None:
    base_url = "http://127.0.0.1:9/v1" if provider == "openai-compatible" else None
    resolved = resolve(ModelConfig(name="c", provider=provider, model="m", base_url=base_url))
    assert resolved.protocol == protocol
    assert type(resolved.adapter) is ADAPTERS[protocol]
    assert resolved.adapter.endpoint(resolved.config) == endpoint


@pytest.mark.parametrize(
    ("model", "protocol"),
    [
        ("demo-claude", "anthropic"),
        ("demo-ollama", "ollama"),
        ("demo-responses", "responses"),
        ("demo-fast", "openai"),
        ("not-a-scenario", "openai"),  # a scenario the server may load itself: OpenAI chat
    ],
)
def test_a_simulator_at_a_given_address_speaks_its_scenarios_protocol(model: str, protocol: str) -> None:
    resolved = resolve(ModelConfig(name="s", provider="simulator", model=model, base_url="http://127.0.0.1:9"))
    assert resolved.protocol == protocol
    assert type(resolved.adapter) is ADAPTERS[protocol]
    assert resolved.config.base_url == "http://127.0.0.1:9"


@pytest.mark.parametrize(
    ("model", "protocol", "under_v1"),
    [
        ("demo-claude", "anthropic", False),
        ("demo-ollama", "ollama", False),
        ("demo-responses", "responses", True),
        ("demo-fast", "openai", True),
    ],
)
def test_the_embedded_simulator_is_reached_at_the_path_its_protocol_lives_under(
    model: str, protocol: str, under_v1: bool
) -> None:
    try:
        config = ModelConfig(name="sim", provider="simulator", model=model)
        resolved = resolve(config)
        root = embedded_root_url()
        assert resolved.protocol == protocol
        assert type(resolved.adapter) is ADAPTERS[protocol]
        assert resolved.config.base_url == (root + "/v1" if under_v1 else root)
        assert config.base_url is None  # the caller's config is left as it was
    finally:
        shutdown_embedded()


def test_an_unknown_kind_is_refused_with_every_known_kind_named() -> None:
    with pytest.raises(UnknownProvider) as caught:
        resolve(ModelConfig(name="c", provider="openai-chat", model="m"))
    message = str(caught.value)
    assert message.startswith("unknown provider kind 'openai-chat' (known: ")
    for kind in ("openai", "openai-compatible", "openai-responses", "anthropic", "simulator", "ollama-native"):
        assert kind in message
    assert isinstance(caught.value, ValueError)
