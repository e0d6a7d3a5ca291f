"""`llmwb web`: the full workbench in a browser (textual-serve), on this machine only.

Every browser tab runs its own llmwb with this environment's keys, so it listens
on a loopback address only (there is no --host): to use it from elsewhere, tunnel
the port (`ssh -L 8001:127.0.0.1:8001 this-machine`).
"""

from __future__ import annotations

import argparse
import socket
import sys

from core.collector import paused_for_start_up
from tui.cli import EXIT_FAILED, EXIT_OK, UsageError
from tui.cli.common import open_store, port_number

DEFAULT_PORT = 8001


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "web", help="the workbench in a browser (loopback only)", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument(
        "--port", type=port_number, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks a free one)"
    )
    parser.add_argument(
        "--host", default="127.0.0.1",
        help="a loopback address (default 127.0.0.1); anything else is refused: each tab runs llmwb with your keys",
    )  # fmt: skip


def handle(args: argparse.Namespace) -> int:
    from tui.serve.guard import is_loopback

    if not is_loopback(args.host):
        raise UsageError(
            f"refusing to serve the workbench on {args.host}: llmwb web is loopback only"
            " (each tab runs llmwb with this environment's keys); tunnel the port instead:"
            f" ssh -L {args.port or DEFAULT_PORT}:127.0.0.1:{args.port or DEFAULT_PORT} this-machine"
        )
    with paused_for_start_up():
        open_store()  # a broken database is reported here, not inside every browser tab
        try:
            family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
            sock = socket.create_server((args.host, args.port), family=family)
        except OSError as error:
            print(f"llmwb web: cannot listen on {args.host}:{args.port}: {error.strerror or error}", file=sys.stderr)
            return EXIT_FAILED

        from tui.serve.web import WorkbenchServer

        server = WorkbenchServer(sock, verbose=args.verbose)
    print(f"llmwb web on {server.public_url}  (loopback only; Ctrl-C to stop)", flush=True)
    server.serve()
    return EXIT_OK
