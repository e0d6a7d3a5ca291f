"""Provider kinds and what a config's kind implies (default base URL, whether it needs
a key): plain data, importable without SQLAlchemy, for commands that only read configs
(`llmwb models list`, core.store.peek) as well as the table class."""

from __future__ import annotations

import os

PROVIDER_KINDS = (
    "openai",
    "openai-compatible",
    "openai-responses",
    "anthropic",
    "simulator",
    "ollama",
    "llamacpp",
    "vllm",
    "lmstudio",
    "ollama-native",
)

# Local servers listen at these addresses unless told otherwise; all speak the OpenAI
# protocol but `ollama-native`, Ollama's own /api/chat at the server's root.
LOCAL_BASE_URLS = {
    "ollama": "http://localhost:11434/v1",
    "llamacpp": "http://localhost:8080/v1",
    "vllm": "http://localhost:8000/v1",
    "lmstudio": "http://localhost:1234/v1",
    "ollama-native": "http://localhost:11434",
}

# Kinds that work without a key; an openai-compatible server often needs none either
# (a proxy, a local server), so it counts as keyless unless the config names a variable.
KEYLESS_KINDS = {"simulator", "openai-compatible", *LOCAL_BASE_URLS}


def key_status(provider: str, api_key_env: str | None) -> str:
    """'not needed', 'set' or 'missing' — never the key itself."""
    if not api_key_env:
        return "not needed" if provider in KEYLESS_KINDS else "missing"
    return "set" if os.environ.get(api_key_env) else "missing"


def effective_base_url(provider: str, base_url: str | None) -> str | None:
    return base_url or LOCAL_BASE_URLS.get(provider)
