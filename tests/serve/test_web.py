"""`llmwb web`: the workbench through textual-serve, on loopback only."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.sync.client import ClientConnection, connect

from procs import alive, children
from serve_support import LiveProcess, client
from waiting import poll

APP_START_TIMEOUT_S = 90.0


@pytest.fixture(scope="module")
def web(serve_home: Path) -> Iterator[LiveProcess]:
    server = LiveProcess(serve_home, "web")
    yield server
    server.stop()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "example.com"])
def test_any_non_loopback_host_is_refused_outright(llmwb, host: str) -> None:
    code, err = llmwb("web", "--host", host)
    assert code == 2
    assert "loopback only" in err and host in err


def test_the_page_is_served_and_points_at_its_own_websocket(web: LiveProcess) -> None:
    assert "loopback only" in web.first_line
    with client() as http:
        page = http.get(web.url + "/")
        rebinding = http.get(web.url + "/", headers={"Host": "evil.example"})
        cross_site = http.get(web.url + "/ws", headers={"Origin": "http://evil.example"})
    assert page.status_code == 200
    assert f'ws://{web.url.removeprefix("http://")}/ws' in page.text
    assert rebinding.status_code == 403 and cross_site.status_code == 403


@contextlib.contextmanager
def open_tab(server: LiveProcess) -> Iterator[ClientConnection]:
    """A websocket as the page opens it, handed over once the workbench has drawn its model list."""
    with connect(server.url.replace("http://", "ws://") + "/ws?width=120&height=40", max_size=None) as socket:
        seen = b""
        deadline = time.monotonic() + APP_START_TIMEOUT_S
        while b"demo-fast" not in seen:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"the workbench did not draw its model list: {seen[-500:]!r}"
            message = socket.recv(timeout=remaining)
            seen += message if isinstance(message, bytes) else message.encode()
        assert b"Traceback" not in seen
        yield socket


def test_a_browser_tab_gets_the_real_workbench(web: LiveProcess) -> None:
    """What textual-serve relays over the websocket is the app itself drawing its model list."""
    with open_tab(web):
        pass


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's")
def test_a_tab_does_not_outlive_a_killed_server(serve_home: Path) -> None:
    server = LiveProcess(serve_home, "web")
    try:
        with open_tab(server):
            (app,) = children(server.process.pid)
            os.kill(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=30)
            poll(lambda: not alive(app), "the tab's workbench to exit", 60)
    finally:
        server.stop()

