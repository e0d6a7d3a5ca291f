"""`llmwb web`: the whole workbench in a browser, through textual-serve.

Each browser tab starts its own `llmwb` process on this machine, with this
environment's keys, so it is served on loopback only and refuses requests a
browser makes on behalf of another site: a `Host` that is not a loopback name
(DNS rebinding) or an `Origin` other than the page's own (cross-site WebSocket).
"""

from __future__ import annotations

import asyncio
import shlex
import signal
import socket
import sys
from typing import Any, Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web
from textual_serve.server import Server

from tui.serve.guard import is_loopback

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def workbench_command(verbose: bool) -> str:
    """The shell command textual-serve runs per browser tab: this interpreter's llmwb.
    `exec`, so the app is the server's own child and dies with it (see tui.serve.tab)."""
    argv = ["--verbose"] if verbose else []
    return "exec " + shlex.join([sys.executable, "-m", "tui.serve.tab", *argv])


@web.middleware
async def same_machine_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    hostname = urlsplit(f"//{request.host}").hostname or ""
    if not is_loopback(hostname):
        raise web.HTTPForbidden(text=f"Host {request.host!r} refused: llmwb web answers on loopback names only")
    origin = request.headers.get("Origin")
    if origin is not None and urlsplit(origin).netloc.lower() != request.host.lower():
        raise web.HTTPForbidden(text=f"cross-origin request from {origin} refused")
    return await handler(request)


class WorkbenchServer(Server):
    """textual-serve's server, guarded, on a socket bound beforehand (so port 0 works
    and the printed address is the real one)."""

    def __init__(self, sock: socket.socket, *, verbose: bool) -> None:
        host, port = sock.getsockname()[:2]
        url_host = f"[{host}]" if ":" in host else host
        super().__init__(workbench_command(verbose), host=host, port=port, title="llmwb",
                         public_url=f"http://{url_host}:{port}")  # fmt: skip
        self._sock = sock

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(same_machine_only)
        return app

    def serve(self, debug: bool = False) -> None:
        self.debug = debug
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self.request_exit)
        web.run_app(self._make_app(), sock=self._sock, handle_signals=False, loop=loop, print=_quiet)


def _quiet(*_args: Any) -> None:
    """aiohttp's own start banner: textual-serve prints the address already."""
