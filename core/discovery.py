"""Model discovery: which models does this endpoint serve? ("test connection").

One cheap GET of the provider's model list, made with httpx2 directly rather than
through an SDK (importing `openai` costs about a second, and a list of ids needs
none of its machinery). Failures read like a run's: the same one-line messages
and error types, so a wrong key or a dead host looks the same wherever it shows.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from core.providers import base
from core.providers.base import ProviderError
from core.providers.bounds import read_capped
from core.providers.http import shared_tls_context, status_error
from core.providers.registry import Resolved, UnknownProvider, resolve
from core.runner import resolve_api_key
from core.store.models import ModelConfig

DEFAULT_TIMEOUT_S = 10.0
# The Models API has accepted this version since it was introduced; newer ones add nothing here.
ANTHROPIC_VERSION = "2023-06-01"
# Anthropic pages its list (default 20 per page); this many pages of 1000 is far beyond any account.
ANTHROPIC_MAX_PAGES = 10
# A model list is a few hundred KB at most (OpenRouter's, with descriptions); more is no list.
MAX_LIST_BYTES = 16 * 1024 * 1024


async def list_models(config: ModelConfig) -> list[str]:
    """The model ids the config's endpoint lists, in the server's order.

    Raises ProviderError (missing key, HTTP error, connection failure, timeout,
    or a reply that is not a model list)."""
    try:
        # Off the loop: for the embedded simulator this may start its server thread.
        resolved = await asyncio.to_thread(resolve, config)
    except UnknownProvider as error:
        raise ProviderError(str(error), base.BAD_REQUEST) from error
    api_key = resolve_api_key(config)
    url, headers = models_request(resolved, api_key)
    timeout = config.timeout or DEFAULT_TIMEOUT_S

    import httpx2  # only when someone asks: the app's start-up never pays for it

    # The shared TLS context: a client of its own loaded the trust store again, ~30 ms of CPU
    # each time a connection was tested. No redirects: the request carries a key, which goes
    # to the configured host only.
    verify = await shared_tls_context()
    async with httpx2.AsyncClient(timeout=timeout, follow_redirects=False, verify=verify) as client:
        if resolved.protocol == "ollama":
            return _ollama_names(await _get(client, url, headers), url)
        if resolved.protocol != "anthropic":
            return _ids(await _get(client, url, headers), url)
        ids: list[str] = []
        params: dict[str, Any] = {"limit": 1000}
        for _ in range(ANTHROPIC_MAX_PAGES):
            body = await _get(client, url, headers, params)
            ids.extend(_ids(body, url))
            if not body.get("has_more") or not body.get("last_id"):
                break
            params = {"limit": 1000, "after_id": body["last_id"]}
        return ids


def models_request(resolved: Resolved, api_key: str | None) -> tuple[str, dict[str, str]]:
    """The URL and headers of the model-list request, as the run adapters address the same server."""
    if resolved.protocol == "anthropic":
        from core.providers.anthropic_messages import AnthropicMessagesAdapter

        headers = {"anthropic-version": ANTHROPIC_VERSION}
        if api_key:
            headers["x-api-key"] = api_key
        return AnthropicMessagesAdapter().base_url(resolved.config) + "/v1/models", headers

    if resolved.protocol == "ollama":
        from core.providers.ollama_native import OllamaNativeAdapter

        headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        return OllamaNativeAdapter().base_url(resolved.config) + "/api/tags", headers

    from core.providers.openai_chat import OpenAIChatAdapter

    root = OpenAIChatAdapter().base_url(resolved.config).rstrip("/")
    return root + "/models", ({"authorization": f"Bearer {api_key}"} if api_key else {})


async def _get(client: Any, url: str, headers: dict[str, str], params: dict[str, Any] | None = None) -> dict[str, Any]:
    import httpx2

    try:
        async with client.stream("GET", url, headers=headers, params=params) as response:
            content = await read_capped(response.aiter_bytes(), MAX_LIST_BYTES)
    except httpx2.TimeoutException as error:
        what = "could not connect" if isinstance(error, httpx2.ConnectTimeout) else "no response"
        raise ProviderError(f"timed out talking to {url} ({what} within {client.timeout.read:g} s)", base.TIMEOUT) from error
    except (httpx2.HTTPError, httpx2.InvalidURL) as error:
        reason = str(error) or type(error).__name__
        raise ProviderError(f"cannot connect to {url}: {reason}", base.CONNECTION) from error
    try:
        body: Any = orjson.loads(content)
    except orjson.JSONDecodeError:
        body = content.decode("utf-8", errors="replace")
    if response.status_code >= 300:
        raise status_error(response, body)
    if not isinstance(body, dict):
        raise ProviderError(f"{url} did not answer with a JSON model list", base.MALFORMED, http_status=response.status_code)
    return body


def _ids(body: dict[str, Any], url: str) -> list[str]:
    # OpenAI, Anthropic and every OpenAI-compatible server put the list under "data".
    data = body.get("data")
    if not isinstance(data, list):
        raise ProviderError(f"{url} did not answer with a model list (no 'data' array)", base.MALFORMED)
    return [str(item["id"]) for item in data if isinstance(item, dict) and item.get("id")]


def _ollama_names(body: dict[str, Any], url: str) -> list[str]:
    # Ollama's /api/tags: {"models": [{"name": "llama3.2:latest", "model": "llama3.2:latest", ...}]}
    models = body.get("models")
    if not isinstance(models, list):
        raise ProviderError(f"{url} did not answer with a model list (no 'models' array)", base.MALFORMED)
    names = (item.get("name") or item.get("model") for item in models if isinstance(item, dict))
    return [str(name) for name in names if name]
