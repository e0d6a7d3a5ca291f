"""Provider kinds to adapters, and the embedded simulator as the default model."""

from __future__ import annotations

import pytest
from runkit import run_to_end

from core.events import Finished
from core.providers.registry import UnknownProvider, resolve
from core.simulator import embedded_root_url, shutdown_embedded
from core.store.models import ModelConfig


@pytest.mark.parametrize(
    ("provider", "base_url", "protocol", "effective_url"),
    [
        ("openai", None, "openai", None),
        ("openai-compatible", "http://127.0.0.1:1/v1", "openai", "http://127.0.0.1:1/v1"),
        ("ollama", None, "openai", "http://localhost:11434/v1"),
        ("anthropic", None, "anthropic", None),
        ("simulator", "http://127.0.0.1:1", "anthropic", "http://127.0.0.1:1"),  # demo-claude's api hint
    ],
)
def test_kinds_map_to_protocols(provider, base_url, protocol, effective_url):
    resolved = resolve(ModelConfig(name="c", provider=provider, model="demo-claude", base_url=base_url))
    assert resolved.protocol == protocol
    assert resolved.config.effective_base_url() == effective_url


def test_an_unknown_kind_says_which_are_known():
    with pytest.raises(UnknownProvider, match="unknown provider kind 'nope' \\(known: openai, "):
        resolve(ModelConfig(name="c", provider="nope", model="m"))


async def test_the_embedded_simulator_serves_user_scenarios_in_their_protocol(tmp_path, monkeypatch):
    (tmp_path / "mine.yaml").write_text(
        "name: mine-claude\napi: anthropic\ntext: hello from a user file\ntiming: {first_token_ms: 0, gap_ms: 0}\n"
    )
    monkeypatch.setenv("LLMWB_SCENARIO_DIR", str(tmp_path))
    shutdown_embedded()  # the next use starts one that reads LLMWB_SCENARIO_DIR
    try:
        config = ModelConfig(name="sim", provider="simulator", model="mine-claude")
        resolved = resolve(config)
        assert (resolved.protocol, resolved.config.base_url) == ("anthropic", embedded_root_url())
        outcome = await run_to_end(config, "hi")
        assert isinstance(outcome.last, Finished), outcome.last
        assert outcome.last.final_response["content"] == "hello from a user file"
    finally:
        shutdown_embedded()
