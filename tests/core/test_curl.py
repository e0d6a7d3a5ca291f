"""`as_curl`: the request a run would send, pasteable, with the key as an $ENV reference."""

from __future__ import annotations

import json
import shlex

import pytest

from core.curl import as_curl
from core.request import ChatRequest, ToolSpec
from core.store.models import ModelConfig

SECRET = "sk-this-must-never-appear-0123456789"


def _body(curl: str) -> dict:
    words = shlex.split(curl.replace("\\\n", " "))
    return json.loads(words[words.index("-d") + 1])


def test_openai_request_with_key_as_env_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_OPENAI_KEY", SECRET)
    config = ModelConfig(name="o", provider="openai", model="gpt-4o-mini", api_key_env="MY_OPENAI_KEY")
    request = ChatRequest.from_prompt(
        "it's a test", system="sys", params={"temperature": 0.2}, tools=[ToolSpec(name="get_weather")]
    )
    curl = as_curl(config, request)
    assert SECRET not in curl
    assert curl.splitlines()[0] == "curl -N https://api.openai.com/v1/chat/completions \\"
    assert '-H "Authorization: Bearer $MY_OPENAI_KEY"' in curl
    body = _body(curl)  # the shell's reading of it, single quote in the prompt included
    assert body["messages"] == [{"role": "system", "content": "sys"}, {"role": "user", "content": "it's a test"}]
    assert body["temperature"] == 0.2 and body["stream"] is True
    assert body["tools"][0]["function"]["name"] == "get_weather"


def test_anthropic_request_uses_x_api_key_and_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    config = ModelConfig(
        name="c", provider="anthropic", model="claude-sonnet-4-5", api_key_env="ANTHROPIC_API_KEY",
        base_url="https://example.test/v1",
    )  # fmt: skip
    curl = as_curl(config, ChatRequest.from_prompt("hi", stream=False))
    assert SECRET not in curl
    assert curl.startswith("curl https://example.test/v1/messages")
    assert '-H "x-api-key: $ANTHROPIC_API_KEY"' in curl
    assert '-H "anthropic-version: 2023-06-01"' in curl
    assert _body(curl)["model"] == "claude-sonnet-4-5"


def test_keyless_local_server_has_no_auth_header() -> None:
    config = ModelConfig(name="l", provider="ollama", model="llama3.2")
    curl = as_curl(config, ChatRequest.from_prompt("hi"))
    assert "Authorization" not in curl
    assert "http://localhost:11434/v1/chat/completions" in curl


def test_client_options_are_not_in_the_body() -> None:
    config = ModelConfig(name="l", provider="vllm", model="m", params={"max_retries": 0, "top_k": 5})
    body = _body(as_curl(config, ChatRequest.from_prompt("hi")))
    assert "max_retries" not in body and body["top_k"] == 5
