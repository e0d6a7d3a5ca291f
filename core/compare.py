"""Comparisons: one prompt run several ways — streamed and not, or on several models —
saved as one group of runs, summarised side by side.

`run_group` drives the runs (one after the other, or all at once with their event
streams merged); `summarise` / `best_marks` turn outcomes into the table both the
TUI and the CLI show; `compare_outputs` tells whether two answers say the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import json
import math
import uuid
from dataclasses import dataclass, field, replace
from typing import Any, AsyncIterator, Iterable, Sequence

from core.events import Event, Failed, Finished
from core.providers import base
from core.request import ChatRequest
from core.runner import RunOptions, run
from core.server_timings import server_says
from core.store.models import ModelConfig, Run

STREAM, NONSTREAM = "stream", "nonstream"


def new_group_id() -> str:
    return "g" + uuid.uuid4().hex[:11]


def mode_of(stream: bool) -> str:
    return STREAM if stream else NONSTREAM


@dataclass
class RunSpec:
    config: ModelConfig
    request: ChatRequest  # its `stream` decides the mode


async def run_group(
    specs: Sequence[RunSpec],
    *,
    store: Any,
    concurrent: bool,
    group_id: str | None = None,
    wire_frames: bool = True,
    phases: bool = False,
) -> AsyncIterator[tuple[int, Event]]:
    """Run every spec under one group id, yielding (spec index, event).

    Each run still ends with exactly one Finished or Failed, whatever happens to the
    others. Closing or cancelling the iterator cancels the runs in flight, which the
    runner saves as cancelled; specs not started yet are never run.
    """
    group_id = group_id or new_group_id()
    options = RunOptions(store=store, group_id=group_id, wire_frames=wire_frames, phases=phases)
    # aclosing everywhere: closing an outer generator does not close the one it is
    # iterating, and a run left to the garbage collector is saved late, or never.
    if concurrent:
        async with contextlib.aclosing(_run_concurrently(specs, options)) as items:
            async for item in items:
                yield item
        return
    for index, spec in enumerate(specs):
        async with contextlib.aclosing(_guarded(spec, replace(options, group_position=index))) as events:
            async for event in events:
                yield index, event


async def _guarded(spec: RunSpec, options: RunOptions) -> AsyncIterator[Event]:
    """`run`, with anything it raises turned into its final Failed event, so one
    broken run (say, the store refusing a write) cannot stop its neighbours."""
    ended = False
    try:
        async with contextlib.aclosing(run(spec.config, spec.request, options)) as events:
            async for event in events:
                ended = isinstance(event, (Finished, Failed))
                yield event
    except Exception as error:
        if not ended:
            yield Failed(
                error=f"internal error: {type(error).__name__}: {error}",
                error_type=base.INTERNAL,
                partial_response={},
                metrics={},
            )


async def _run_concurrently(specs: Sequence[RunSpec], options: RunOptions) -> AsyncIterator[tuple[int, Event]]:
    # Unbounded on purpose: a full queue would hold a producer back. (The runs read
    # and stamp their bytes on the I/O thread; this only merges what they deliver.)
    queue: asyncio.Queue[tuple[int, Event | None]] = asyncio.Queue()

    async def pump(index: int, spec: RunSpec) -> None:
        try:
            async with contextlib.aclosing(_guarded(spec, replace(options, group_position=index))) as events:
                async for event in events:
                    queue.put_nowait((index, event))
        finally:
            queue.put_nowait((index, None))

    tasks = [asyncio.create_task(pump(i, spec)) for i, spec in enumerate(specs)]
    running = len(tasks)
    try:
        while running:
            index, event = await queue.get()
            if event is None:
                running -= 1
            else:
                yield index, event
    finally:
        for task in tasks:
            task.cancel()
        # Let every cancelled run reach its save before we hand control back.
        await asyncio.gather(*tasks, return_exceptions=True)


# --- outcomes and the summary table ---------------------------------------------


@dataclass
class RunOutcome:
    """How one run of a comparison ended, from its final event or its saved row."""

    label: str  # the model config's name
    stream: bool
    run_id: str | None = None
    status: str = "running"  # running | ok | error | cancelled
    metrics: dict[str, Any] = field(default_factory=dict)
    response: dict[str, Any] = field(default_factory=dict)  # final or partial
    error: str | None = None
    error_type: str | None = None
    http_status: int | None = None

    @property
    def mode(self) -> str:
        return mode_of(self.stream)

    @classmethod
    def from_event(cls, label: str, stream: bool, event: Finished | Failed) -> "RunOutcome":
        if isinstance(event, Finished):
            return cls(label, stream, event.run_id, "ok", event.metrics, event.final_response)
        return cls(
            label, stream, event.run_id, event.status, event.metrics, event.partial_response,
            event.error, event.error_type, event.http_status,
        )  # fmt: skip

    @classmethod
    def from_run(cls, run_row: Run) -> "RunOutcome":
        return cls(
            run_row.model_config_name, run_row.stream, run_row.id, run_row.status, dict(run_row.metrics or {}),
            dict(run_row.response or {}), run_row.error, run_row.error_type, run_row.http_status,
        )  # fmt: skip


@dataclass
class SummaryRow:
    label: str
    mode: str
    status: str
    run_id: str | None
    ttft_ms: float | None
    total_ms: float | None
    decode_tps: float | None
    prompt_tokens: int | None
    completion_tokens: int | None
    usage_estimated: bool
    cost_usd: float | None
    finish_reason: str | None
    error: str | None
    server_says: str | None = None  # the server's own timings (Ollama, llama.cpp), one line


# Figures where one value can be "best", and which way is better.
LOWER_IS_BETTER = ("ttft_ms", "total_ms", "cost_usd")
HIGHER_IS_BETTER = ("decode_tps",)


def summarise(outcomes: Iterable[RunOutcome]) -> list[SummaryRow]:
    rows = []
    for outcome in outcomes:
        m = outcome.metrics
        rows.append(
            SummaryRow(
                label=outcome.label,
                mode=outcome.mode,
                status=outcome.status,
                run_id=outcome.run_id,
                ttft_ms=m.get("ttft_ms"),
                total_ms=m.get("total_ms"),
                decode_tps=m.get("decode_tps"),
                prompt_tokens=m.get("prompt_tokens"),
                completion_tokens=m.get("completion_tokens"),
                usage_estimated=m.get("usage_source") == "estimated",
                cost_usd=m.get("cost_usd"),
                finish_reason=outcome.response.get("finish_reason"),
                error=outcome.error,
                server_says=server_says(outcome.response.get("server_timings")),
            )
        )
    return rows


def best_marks(rows: Sequence[SummaryRow]) -> dict[str, int]:
    """Column name → index of the best row. Only finished runs compete (a 429 is
    fast, not good), and a column where every contender is equal marks nobody."""
    marks: dict[str, int] = {}
    for column in (*LOWER_IS_BETTER, *HIGHER_IS_BETTER):
        contenders = [
            (getattr(row, column), index)
            for index, row in enumerate(rows)
            if row.status == "ok" and getattr(row, column) is not None
        ]
        if len(contenders) < 2 or len({value for value, _ in contenders}) == 1:
            continue
        pick = max if column in HIGHER_IS_BETTER else min
        # Ties go to the earliest row: max/min return the first extreme they meet.
        marks[column] = pick(contenders, key=lambda c: c[0])[1]
    return marks


# --- comparing two answers --------------------------------------------------------


def _comparable_lines(response: dict[str, Any]) -> list[str]:
    """What an answer says: its text, then each tool call by name and arguments.
    Call ids are left out: providers mint fresh ones for every call. Lines split on
    LF only, so a trailing newline or a CRLF (which splitlines() would swallow) still
    counts as a difference: the two answers did differ on the wire."""
    content = response.get("content") or ""
    lines = content.split("\n") if content else []
    for call in response.get("tool_calls") or []:
        arguments = call.get("arguments")
        if isinstance(arguments, (dict, list)):
            arguments = json.dumps(arguments, sort_keys=True, ensure_ascii=False)
        lines.append(f"[tool call] {call.get('name')}({arguments if arguments is not None else ''})")
    return lines


def compare_outputs(
    a: dict[str, Any], b: dict[str, Any], *, a_name: str = STREAM, b_name: str = NONSTREAM
) -> tuple[bool, list[str]]:
    """(identical, unified diff lines) for two final/partial response dicts."""
    a_lines, b_lines = _comparable_lines(a), _comparable_lines(b)
    if a_lines == b_lines:
        return True, []
    return False, list(difflib.unified_diff(a_lines, b_lines, fromfile=a_name, tofile=b_name, lineterm=""))


# --- saved groups -----------------------------------------------------------------


def group_kind(runs: Sequence[Run]) -> str:
    """"stream" when the group is one model run both ways, else "models"."""
    return STREAM if len({r.model_config_name for r in runs}) == 1 else "models"


def load_group(store: Any, group_id: str) -> list[Run]:
    """The runs of a saved comparison, one per column: a column re-run adds a run to
    the group rather than replacing one, so only the latest counts. Stream vs
    non-stream: one per mode, streamed first. Several models: one per model, in the
    columns' order (`group_position`), which is not the order the runs started in:
    columns started together begin in whichever order their processes get going.
    Runs saved before positions were kept fall back to when they started."""
    runs = store.runs_in_group(group_id)  # oldest first, so later ones win below
    by_mode = group_kind(runs) == STREAM
    latest: dict[Any, Run] = {}
    position: dict[Any, float] = {}
    for run_row in runs:
        key = run_row.stream if by_mode else run_row.model_config_name
        latest[key] = run_row
        if run_row.group_position is not None:
            position.setdefault(key, run_row.group_position)
    if by_mode:
        return sorted(latest.values(), key=lambda r: not r.stream)
    # sorted() is stable: columns without a position keep their start order, after the rest.
    return [latest[key] for key in sorted(latest, key=lambda key: position.get(key, math.inf))]
