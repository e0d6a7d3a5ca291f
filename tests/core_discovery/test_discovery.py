"""core.discovery.list_models against real loopback servers: what "test connection" reports."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from core.discovery import ANTHROPIC_VERSION, list_models
from core.providers import base
from core.providers.base import ProviderError
from core.store.models import ModelConfig


@dataclass
class Reply:
    status: int = 200
    body: object = field(default_factory=dict)  # dict/list: sent as JSON; str: sent as is
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class SeenRequest:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


class CannedServer:
    """A loopback HTTP/1.1 server answering GETs with canned replies (by path), recording each request.
    A list of replies is served one per request, in order; None gets no answer at all."""

    def __init__(self) -> None:
        self.routes: dict[str, Reply | list[Reply] | None] = {}
        self.seen: list[SeenRequest] = []
        self._server: asyncio.Server | None = None
        self._hung: list[asyncio.StreamWriter] = []

    @property
    def root_url(self) -> str:
        assert self._server is not None
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def stop(self) -> None:
        for writer in self._hung:
            writer.close()
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        target = request_line.split(" ")[1]
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in header_lines if line)}
        parts = urlsplit(target)
        self.seen.append(SeenRequest(parts.path, parse_qs(parts.query), headers))
        reply = self.routes.get(parts.path, Reply(404, {"error": {"message": f"no route {parts.path}"}}))
        if isinstance(reply, list):
            reply = reply.pop(0)
        if reply is None:
            self._hung.append(writer)
            return
        body = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
        data = body.encode()
        extra = "".join(f"{k}: {v}\r\n" for k, v in reply.headers.items())
        writer.write(
            f"HTTP/1.1 {reply.status} X\r\ncontent-type: application/json\r\ncontent-length: {len(data)}\r\n"
            f"connection: close\r\n{extra}\r\n".encode() + data
        )
        await writer.drain()
        writer.close()


def openai_list(*ids: str) -> dict:
    return {"object": "list", "data": [{"id": i, "object": "model", "owned_by": "x"} for i in ids]}


def config(provider: str, base_url: str | None, **extra) -> ModelConfig:  # type: ignore[no-untyped-def]
    return ModelConfig(name="probe", provider=provider, model="m", base_url=base_url, **extra)


async def test_openai_compatible_lists_ids_and_sends_the_key_as_bearer(canned, monkeypatch) -> None:
    monkeypatch.setenv("PROBE_KEY", "sk-test-123")
    canned.routes["/v1/models"] = Reply(body=openai_list("llama3.2:3b", "qwen2.5:7b"))
    ids = await list_models(config("openai-compatible", canned.root_url + "/v1", api_key_env="PROBE_KEY"))
    assert ids == ["llama3.2:3b", "qwen2.5:7b"]
    assert canned.seen[0].headers["authorization"] == "Bearer sk-test-123"


async def test_local_kind_without_key_sends_no_authorization(canned) -> None:
    canned.routes["/v1/models"] = Reply(body=openai_list("gemma3"))
    assert await list_models(config("ollama", canned.root_url + "/v1")) == ["gemma3"]
    assert "authorization" not in canned.seen[0].headers


async def test_anthropic_uses_its_headers_and_root_path_and_follows_pages(canned, monkeypatch) -> None:
    monkeypatch.setenv("PROBE_KEY", "sk-ant-test")
    canned.routes["/v1/models"] = [
        Reply(body={"data": [{"type": "model", "id": "claude-a"}], "has_more": True, "last_id": "claude-a"}),
        Reply(body={"data": [{"type": "model", "id": "claude-b"}], "has_more": False, "last_id": "claude-b"}),
    ]
    # A base URL copied with /v1 on the end still reaches {root}/v1/models.
    ids = await list_models(config("anthropic", canned.root_url + "/v1", api_key_env="PROBE_KEY"))
    assert ids == ["claude-a", "claude-b"]
    first, second = canned.seen
    assert first.path == "/v1/models"
    assert first.headers["x-api-key"] == "sk-ant-test"
    assert first.headers["anthropic-version"] == ANTHROPIC_VERSION
    assert "authorization" not in first.headers
    assert second.query["after_id"] == ["claude-a"]


async def test_401_reads_like_a_run_error(canned, monkeypatch) -> None:
    monkeypatch.setenv("PROBE_KEY", "wrong")
    canned.routes["/v1/models"] = Reply(401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}})
    with pytest.raises(ProviderError) as caught:
        await list_models(config("openai", canned.root_url + "/v1", api_key_env="PROBE_KEY"))
    error = caught.value
    assert error.error_type == base.AUTH
    assert error.http_status == 401
    assert error.message == "HTTP 401 authentication failed: Incorrect API key provided (check the API key)"


async def test_429_keeps_the_retry_hint(canned) -> None:
    canned.routes["/v1/models"] = Reply(429, {"error": {"message": "slow down"}}, {"retry-after": "7"})
    with pytest.raises(ProviderError) as caught:
        await list_models(config("vllm", canned.root_url + "/v1"))
    assert caught.value.error_type == base.RATE_LIMIT
    assert caught.value.retry_after == "7"
    assert caught.value.message == "HTTP 429 rate limited: slow down (retry after 7 s)"


async def test_a_reply_that_is_not_a_model_list_is_malformed(canned) -> None:
    canned.routes["/v1/models"] = Reply(200, "<html>captive portal</html>")
    with pytest.raises(ProviderError) as caught:
        await list_models(config("lmstudio", canned.root_url + "/v1"))
    assert caught.value.error_type == base.MALFORMED
    assert "did not answer with a JSON model list" in caught.value.message


async def test_connection_refused_says_cannot_connect() -> None:
    with socket.socket() as sock:  # bound, never listening: refused, and the port stays ours
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        with pytest.raises(ProviderError) as caught:
            await list_models(config("llamacpp", f"http://127.0.0.1:{port}/v1"))
    assert caught.value.error_type == base.CONNECTION
    assert caught.value.message.startswith(f"cannot connect to http://127.0.0.1:{port}/v1/models: ")


async def test_a_server_whose_certificate_the_system_does_not_trust_is_refused() -> None:
    # The listing shares the process's TLS context: it must still be one that verifies.
    tls_dir = Path(__file__).parent.parent / "core" / "tls"  # a self-signed certificate for 127.0.0.1
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls_dir / "cert.pem", tls_dir / "key.pem")

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()  # the handshake never succeeds; nothing to answer

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(ProviderError) as caught:
            await list_models(config("llamacpp", f"https://127.0.0.1:{port}/v1"))
    finally:
        server.close()
        await server.wait_closed()
    assert caught.value.error_type == base.CONNECTION
    assert "CERTIFICATE_VERIFY_FAILED" in caught.value.message


async def test_no_answer_times_out_after_the_config_timeout(canned) -> None:
    canned.routes["/v1/models"] = None
    with pytest.raises(ProviderError) as caught:
        await list_models(config("openai-compatible", canned.root_url + "/v1", timeout=0.2))
    assert caught.value.error_type == base.TIMEOUT
    assert caught.value.message == f"timed out talking to {canned.root_url}/v1/models (no response within 0.2 s)"


async def test_missing_key_fails_before_any_request(canned, monkeypatch) -> None:
    monkeypatch.delenv("PROBE_ABSENT_KEY", raising=False)
    with pytest.raises(ProviderError) as caught:
        await list_models(config("openai", canned.root_url + "/v1", api_key_env="PROBE_ABSENT_KEY"))
    assert caught.value.error_type == base.MISSING_KEY
    assert "PROBE_ABSENT_KEY" in caught.value.message
    assert canned.seen == []


async def test_unknown_provider_kind_is_a_clear_error() -> None:
    with pytest.raises(ProviderError) as caught:
        await list_models(config("nonsense", "http://127.0.0.1:9/v1"))
    assert caught.value.error_type == base.BAD_REQUEST
    assert "unknown provider kind 'nonsense'" in caught.value.message


@pytest.mark.parametrize("scenario", ["demo-fast", "demo-claude"])  # OpenAI and Anthropic protocol
async def test_simulator_lists_its_scenarios(simulator, scenario) -> None:
    base_url = simulator.root_url + ("/v1" if scenario == "demo-fast" else "")
    ids = await list_models(ModelConfig(name=scenario, provider="simulator", model=scenario, base_url=base_url))
    assert {"demo-fast", "demo-claude", "fault-429", "echo"} <= set(ids)


async def test_simulator_without_base_url_asks_the_embedded_one() -> None:
    from core.simulator.embedded import shutdown_embedded

    try:
        ids = await list_models(ModelConfig(name="demo-fast", provider="simulator", model="demo-fast"))
    finally:
        shutdown_embedded()
    assert "demo-fast" in ids
