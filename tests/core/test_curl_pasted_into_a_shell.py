"""`as_curl` as a user meets it: pasted into a shell it sends the request llmwb would send,
the key filled in by the shell from the config's variable, the body readable as written."""

from __future__ import annotations

import http.server
import json
import os
import shlex
import shutil
import subprocess
import threading
from collections.abc import Iterator

import pytest

from core.curl import as_curl
from core.request import ChatRequest
from core.store.models import ModelConfig

SECRET = "sk-this-must-never-appear-0123456789"


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[tuple[str, dict[str, str], bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[tuple[str, dict[str, str], bytes]]]]:
    seen: list[tuple[str, dict[str, str], bytes]] = []
    handler = type("Handler", (_Recorder,), {"seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def _body_text(curl: str) -> str:
    words = shlex.split(curl.replace("\\\n", " "))
    return words[words.index("-d") + 1]


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs the curl command")
@pytest.mark.parametrize("provider, key_header", [("openai", "authorization"), ("anthropic", "x-api-key")])
def test_the_pasted_command_sends_the_key_from_the_environment_and_the_body(recorder, provider, key_header) -> None:  # type: ignore[no-untyped-def]
    base_url, seen = recorder
    config = ModelConfig(name="c", provider=provider, model="m-1", api_key_env="LLMWB_PASTED_KEY", base_url=base_url)
    request = ChatRequest.from_prompt("naïve «quotes» it's 你好", system="be brief", stream=False)
    command = as_curl(config, request)
    assert SECRET not in command
    done = subprocess.run(["bash", "-c", command + " -s -o /dev/null"], env={"PATH": os.environ["PATH"], "LLMWB_PASTED_KEY": SECRET},
                          capture_output=True, timeout=30)  # fmt: skip
    assert done.returncode == 0, done.stderr
    (path, headers, body), = seen
    assert path.endswith("/chat/completions" if provider == "openai" else "/messages")
    assert SECRET in headers[key_header]
    assert headers["content-type"] == "application/json"
    sent = json.loads(body)
    assert sent["model"] == "m-1"
    assert "naïve «quotes» it's 你好" in json.dumps(sent, ensure_ascii=False)


def test_the_body_reads_as_written_one_field_a_line() -> None:
    config = ModelConfig(name="o", provider="openai", model="gpt-4o-mini")
    command = as_curl(config, ChatRequest.from_prompt("你好, naïve"))
    assert '-H "Content-Type: application/json"' in command
    body = _body_text(command)
    assert "你好, naïve" in body  # the prompt as typed, not \u escapes
    lines = body.splitlines()
    assert lines[0] == "{" and lines[-1] == "}"
    assert '  "model": "gpt-4o-mini",' in lines  # two spaces a level, as an editor shows JSON


def test_an_anthropic_compatible_server_without_a_key_gets_no_key_header() -> None:
    config = ModelConfig(name="p", provider="anthropic", model="claude-x", base_url="http://127.0.0.1:9/v1")
    command = as_curl(config, ChatRequest.from_prompt("hi"))
    assert "x-api-key" not in command and "None" not in command
    assert '-H "anthropic-version: 2023-06-01"' in command


def test_a_key_variable_no_shell_can_expand_is_a_placeholder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("my-key.prod", SECRET)
    config = ModelConfig(name="o", provider="openai", model="m", api_key_env="my-key.prod")
    command = as_curl(config, ChatRequest.from_prompt("hi"))
    assert SECRET not in command and "my-key.prod" not in command
    assert '-H "Authorization: Bearer $API_KEY"' in command
