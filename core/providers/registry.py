"""Maps a model config's provider kind to the adapter that speaks its protocol."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

from core.providers.base import ProviderAdapter
from core.store.kinds import LOCAL_BASE_URLS, PROVIDER_KINDS

if TYPE_CHECKING:  # the table class loads SQLModel; `llmwb run` reads configs without it
    from core.store.models import ModelConfig


class UnknownProvider(ValueError):
    pass


@dataclass
class Resolved:
    adapter: ProviderAdapter
    config: ModelConfig  # with the base URL filled in (the embedded simulator's, for one)
    protocol: str  # "openai", "responses", "anthropic" or "ollama" (native /api/chat)


def protocol_for(config: ModelConfig) -> str:
    if config.provider == "anthropic":
        return "anthropic"
    if config.provider == "ollama-native":
        return "ollama"
    if config.provider == "openai-responses":
        return "responses"
    if config.provider == "simulator":
        return _scenario_api(config.model, _builtin_scenarios())
    if config.provider in ("openai", "openai-compatible", *LOCAL_BASE_URLS):
        return "openai"
    raise UnknownProvider(f"unknown provider kind {config.provider!r} (known: {', '.join(PROVIDER_KINDS)})")


def _builtin_scenarios() -> Mapping[str, Any]:
    from core.simulator.scenario import builtin_scenarios

    return builtin_scenarios()


def _scenario_api(model: str, scenarios: Mapping[str, Any]) -> str:
    # A scenario's `api` is only a hint; the simulator serves every scenario on both.
    return getattr(scenarios.get(model), "api", None) or "openai"


def adapter_for(protocol: str) -> ProviderAdapter:
    if protocol == "anthropic":
        from core.providers.anthropic_messages import AnthropicMessagesAdapter

        return AnthropicMessagesAdapter()
    if protocol == "ollama":
        from core.providers.ollama_native import OllamaNativeAdapter

        return OllamaNativeAdapter()
    if protocol == "responses":
        from core.providers.openai_responses import OpenAIResponsesAdapter

        return OpenAIResponsesAdapter()
    from core.providers.openai_chat import OpenAIChatAdapter

    return OpenAIChatAdapter()


def resolve(config: ModelConfig) -> Resolved:
    if config.provider == "simulator" and not config.base_url:
        from core.simulator.embedded import embedded_root_url, embedded_server

        root = embedded_root_url()
        # The embedded server also loaded the user's scenario files: ask it, not the built-ins.
        server = embedded_server()
        protocol = _scenario_api(config.model, server.scenarios if server else _builtin_scenarios())
        # OpenAI chat and Responses live under /v1; Anthropic and Ollama native at the root.
        config = config.model_copy(update={"base_url": root if protocol in ("anthropic", "ollama") else root + "/v1"})
    else:
        protocol = protocol_for(config)
    return Resolved(adapter=adapter_for(protocol), config=config, protocol=protocol)
