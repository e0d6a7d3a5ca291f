"""Who may use `llmwb serve`: loopback by default, a token for anything else."""

from __future__ import annotations

from pathlib import Path

import pytest

from serve_support import LiveProcess, client, sse_events

TOKEN = "s3cret-token-for-tests"


@pytest.fixture(scope="module")
def guarded(serve_home: Path):
    server = LiveProcess(serve_home, "serve", "--token", TOKEN)
    yield server
    server.stop()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "example.com"])
def test_a_non_loopback_host_without_token_is_refused_with_exit_2(llmwb, host: str) -> None:
    code, err = llmwb("serve", "--host", host)
    assert code == 2
    assert "--token" in err and host in err


def test_an_empty_token_is_refused(llmwb) -> None:
    code, err = llmwb("serve", "--token", " ")
    assert code == 2 and "--token" in err


def test_with_a_token_every_request_needs_the_bearer_header(guarded: LiveProcess) -> None:
    paths = ["/api/health", "/api/models", "/api/runs", "/", "/pages/debug.html"]
    with client() as anonymous, client("wrong-token") as wrong, client(TOKEN) as right:
        for path in paths:
            missing = anonymous.get(guarded.url + path)
            assert missing.status_code == 401, path
            assert missing.headers["www-authenticate"].startswith("Bearer")
            assert "Bearer" in missing.json()["error"]
            assert wrong.get(guarded.url + path).status_code == 401, path
            assert right.get(guarded.url + path).status_code == 200, path
        refused = anonymous.post(guarded.url + "/api/debug/chat", json={"model_id": "echo", "prompt": "hi"})
        basic = anonymous.get(guarded.url + "/api/health", headers={"Authorization": f"Basic {TOKEN}"})
        with right.stream("POST", guarded.url + "/api/debug/chat", json={"model_id": "echo", "prompt": "a b", "stream": True}) as response:
            events = list(sse_events(response.iter_lines()))
    assert refused.status_code == 401 and basic.status_code == 401
    assert events[-1] == "[DONE]" and events[-2]["final_response"]["content"] == "a b"
