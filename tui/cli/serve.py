"""`llmwb serve`: the debug HTTP API (`POST /api/debug/chat` …) and the debug page.

It uses the same data dir and model configs as the app; every call is saved as a run.
It listens on 127.0.0.1 unless told otherwise; any other address needs `--token`,
and then every request must carry `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import argparse
import socket
import sys

from core.collector import paused_for_start_up
from tui.cli import EXIT_FAILED, EXIT_OK, UsageError
from tui.cli.common import open_store, port_number

DEFAULT_PORT = 8000


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "serve", help="serve the debug HTTP API and page", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=port_number, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks a free one)"
    )
    parser.add_argument("--token", help="require 'Authorization: Bearer TOKEN' on every request (needed off loopback)")


def handle(args: argparse.Namespace) -> int:
    from tui.serve.guard import is_loopback

    loopback = is_loopback(args.host)
    if args.token is not None and not args.token.strip():
        raise UsageError("--token must not be empty")
    if not loopback and not args.token:
        raise UsageError(
            f"refusing to listen on {args.host} without --token: the API spends the keys in this environment;"
            " give --token TOKEN (clients send 'Authorization: Bearer TOKEN'), or keep the default 127.0.0.1"
        )
    with paused_for_start_up():
        store = open_store()
        try:
            sock = _listen(args.host, args.port)
        except OSError as error:
            print(f"llmwb serve: cannot listen on {args.host}:{args.port}: {error.strerror or error}", file=sys.stderr)
            return EXIT_FAILED

        import uvicorn

        from tui.serve.app import create_app

        app = create_app(store, token=args.token, loopback_only_hosts=loopback)
    host, port = sock.getsockname()[:2]
    url = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
    print(f"llmwb serve on {url}  (debug page: {url}/, API: {url}/api/debug/chat)", flush=True)
    if args.token:
        print("every request needs 'Authorization: Bearer <token>'", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="info", timeout_graceful_shutdown=3))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    return EXIT_OK


def _listen(host: str, port: int) -> socket.socket:
    """Bound before uvicorn starts, so the address printed is the real one (port 0 included)."""
    return socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
