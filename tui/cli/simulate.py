"""`llmwb simulate`: serve the scripted OpenAI/Anthropic-compatible simulator until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tui.cli.common import port_number

if TYPE_CHECKING:
    from core.simulator.server import RecordedExchange

DEFAULT_PORT = 8765
DEFAULT_KEEP = 100
# The server's own defaults, repeated in --help; importing them would load the
# simulator (and orjson) for every CLI start.
IDLE_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 10.0
MAX_BODY_BYTES = 32 * 1024 * 1024
LOOPBACK_NAMES = ("localhost",)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "simulate",
        help="serve scripted OpenAI- and Anthropic-compatible endpoints",
        description=(
            "Serve the built-in scripted LLM simulator. The request's `model` picks a scenario; "
            "every scenario answers on POST /v1/chat/completions (OpenAI), POST /v1/messages "
            "(Anthropic) and POST /api/chat (Ollama, NDJSON); GET /v1/models and GET /api/tags list them."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=port_number, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks a free one)")
    parser.add_argument(
        "--scenario-dir",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="extra scenario files (*.yaml, *.yml, *.json); repeatable; same name overrides a built-in",
    )
    parser.add_argument("--quiet", action="store_true", help="do not print a line per request")
    parser.add_argument(
        "--keep", type=_positive_int, default=DEFAULT_KEEP, metavar="N",
        help=f"requests remembered (facts and timings, never frames; default {DEFAULT_KEEP})",
    )  # fmt: skip
    parser.add_argument(
        "--idle-timeout", type=_positive_float, default=IDLE_TIMEOUT_S, metavar="S",
        help=f"drop a connection that sends nothing for S seconds between requests (default {IDLE_TIMEOUT_S:g})",
    )  # fmt: skip
    parser.add_argument(
        "--request-timeout", type=_positive_float, default=REQUEST_TIMEOUT_S, metavar="S",
        help=f"answer 408 to a request not fully received within S seconds (default {REQUEST_TIMEOUT_S:g})",
    )  # fmt: skip
    parser.add_argument(
        "--max-body-mb", type=_positive_float, default=MAX_BODY_BYTES / 2**20, metavar="MB",
        help=f"answer 413 to a request body over MB megabytes (default {MAX_BODY_BYTES // 2**20})",
    )  # fmt: skip


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text}: a whole number > 0")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text}: a number > 0")
    return value


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _describe(exchange: RecordedExchange) -> str:
    """One log line per request, e.g. `12:00:01  POST  /v1/chat/completions  200  demo-fast  stream  201 chunks
    3190 ms  first content +150.2 ms after head  max gap 15.4 ms`."""
    took_ms = ((exchange.completed_at or exchange.received_at) - exchange.received_at) * 1000
    parts = [time.strftime("%H:%M:%S"), exchange.method, exchange.path, str(exchange.status or "-")]
    if exchange.scenario:
        parts.append(exchange.scenario)
        parts.append("stream" if exchange.streamed else "whole")
        parts.append(f"{exchange.content_frames} chunks")
    parts.append(f"{took_ms:.0f} ms")
    parts.extend(_stream_truth(exchange))
    if exchange.outcome not in ("complete", "http_error"):
        parts.append(exchange.outcome)
    return "  ".join(parts)


def _stream_truth(exchange: RecordedExchange) -> list[str]:
    """The server's side of a client's figures, from its write times: first content after
    the head (a client's TTFT − TTFB) and the largest gap between content writes (ITL max)."""
    first, head = exchange.first_content_at, exchange.head_written_at
    if not exchange.streamed or first is None or head is None:
        return []
    facts = [f"first content +{(first - head) * 1000:.1f} ms after head"]
    if exchange.content_frames > 1:
        facts.append(f"max gap {exchange.max_content_gap * 1000:.1f} ms")
    return facts


async def _serve(args: argparse.Namespace) -> int:
    # Imported here so registering the subcommand costs the CLI's startup nothing.
    from core.simulator.scenario import ScenarioError, load_scenarios
    from core.simulator.server import SimulatorServer

    try:
        scenarios = load_scenarios(args.scenario_dir)
    except ScenarioError as exc:
        print(f"llmwb simulate: {exc}", file=sys.stderr)
        return 2
    on_done = None if args.quiet else (lambda exchange: print(_describe(exchange), flush=True))
    # A network service runs for days: it keeps the last few requests' facts, no frames.
    server = SimulatorServer(
        scenarios, host=args.host, port=args.port, on_exchange_done=on_done,
        max_exchanges=args.keep, record_frames=False, idle_timeout=args.idle_timeout,
        request_timeout=args.request_timeout, max_body_bytes=int(args.max_body_mb * 2**20),
    )  # fmt: skip
    try:
        await server.start()
    except OSError as exc:
        print(f"llmwb simulate: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    root = server.root_url
    print(f"llmwb simulator on {root}  (OpenAI: {root}/v1, Anthropic: {root}, Ollama: {root}/api/chat)")
    if not is_loopback(args.host):
        print(
            f"warning: listening on {args.host}, beyond this machine; the simulator has no authentication",
            file=sys.stderr,
        )
    width = max(map(len, scenarios), default=0)
    print("scenarios (use as the model name):")
    for name in sorted(scenarios):
        scenario = scenarios[name]
        print(f"  {name:<{width}}  {scenario.api:<9}  {scenario.description}")
    print("Ctrl-C to stop.", flush=True)
    try:
        await asyncio.Event().wait()  # until cancelled by Ctrl-C
    finally:
        await server.stop()
    return 0


def handle(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_serve(args))
    except KeyboardInterrupt:
        return 0
