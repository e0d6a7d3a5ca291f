"""`llmwb compare`: one prompt on several models and/or both ways (streamed and not).

Prints a summary table with the best figure of each column marked `*`; for each
model run both ways, whether the two outputs are identical (or their diff).
`--json` prints one object per run as it ends, then one summary object. Exit 1
when any run failed (after printing everything), 2 for bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from tui import format as fmt
from tui.cli import EXIT_FAILED, EXIT_OK, UsageError
from tui.cli.common import checked_text, config_named, open_store, parse_params, print_table, read_prompt
from tui.cli.run import with_save_outcome
from tui.cli.signals import Termination, cancel_on_signals

MODE_WORDS = {"stream": True, "nonstream": False, "non-stream": False}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("compare", help="compare models, or streaming vs not", description=__doc__)
    parser.add_argument("--models", required=True, metavar="A,B,...", help="model config names, comma-separated")
    prompt = parser.add_mutually_exclusive_group(required=True)
    prompt.add_argument("--prompt", metavar="TEXT", help="the user message")
    prompt.add_argument("--prompt-file", type=Path, metavar="FILE", help="read the user message from FILE ('-': stdin)")
    parser.add_argument("--system", default="", metavar="TEXT", help="system prompt")
    parser.add_argument(
        "--modes",
        metavar="MODES",
        help="stream, nonstream or both, comma-separated (default: both for one model, stream for several)",
    )
    parser.add_argument("--param", action="append", metavar="KEY=VALUE", help="request param (JSON value), repeatable")
    parser.add_argument(
        "--concurrent", action="store_true", help="start every run at once (default: one after another)"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per run, then a summary object")


def parse_modes(text: str | None, model_count: int) -> list[bool]:
    """`--modes` → list of stream flags, in the order given, without repeats."""
    if text is None:
        return [True, False] if model_count == 1 else [True]
    modes: list[bool] = []
    for word in (w.strip().lower() for w in text.split(",")):
        if word not in MODE_WORDS:
            raise UsageError(f"--modes: unknown mode {word!r} (use stream, nonstream)")
        if MODE_WORDS[word] not in modes:
            modes.append(MODE_WORDS[word])
    return modes


def handle(args: argparse.Namespace) -> int:
    from core.compare import RunSpec
    from core.request import ChatRequest

    names = list(dict.fromkeys(n.strip() for n in args.models.split(",") if n.strip()))
    if not names:
        raise UsageError("--models needs at least one model config name")
    modes = parse_modes(args.modes, len(names))
    params = parse_params(args.param)
    prompt = read_prompt(args)
    system = checked_text(args.system, "--system")
    store = open_store()
    configs = []
    for name in names:
        configs.append(config_named(store, name))
    specs = [
        RunSpec(config, ChatRequest.from_prompt(prompt, system=system, params=dict(params), stream=stream))
        for config in configs
        for stream in modes
    ]
    from core.compare import new_group_id

    group_id = new_group_id()
    termination = Termination()
    try:
        return asyncio.run(_until_signal(termination, _compare(specs, store, group_id, args.concurrent, args.json)))
    except asyncio.CancelledError:
        if termination.signum is None:
            raise
    # SIGTERM/SIGHUP: the runner saved the runs in flight as cancelled; say why on each.
    for run in store.runs_in_group(group_id):
        store.note_cancel_reason(run.id, termination.reason)
    try:
        print(f"llmwb compare: {termination.reason}; runs saved (group {group_id})", file=sys.stderr)
    except OSError:  # the terminal is gone
        pass
    return termination.exit_code


async def _until_signal(termination: Termination, work: Any) -> int:
    with cancel_on_signals(termination):
        return int(await work)


async def _compare(specs: list[Any], store: Any, group_id: str, concurrent: bool, as_json: bool) -> int:
    from core.compare import NONSTREAM, STREAM, RunOutcome, best_marks, run_group, summarise
    from core.events import Failed, Finished

    outcomes: list[RunOutcome | None] = [None] * len(specs)
    events = run_group(specs, store=store, concurrent=concurrent, group_id=group_id, wire_frames=False)
    async for index, event in events:
        if not isinstance(event, (Finished, Failed)):
            continue
        spec = specs[index]
        event = with_save_outcome(event, store.unsaved)  # a run the database would not take is a failure
        outcome = outcomes[index] = RunOutcome.from_event(spec.config.name, spec.request.stream, event)
        if outcome.status != "ok":
            print(f"llmwb compare: {outcome.label} ({outcome.mode}): {outcome.error}", file=sys.stderr)
        if as_json:
            print(json.dumps(_run_object(outcome), ensure_ascii=False), flush=True)

    done = [o for o in outcomes if o is not None]
    rows = summarise(done)
    marks = best_marks(fmt.shown_rates(rows))
    verdicts = _stream_verdicts(done)

    if as_json:
        summary: dict[str, Any] = {
            "summary": [dataclasses.asdict(row) for row in rows],
            "best": {column: {"model": rows[i].label, "mode": rows[i].mode} for column, i in marks.items()},
            "group_id": group_id,
        }
        if verdicts:
            summary["stream_vs_nonstream"] = {
                model: {"identical": identical, "diff": diff} for model, (identical, diff) in verdicts.items()
            }
        print(json.dumps(summary, ensure_ascii=False))
    else:
        _print_summary(rows, marks)
        for model, (identical, diff) in verdicts.items():
            print(f"\n{model}: {STREAM} vs {NONSTREAM}: " + ("outputs identical" if identical else "outputs differ"))
            for line in diff:
                print(line)
        print(f"\ngroup {group_id}")
    return EXIT_OK if all(o.status == "ok" for o in done) else EXIT_FAILED


def _stream_verdicts(outcomes: list[Any]) -> dict[str, tuple[bool, list[str]]]:
    """For each model run both ways: (outputs identical, unified diff)."""
    from core.compare import compare_outputs

    by_model: dict[str, dict[bool, Any]] = {}
    for outcome in outcomes:
        by_model.setdefault(outcome.label, {})[outcome.stream] = outcome
    return {
        model: compare_outputs(modes[True].response, modes[False].response)
        for model, modes in by_model.items()
        if len(modes) == 2
    }


def _run_object(outcome: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "model": outcome.label,
        "mode": outcome.mode,
        "run_id": outcome.run_id,
        "status": outcome.status,
        "metrics": outcome.metrics,
    }
    data["final_response" if outcome.status == "ok" else "partial_response"] = outcome.response
    data["error"] = outcome.error
    if outcome.error_type:
        data["error_type"], data["http_status"] = outcome.error_type, outcome.http_status
    return data


def _print_summary(rows: list[Any], marks: dict[str, int]) -> None:
    def best(column: str, index: int, text: str | None) -> str | None:
        return f"{text}*" if text is not None and marks.get(column) == index else text

    table = []
    for i, row in enumerate(rows):
        speed = fmt.summary_rate(row)
        table.append([
            row.label, row.mode, row.status,
            best("ttft_ms", i, fmt.duration(row.ttft_ms)), best("total_ms", i, fmt.duration(row.total_ms)),
            best("decode_tps", i, speed) if speed != fmt.MISSING else speed,
            fmt.tokens(row.prompt_tokens, row.usage_estimated),
            fmt.tokens(row.completion_tokens, row.usage_estimated),
            best("cost_usd", i, fmt.cost(row.cost_usd, row.usage_estimated)), row.finish_reason, row.error,
        ])  # fmt: skip
    headers = ["model", "mode", "status", "ttft", "total", "tok/s", "in", "out", "cost", "finish", "error"]
    print_table(table, headers)
    if any(row.usage_estimated for row in rows):
        print(fmt.ESTIMATED_MEANING)
    if marks:
        print("* best of the column")
    for row in rows:
        if row.server_says:  # beside llmwb's figures, not in their columns: the server measured itself
            print(f"server says for {row.label} ({row.mode}): {row.server_says}")
