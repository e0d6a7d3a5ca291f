"""Maps a model config's provider kind to the adapter that speaks its protocol."""

from __future__ import annotations

from dataclasses import dataclass

from core.providers.base import ProviderAdapter
from core.store.models import LOCAL_BASE_URLS, PROVIDER_KINDS, ModelConfig


class UnknownProvider(ValueError):
    pass


@dataclass
class Resolved:
    adapter: ProviderAdapter
    config: ModelConfig  # with the base URL filled in (the embedded simulator's, for one)
    protocol: str  # "openai" or "anthropic"


def protocol_for(config: ModelConfig) -> str:
    if config.provider == "anthropic":
        return "anthropic"
    if config.provider == "simulator":
        from core.simulator.scenario import builtin_scenarios

        scenario = builtin_scenarios().get(config.model)
        return getattr(scenario, "api", "openai") or "openai"
    if config.provider in ("openai", "openai-compatible", *LOCAL_BASE_URLS):
        return "openai"
    raise UnknownProvider(f"unknown provider kind {config.provider!r} (known: {', '.join(PROVIDER_KINDS)})")


def adapter_for(protocol: str) -> ProviderAdapter:
    if protocol == "anthropic":
        from core.providers.anthropic_messages import AnthropicMessagesAdapter

        return AnthropicMessagesAdapter()
    from core.providers.openai_chat import OpenAIChatAdapter

    return OpenAIChatAdapter()


def resolve(config: ModelConfig) -> Resolved:
    protocol = protocol_for(config)
    if config.provider == "simulator" and not config.base_url:
        from core.simulator.embedded import embedded_root_url

        root = embedded_root_url()
        config = config.model_copy(update={"base_url": root + "/v1" if protocol == "openai" else root})
    return Resolved(adapter=adapter_for(protocol), config=config, protocol=protocol)
