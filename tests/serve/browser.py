"""A headless Chromium driven through its DevTools protocol: just enough of it to open
a page, type, click, read the DOM and take a screenshot, as a person would."""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import urllib.request
from pathlib import Path
from typing import Any, Callable

import pytest
from websockets.sync.client import ClientConnection, connect

from procs import end
from waiting import poll

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-proxy-server", "--remote-debugging-port=0", "--window-size=1280,1000",
)  # fmt: skip
START_TIMEOUT_S = 60.0


def find_browser() -> str:
    """The Chromium to drive; a skip with the reason when there is none (a failure under CI)."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    reason = "no Chromium found (apt-get install chromium); .ci/run installs it"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


class _DevTools:
    """One DevTools websocket (the browser's own, or a tab's) and its command ids."""

    def __init__(self, url: str) -> None:
        self._connection = contextlib.ExitStack()  # websockets wants its connect() entered
        self._socket: ClientConnection = self._connection.enter_context(connect(url, max_size=None))
        self._ids = itertools.count(1)

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """One DevTools command; events that arrive meanwhile are not needed here and dropped."""
        command_id = next(self._ids)
        self._socket.send(json.dumps({"id": command_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._socket.recv(timeout=START_TIMEOUT_S))
            if message.get("id") == command_id:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                return message.get("result", {})

    def close(self) -> None:
        self._connection.close()


class Chromium:
    """One headless Chromium process, shared by a test module: starting one costs about a
    second of CPU. Each test gets its own tab in a browser context of its own (`tab`), so
    no cookie, storage or cache outlives the test that made it, as with a fresh profile."""

    def __init__(self, executable: str, profile: Path) -> None:
        self._log = open(profile.parent / "chromium.log", "wb")
        self.process = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
        )  # fmt: skip
        try:
            port_file = profile / "DevToolsActivePort"
            self._port = poll(lambda: _read_port(port_file), "Chromium's DevTools port", START_TIMEOUT_S)
            self._browser = _DevTools(_browser_socket_url(self._port))
        except BaseException:
            self.close()
            raise

    def tab(self) -> Browser:
        context = self._browser.send("Target.createBrowserContext")["browserContextId"]
        target = self._browser.send("Target.createTarget", url="about:blank", browserContextId=context)["targetId"]
        page = _DevTools(f"ws://127.0.0.1:{self._port}/devtools/page/{target}")
        return Browser(page, lambda: self._browser.send("Target.disposeBrowserContext", browserContextId=context))

    def close(self) -> None:
        if getattr(self, "_browser", None) is not None:
            self._browser.close()
        end(self.process)
        self._log.close()


class Browser:
    """A tab: what a person does on a page, through its DevTools socket."""

    def __init__(self, page: _DevTools, dispose: Callable[[], object]) -> None:
        self._page = page
        self._dispose = dispose
        self.send = page.send

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url: str) -> None:
        self.send("Page.enable")
        self.send("Page.navigate", url=url)

    def click(self, selector: str) -> None:
        """A real mouse click at the middle of the element."""
        box = self.evaluate(
            f"(() => {{ const r = document.querySelector({json.dumps(selector)}).getBoundingClientRect();"
            " return {x: r.x + r.width / 2, y: r.y + r.height / 2}; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=box["x"], y=box["y"], button="left", clickCount=1)

    def type_into(self, selector: str, text: str) -> None:
        """Focus the field, select what it holds, and type over it."""
        self.evaluate(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); e.focus(); e.select(); }})()")
        self.send("Input.insertText", text=text)

    def screenshot(self, *paths: Path) -> None:
        data = base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"])
        for path in paths:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

    def close(self) -> None:
        """Closes the tab with its context (its cookies, storage and cache)."""
        self._page.close()
        self._dispose()


def _read_port(port_file: Path) -> int | None:
    try:
        first = port_file.read_text().splitlines()[0]
    except (OSError, IndexError):
        return None
    return int(first) if first.isdigit() else None


def _browser_socket_url(port: int) -> str:
    no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with no_proxy.open(f"http://127.0.0.1:{port}/json/version", timeout=10) as response:
        return json.load(response)["webSocketDebuggerUrl"]
