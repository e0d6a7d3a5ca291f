"""`llmwb history`: the saved runs — list them, show one with its wire frames, prune
old ones, or set the retention every start applies."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from core.server_timings import server_details
from tui.cli import EXIT_OK, UsageError
from tui import format as fmt
from tui.cli.common import metrics_summary, open_store, print_json, print_table

PREVIEW_WORDS = 8
MAX_LIMIT = 1_000_000


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("history", help="list and show saved runs", description=__doc__)
    actions = parser.add_subparsers(dest="history_command", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="the most recent runs, newest first")
    listing.add_argument("--limit", type=int, default=20, metavar="N", help="how many (default 20)")
    listing.add_argument("--json", action="store_true", help="print JSON")

    show = actions.add_parser("show", help="one run: request, response, metrics, error")
    show.add_argument("run_id", metavar="ID")
    show.add_argument("--frames", action="store_true", help="also print the raw wire frames with their offsets")
    show.add_argument("--json", action="store_true", help="print JSON")

    prune = actions.add_parser(
        "prune", help="delete old runs and their wire frames (oldest first; never a running one)"
    )
    _retention_options(prune)
    prune.add_argument("--vacuum", action="store_true", help="then shrink the file (rewrites it: needs free disk)")
    prune.add_argument("--dry-run", action="store_true", help="say how many runs would go; delete nothing")

    retention = actions.add_parser(
        "retention", help="show or set the retention applied at every start (same options as prune)"
    )
    _retention_options(retention)
    retention.add_argument("--off", action="store_true", help="keep every run (the default)")


def _retention_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--older-than", metavar="AGE", help="delete runs older than AGE: 30d, 12h, 2w")
    parser.add_argument("--keep", type=int, metavar="N", help="keep only the newest N runs")
    parser.add_argument("--max-size", metavar="SIZE", help="keep the newest runs that fit in SIZE: 500MB, 2GB")


def handle(args: argparse.Namespace) -> int:
    store = open_store()
    if args.history_command == "list":
        return _list(store, args)
    if args.history_command == "prune":
        return _prune(store, args)
    if args.history_command == "retention":
        return _retention(store, args)
    return _show(store, args)


def _retention_from(args: argparse.Namespace) -> Any:
    from core.store.prune import Retention, parse_age, parse_size

    try:
        age = parse_age(args.older_than).total_seconds() if args.older_than is not None else None
        size = parse_size(args.max_size) if args.max_size is not None else None
    except ValueError as error:
        raise UsageError(str(error)) from None
    if args.keep is not None and not 0 <= args.keep <= MAX_LIMIT:
        raise UsageError(f"--keep must be from 0 to {MAX_LIMIT:,}")
    return Retention(max_age_s=age, keep=args.keep, max_bytes=size)


def _prune(store: Any, args: argparse.Namespace) -> int:
    from core.store.prune import prune

    retention = _retention_from(args)
    if retention.empty and not args.vacuum:
        raise UsageError("say what to keep: --older-than AGE, --keep N and/or --max-size SIZE (or --vacuum alone)")
    report = prune(store, retention, vacuum=args.vacuum, dry_run=args.dry_run)
    if args.dry_run:
        print(f"would delete {report.runs} runs ({retention.describe()}); nothing deleted")
    else:
        print(report.summary())
    return EXIT_OK


def _retention(store: Any, args: argparse.Namespace) -> int:
    from core.store.prune import Retention, load_retention, save_retention

    retention = _retention_from(args)
    if args.off:
        if not retention.empty:
            raise UsageError("--off keeps every run: give it alone")
        save_retention(store, Retention())
    elif not retention.empty:
        save_retention(store, retention)
    print(f"retention: {load_retention(store).describe()} (applied at every start)")
    return EXIT_OK


def _list(store: Any, args: argparse.Namespace) -> int:
    if not 1 <= args.limit <= MAX_LIMIT:
        raise UsageError(f"--limit must be from 1 to {MAX_LIMIT:,}")
    runs = store.list_runs(limit=args.limit)
    if args.json:
        print_json([run_summary(run) for run in runs])
        return EXIT_OK
    rows = []
    for run in runs:
        m = run.metrics or {}
        tokens = m.get("total_tokens")
        rows.append((
            run.id,
            run.created_at.astimezone().strftime("%Y-%m-%d %H:%M:%S"),
            run.model_config_name,
            run.status,
            "stream" if run.stream else "non-stream",
            fmt.duration(m.get("ttft_ms")),
            fmt.duration(m.get("total_ms")),
            fmt.tokens(tokens, fmt.usage_estimated(m)),
            fmt.cost(m.get("cost_usd"), fmt.usage_estimated(m)),
            _preview(run),
        ))  # fmt: skip
    print_table(rows, ("ID", "WHEN", "MODEL", "STATUS", "MODE", "TTFT", "TOTAL", "TOKENS", "COST", "PROMPT"))
    if not runs:
        print("no runs yet; try: llmwb run --model demo-fast --prompt hi", file=sys.stderr)
    return EXIT_OK


def run_summary(run: Any) -> dict[str, Any]:
    m = run.metrics or {}
    return {
        "id": run.id,
        "created_at": run.created_at.isoformat(),
        "model_config": run.model_config_name,
        "provider": run.provider,
        "model": run.model,
        "stream": run.stream,
        "status": run.status,
        "error_type": run.error_type,
        "ttft_ms": m.get("ttft_ms"),
        "total_ms": m.get("total_ms"),
        "total_tokens": m.get("total_tokens"),
        "usage_source": m.get("usage_source"),
        "cost_usd": m.get("cost_usd"),
        "prompt": _last_user_text(run),
        "parent_run_id": run.parent_run_id,
        "group_id": run.group_id,
    }


def _last_user_text(run: Any) -> str:
    """The run's last user message, whole (the JSON listing is for scripts: no cut)."""
    messages = (run.request or {}).get("messages") or []
    content = next((m.get("content") or "" for m in reversed(messages) if m.get("role") == "user"), "")
    if isinstance(content, list):  # content parts: their text
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content)


def _preview(run: Any) -> str:
    """The first words of the run's last user message, on one line."""
    messages = (run.request or {}).get("messages") or []
    words = _last_user_text(run).split()
    preview = " ".join(words[:PREVIEW_WORDS]) + (" …" if len(words) > PREVIEW_WORDS else "")
    if messages and messages[-1].get("role") == "tool":
        return f"[tool results] {preview}"
    return preview


def _show(store: Any, args: argparse.Namespace) -> int:
    run = store.get_run(args.run_id)
    if run is None:
        raise UsageError(f"no run with id {args.run_id!r} (see 'llmwb history list')")
    frames = store.get_frames(run.id) if args.frames else []
    if args.json:
        data = run.model_dump(mode="json")
        if args.frames:
            data["frames"] = [{"seq": f.seq, "offset_ms": f.offset_ms, "data": f.data} for f in frames]
        print_json(data)
        return EXIT_OK
    out = sys.stdout
    out.write(f"run {run.id}  {run.created_at.astimezone():%Y-%m-%d %H:%M:%S}  {run.status}\n")
    mode = "stream" if run.stream else "no stream"
    out.write(f"model config {run.model_config_name} ({run.provider}, {run.model}), {mode}\n")
    if run.parent_run_id:
        out.write(f"continues run {run.parent_run_id}\n")
    if run.error:
        http = f", HTTP {run.http_status}" if run.http_status else ""
        out.write(f"error: {run.error} [{run.error_type}{http}]\n")
    _section(out, "request", _request_text(run.request or {}))
    response = run.response or {}
    title = "response" if run.status == "ok" else "partial response"
    if response.get("reasoning"):
        _section(out, "reasoning", response["reasoning"])
    if response.get("refusal"):  # the model declined: its words, said to be a refusal
        _section(out, "refusal", response["refusal"])
    if response.get("content") or not response.get("refusal"):
        _section(out, title, response.get("content") or "(no text)")
    for call in response.get("tool_calls") or []:
        out.write(f"tool call {call.get('id')}: {call.get('name')}({call.get('arguments_raw') or ''})\n")
    if response.get("finish_reason"):
        out.write(f"finish reason: {response['finish_reason']} (provider: {response.get('provider_finish_reason')})\n")
    if run.metrics:
        _section(out, "metrics", metrics_summary(run.metrics))
        out.write(json.dumps(run.metrics, ensure_ascii=False, indent=2) + "\n")
    server_timings = response.get("server_timings")
    details = server_details(server_timings)
    if details:  # the server's own figures, beside llmwb's
        _section(out, f"server says ({server_timings.get('source')})", details)
    if args.frames:
        _section(out, f"wire frames ({len(frames)})", "")
        for frame in frames:
            out.write(f"+{frame.offset_ms:10.3f} ms  {frame.data.rstrip()}\n")
    return EXIT_OK


def _request_text(request: dict[str, Any]) -> str:
    lines = []
    if request.get("endpoint"):
        lines.append(f"POST {request['endpoint']}")
    if request.get("system"):
        lines.append(f"system: {request['system']}")
    for message in request.get("messages") or []:
        lines.append(f"{message.get('role')}: {message.get('content') or ''}".rstrip())
        for call in message.get("tool_calls") or []:
            lines.append(f"  tool call {call.get('id')}: {call.get('name')}({call.get('arguments')})")
    if request.get("params"):
        lines.append(f"params: {json.dumps(request['params'], ensure_ascii=False)}")
    if request.get("tools"):
        lines.append(f"tools: {', '.join(t.get('name', '?') for t in request['tools'])}")
    return "\n".join(lines)


def _section(out: Any, title: str, body: str) -> None:
    out.write(f"\n── {title} ──\n")
    if body:
        out.write(body.rstrip("\n") + "\n")
