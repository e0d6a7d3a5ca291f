"""`llmwb run` against a hostile server: one line and an exit code, no traceback, and
the run saved — the way a user meets these servers."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator

import pytest
from hostile_kit import HostileServer, answer, send
from inprocess_cli import forget_log_handlers, invoke

from core.store import Store


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMWB_HOME", str(tmp_path))
    yield tmp_path
    forget_log_handlers()


def serve_in_thread(data: bytes) -> Iterator[str]:
    """A HostileServer on its own loop and thread (the CLI runs its own event loop)."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    server = HostileServer(send(data))
    stop = asyncio.Event()

    async def serve() -> None:
        async with server:
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield server.root_url
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()


def llmwb(capsys, *argv: str) -> tuple[int, str, str]:
    result = invoke(capsys, *argv)
    return result.code, result.out, result.err


@pytest.mark.parametrize("raw_usage", ['{"completion_tokens": "12"}', '{"completion_tokens": {"n": 1}}', '"lots"'])
def test_run_with_unusable_usage_prints_the_answer_and_says_so(home, capsys, raw_usage):
    for root in serve_in_thread(answer("kept answer", raw_usage=raw_usage)):
        code, _, err = llmwb(capsys, "models", "add", "bad", "--provider", "openai-compatible", "--model", "m",
                             "--base-url", root + "/v1", "--param", "max_retries=0")  # fmt: skip
        assert code == 0, err
        code, out, err = llmwb(capsys, "run", "--model", "bad", "--prompt", "go")
        assert code == 0 and "Traceback" not in out + err
        assert "kept answer" in out
        assert "the server's usage was unusable" in out + err
        code, out, err = llmwb(capsys, "run", "--model", "bad", "--prompt", "go", "--json")
        finished = json.loads(out.splitlines()[-1])
        assert "unusable" in finished["metrics"]["usage_note"]
    runs = Store().list_runs()
    assert [run.status for run in runs] == ["ok", "ok"]


def test_run_against_an_html_page_fails_with_one_line(home, capsys):
    page = b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html><body>login</body></html>"
    for root in serve_in_thread(page):
        llmwb(capsys, "models", "add", "portal", "--provider", "openai-compatible", "--model", "m",
              "--base-url", root + "/v1", "--param", "max_retries=0")  # fmt: skip
        code, out, err = llmwb(capsys, "run", "--model", "portal", "--prompt", "go")
    assert code != 0 and "Traceback" not in out + err
    assert "the server answered with text/html, not an event stream: <html><body>login</body></html>" in err
    [run] = Store().list_runs()
    assert run.status == "error" and run.error_type == "malformed_chunk"
