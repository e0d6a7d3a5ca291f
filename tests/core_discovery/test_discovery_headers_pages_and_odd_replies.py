""""Test connection" (core.discovery.list_models) against loopback servers, past the happy
path: the key an Ollama server is sent, Anthropic's page size, a base URL ending in `/`, a
redirect never followed, and replies that are not a model list — each error naming the URL."""

from __future__ import annotations

import asyncio

import pytest
from test_discovery import Reply, config, openai_list

from core.discovery import list_models
from core.providers import base
from core.providers.base import ProviderError


class RawServer:
    """A loopback server answering every connection with the same raw bytes (none: it hangs up)."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(self.answer)
        await writer.drain()
        writer.close()


async def _error(model_config) -> ProviderError:  # type: ignore[no-untyped-def]
    with pytest.raises(ProviderError) as caught:
        await list_models(model_config)
    return caught.value


async def test_an_ollama_server_gets_the_key_only_when_the_config_names_one(canned, monkeypatch) -> None:
    monkeypatch.setenv("PROBE_KEY", "ollama-secret")
    canned.routes["/api/tags"] = [Reply(body={"models": [{"name": "qwen:latest"}]})] * 2
    assert await list_models(config("ollama-native", canned.root_url, api_key_env="PROBE_KEY")) == ["qwen:latest"]
    assert await list_models(config("ollama-native", canned.root_url)) == ["qwen:latest"]
    keyed, keyless = canned.seen
    assert keyed.headers["authorization"] == "Bearer ollama-secret"
    assert "authorization" not in keyless.headers


async def test_ollama_names_come_from_name_or_else_model(canned) -> None:
    canned.routes["/api/tags"] = Reply(body={"models": [
        {"name": "a:latest", "model": "ignored"}, {"model": "b:latest"}, {"name": "", "model": "c:7b"},
        "junk", {}, {"name": None},
    ]})  # fmt: skip
    assert await list_models(config("ollama-native", canned.root_url)) == ["a:latest", "b:latest", "c:7b"]


async def test_entries_that_are_not_models_are_skipped(canned) -> None:
    body = openai_list("gpt-a")
    body["data"] += ["gpt-as-a-string", {"object": "model"}, {"id": ""}, {"id": 7}]
    canned.routes["/v1/models"] = Reply(body=body)
    assert await list_models(config("openai-compatible", canned.root_url + "/v1")) == ["gpt-a", "7"]


async def test_anthropic_asks_for_its_largest_page_each_time(canned) -> None:
    canned.routes["/v1/models"] = [
        Reply(body={"data": [{"id": "claude-a"}], "has_more": True, "last_id": "claude-a"}),
        Reply(body={"data": [{"id": "claude-b"}], "has_more": False}),
    ]
    assert await list_models(config("anthropic", canned.root_url)) == ["claude-a", "claude-b"]
    # 1000 is the most the Models API gives per page: an account's list in one request
    assert [seen.query for seen in canned.seen] == [{"limit": ["1000"]}, {"limit": ["1000"], "after_id": ["claude-a"]}]


async def test_a_base_url_ending_in_a_slash_still_reaches_the_list(canned) -> None:
    canned.routes["/v1/models"] = Reply(body=openai_list("m1"))
    assert await list_models(config("vllm", canned.root_url + "/v1/")) == ["m1"]
    assert [seen.path for seen in canned.seen] == ["/v1/models"]


@pytest.mark.parametrize("status", [300, 301, 307])
async def test_a_redirect_is_not_followed_and_names_its_target(canned, monkeypatch, status) -> None:
    monkeypatch.setenv("PROBE_KEY", "sk-test")
    canned.routes["/v1/models"] = Reply(status, openai_list("m1"), {"location": "/elsewhere/v1/models"})
    canned.routes["/elsewhere/v1/models"] = Reply(body=openai_list("m2"))
    error = await _error(config("openai", canned.root_url + "/v1", api_key_env="PROBE_KEY"))
    assert (error.error_type, error.http_status) == (base.REDIRECT, status)
    assert error.message.startswith(f"HTTP {status} redirect to {canned.root_url}/elsewhere/v1/models: not followed")
    assert [seen.path for seen in canned.seen] == ["/v1/models"]  # the key went nowhere else


@pytest.mark.parametrize("provider, path, words", [
    ("openai-compatible", "/v1/models", "no 'data' array"),
    ("anthropic", "/v1/models", "no 'data' array"),
    ("ollama-native", "/api/tags", "no 'models' array"),
])  # fmt: skip
async def test_a_json_reply_without_the_list_names_the_url(canned, provider, path, words) -> None:
    canned.routes[path] = Reply(body={"object": "list", "items": []})
    root = canned.root_url + ("/v1" if provider == "openai-compatible" else "")
    error = await _error(config(provider, root))
    assert error.error_type == base.MALFORMED
    assert error.message == f"{canned.root_url}{path} did not answer with a model list ({words})"


async def test_a_json_reply_that_is_not_an_object_keeps_its_status(canned) -> None:
    canned.routes["/v1/models"] = Reply(body=["gpt-a", "gpt-b"])
    error = await _error(config("lmstudio", canned.root_url + "/v1"))
    assert (error.error_type, error.http_status) == (base.MALFORMED, 200)
    assert error.message == f"{canned.root_url}/v1/models did not answer with a JSON model list"


async def test_an_error_page_that_is_not_utf8_is_still_one_clear_error() -> None:
    page = b"<h1>Erreur interne \xe9\xff</h1>"
    answer = b"HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/html\r\ncontent-length: %d\r\n\r\n%s" % (len(page), page)
    async with RawServer(answer) as root:
        error = await _error(config("openai-compatible", root + "/v1"))
    assert (error.error_type, error.http_status) == (base.SERVER, 502)
    assert error.message.startswith("HTTP 502 server error: ") and "Erreur interne" in error.message


async def test_a_server_that_hangs_up_without_answering_says_so(monkeypatch) -> None:
    async with RawServer(b"") as root:
        error = await _error(config("llamacpp", root + "/v1"))
    assert error.error_type == base.CONNECTION
    assert error.message == f"cannot connect to {root}/v1/models: Server disconnected without sending a response."
