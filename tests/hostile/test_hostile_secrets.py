"""Keys stay where they belong: no redirect carries one to another origin, OpenAI's
account ids go only to OpenAI, and a key value from the environment is scrubbed
from everything a run keeps or shows, even when the server echoes it back."""

from __future__ import annotations

import pytest
from hostile_kit import (
    HostileServer,
    anthropic_config,
    openai_chunk,
    openai_config,
    run_to_end,
    saved_row,
    send,
    sse,
    whole,
)

from core.discovery import list_models
from core.providers.base import ProviderError

KEY = "sk-hostile-test-0123456789abcdef"
OTHER_SECRET = "tok-unrelated-but-secret-42"


def redirect_to(target: str) -> bytes:
    return whole(302, b"", "text/plain", location=target + "/v1/chat/completions")


@pytest.fixture
def key_env(monkeypatch):
    monkeypatch.setenv("HOSTILE_KEY", KEY)
    return "HOSTILE_KEY"


@pytest.mark.parametrize("make_config", [openai_config, anthropic_config])
async def test_a_run_follows_no_redirect_and_names_its_target(store, key_env, make_config):
    async with HostileServer() as elsewhere:
        async with HostileServer(send(redirect_to(elsewhere.root_url))) as server:
            outcome = await run_to_end(make_config(server.root_url, api_key_env=key_env), store=store)
    failure = outcome.last
    assert failure.error_type == "redirect" and failure.http_status == 302
    assert f"redirect to {elsewhere.root_url}/v1/chat/completions: not followed" in failure.error
    assert elsewhere.received == []  # the key never left for the other host
    saved_row(store, outcome)


@pytest.mark.parametrize("make_config", [openai_config, anthropic_config])
async def test_test_connection_follows_no_redirect(key_env, make_config):
    async with HostileServer() as elsewhere:
        async with HostileServer(send(redirect_to(elsewhere.root_url))) as server:
            with pytest.raises(ProviderError) as raised:
                await list_models(make_config(server.root_url, api_key_env=key_env))
            [asked] = server.received
    assert raised.value.error_type == "redirect" and elsewhere.received == []
    # the request that was made did carry the key: the redirect is what was refused
    assert KEY in asked.headers.get("x-api-key", "") + asked.headers.get("authorization", "")


async def test_openai_account_ids_go_only_to_openai(store, monkeypatch):
    monkeypatch.setenv("OPENAI_ORG_ID", "org-private")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj_private")
    async with HostileServer(send(sse(openai_chunk("hi", "stop"), "[DONE]"))) as server:
        await run_to_end(openai_config(server.root_url), store=store)
        [request] = server.received
    assert "org-private" not in request.head and "proj_private" not in request.head


async def test_a_key_echoed_in_an_error_body_is_scrubbed_everywhere(store, key_env):
    echo = b'{"error": {"message": "bad key: Authorization: Bearer ' + KEY.encode() + b'", "key": "' + KEY.encode() + b'"}}'
    async with HostileServer(send(whole(401, echo))) as server:
        outcome = await run_to_end(openai_config(server.root_url, api_key_env=key_env), store=store)
    failure = outcome.last
    assert failure.error_type == "auth"
    row = saved_row(store, outcome)
    kept = [failure.error, row.error, *outcome.wire, *(f.data for f in store.get_frames(row.id))]
    assert kept[-1].count("[REDACTED]") == 2 and "bad key" in kept[-1]  # the keys replaced, the rest kept
    assert all(KEY not in text for text in kept)


async def test_a_secret_in_a_streamed_answer_is_scrubbed_from_frames_and_response(store, monkeypatch):
    monkeypatch.setenv("SOME_SERVICE_TOKEN", OTHER_SECRET)
    body = sse(openai_chunk(f"the token is {OTHER_SECRET}."), openai_chunk(finish="stop"), "[DONE]")
    async with HostileServer(send(body)) as server:
        outcome = await run_to_end(openai_config(server.root_url), f"repeat {OTHER_SECRET}", store=store)
    assert outcome.response["content"] == "the token is [REDACTED]."
    row = saved_row(store, outcome)
    stored = [row.response["content"], str(row.request), *(f.data for f in store.get_frames(row.id)), *outcome.wire]
    assert all(OTHER_SECRET not in text for text in stored)


async def test_short_or_path_like_values_are_not_scrubbed(store, monkeypatch):
    """A value too short to be a key, or a path, would blank ordinary text."""
    monkeypatch.setenv("DEBUG_TOKEN", "yes")
    monkeypatch.setenv("SSH_KEY", "/home/user/.ssh/id_ed25519")
    body = sse(openai_chunk("yes, /home/user/.ssh/id_ed25519"), openai_chunk(finish="stop"), "[DONE]")
    async with HostileServer(send(body)) as server:
        outcome = await run_to_end(openai_config(server.root_url), store=store)
    assert outcome.response["content"] == "yes, /home/user/.ssh/id_ed25519"


async def test_the_log_and_the_run_share_one_redaction(monkeypatch):
    from core.redact import redact as core_redact
    from tui.logsetup import redact as log_redact

    monkeypatch.setenv("HOSTILE_API_KEY", KEY)
    core_redact("warm")  # the scan that sees the new variable
    line = f"x-api-key: {KEY} and {KEY}"
    assert log_redact(line) == core_redact(line) and KEY not in core_redact(line)


async def test_the_key_a_config_names_is_scrubbed_whatever_the_variable_is_called(store, monkeypatch):
    monkeypatch.setenv("ACME_CREDENTIAL", "acme-9f8e7d6c5b4a")  # a name that does not look like a key
    body = sse(openai_chunk("you sent acme-9f8e7d6c5b4a"), openai_chunk(finish="stop"), "[DONE]")
    async with HostileServer(send(body)) as server:
        outcome = await run_to_end(openai_config(server.root_url, api_key_env="ACME_CREDENTIAL"), store=store)
        [request] = server.received
    assert "acme-9f8e7d6c5b4a" in request.headers["authorization"]  # sent where it belongs
    assert outcome.response["content"] == "you sent [REDACTED]"
    row = saved_row(store, outcome)
    assert all("acme-9f8e7d6c5b4a" not in f.data for f in store.get_frames(row.id))
