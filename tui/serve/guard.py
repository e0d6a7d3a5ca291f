"""Who may talk to `llmwb serve`: a pure ASGI middleware, so streaming and
client disconnects pass through it untouched.

- With a token, every request needs `Authorization: Bearer <token>` (compared in
  constant time).
- On a loopback address, the `Host` header must name this machine too: a web page
  whose domain resolves to 127.0.0.1 (DNS rebinding) must not reach an API that
  spends the keys in this environment.
- A request a browser sends from another origin (its `Origin` differs from the
  `Host`) is refused: a page on another site cannot start runs here.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from typing import Any, Awaitable, Callable
from urllib.parse import urlsplit

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class Guard:
    def __init__(self, app: ASGIApp, *, token: str | None, loopback_only_hosts: bool) -> None:
        self.app = app
        self._token = token.encode() if token else None
        self._loopback_only_hosts = loopback_only_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        refusal = self._refusal(headers)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        status, message, extra = refusal
        body = json.dumps({"error": message, "status": "error"}).encode()
        await send({
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra],
        })  # fmt: skip
        await send({"type": "http.response.body", "body": body})

    def _refusal(self, headers: dict[str, str]) -> tuple[int, str, list[tuple[bytes, bytes]]] | None:
        host = headers.get("host", "")
        if self._loopback_only_hosts and not is_loopback(_hostname(host)):
            return 403, f"Host {host!r} refused: this server answers on loopback names only", []
        origin = headers.get("origin")
        if origin is not None and urlsplit(origin).netloc.lower() != host.lower():
            return 403, f"cross-origin request from {origin} refused", []
        if self._token is not None:
            scheme, _, given = headers.get("authorization", "").partition(" ")
            # compare_digest takes as long for a near miss as for a wild guess
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), self._token):
                return 401, "missing or wrong token: send 'Authorization: Bearer <token>'", [
                    (b"www-authenticate", b'Bearer realm="llmwb"')
                ]
        return None


def is_loopback(host: str) -> bool:
    """`localhost`, or an address in 127.0.0.0/8 or ::1."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _hostname(host_header: str) -> str:
    """`127.0.0.1:8000` → `127.0.0.1`, `[::1]:8000` → `::1`."""
    return (urlsplit(f"//{host_header}").hostname or "").lower()
