"""`llmwb run`: send one request to a model config and print the answer as it streams.

Plain output: the answer's text goes to stdout as it arrives (so it pipes cleanly);
reasoning goes to stderr in a block headed `[reasoning]` (dimmed on a terminal);
complete tool calls are printed to stdout after the text; a one-line metrics
summary (or the one-line error) ends on stderr. `--json` prints the event
protocol instead, one object per line, flushed as the events arrive. Every run is saved.

Exit codes: 0 success, 1 the run failed (saved, with its partial output) or could
not be saved (kept in the data dir's unsaved/ folder, saved at the next start),
2 bad usage (nothing saved), 130 interrupted by Ctrl-C, 143 by SIGTERM, 129 by
SIGHUP (each saved as cancelled with what arrived).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import sys
from typing import Any, Protocol, TextIO

from core.events import (
    Event, Failed, Finished, Phase, ReasoningDelta, RefusalDelta, RunStarted, TextDelta, WireFrame, to_json_line,
)  # fmt: skip
from core.server_timings import server_says
from tui.cli import EXIT_FAILED, EXIT_OK, UsageError
from tui.cli.common import (
    checked_text, config_named, metrics_summary, open_run_store, open_store, parse_pairs, parse_params, read_prompt,
)  # fmt: skip
from tui.cli.signals import Termination, cancel_on_signals

EXIT_INTERRUPTED = 130
TOOL_CHOICE_WORDS = ("auto", "none", "required")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run", help="send one request and print the answer", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("--model", metavar="NAME", help="model config name (see 'llmwb models list')")
    parser.add_argument("--prompt", metavar="TEXT", help="the user message")
    parser.add_argument("--prompt-file", metavar="FILE", help="read the user message from FILE ('-' for stdin)")
    parser.add_argument("--system", default="", metavar="TEXT", help="system prompt")
    parser.add_argument(
        "--stream", action=argparse.BooleanOptionalAction, default=True, help="stream the response (default: yes)"
    )
    parser.add_argument(
        "--param", action="append", metavar="KEY=VALUE",
        help="request param, value parsed as JSON where it can be (temperature=0.2, stop='[\"\\n\"]'); repeatable",
    )  # fmt: skip
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="override the config's timeout for this run")
    parser.add_argument("--json", action="store_true", help="print the event protocol as JSON lines")
    parser.add_argument("--wire", action="store_true", help="also print the raw wire frames (JSON: 'wire' lines)")
    parser.add_argument(
        "--phases", action="store_true",
        help="also print the exchange's phases as they happen: connecting, sent, headers, retries (JSON: 'phase' lines)",
    )  # fmt: skip
    tools = parser.add_argument_group("tools")
    tools.add_argument("--tool", action="append", metavar="NAME", help="offer a saved tool definition; repeatable")
    tools.add_argument("--tool-choice", metavar="auto|none|required|NAME")
    tools.add_argument(
        "--continue", dest="continue_run", metavar="RUN_ID",
        help="send the next turn of a run that ended in tool calls",
    )  # fmt: skip
    tools.add_argument(
        "--tool-result", action="append", metavar="CALL_ID=TEXT",
        help="result for one tool call of --continue (calls without one get the tool's canned result); repeatable",
    )  # fmt: skip


def handle(args: argparse.Namespace) -> int:
    from core.providers.netstamp import keep_stamping_on

    keep_stamping_on()  # now, so the kernel stamps packets well before the response's first
    # A continuation or a saved tool reads runs and tools: the full store's.
    store = open_store() if args.continue_run or args.tool else open_run_store()
    config, request = _prepare(store, args)

    from core.runner import RunOptions

    options = RunOptions(store=store, wire_frames=args.wire, parent_run_id=args.continue_run, phases=args.phases)
    sink: _Sink = JsonSink(sys.stdout) if args.json else PlainSink(sys.stdout, sys.stderr, wire=args.wire)
    sink.unsaved = store.unsaved
    # Everything imported so far lives until exit;
    # exempting it from the collector saves ~10% of the CPU of a 20,000-chunk run,
    # which otherwise rescans those objects in every full collection.
    gc.freeze()
    termination = Termination()
    try:
        asyncio.run(_drive(config, request, options, sink, termination))
    except KeyboardInterrupt:
        sink.cancelled(store)
        return EXIT_INTERRUPTED
    except asyncio.CancelledError:
        if termination.signum is None:
            raise
        if sink.run_id:
            store.note_cancel_reason(sink.run_id, termination.reason)
        sink.cancelled(store)
        return termination.exit_code
    return EXIT_OK if sink.succeeded else EXIT_FAILED


async def _drive(config: Any, request: Any, options: Any, sink: _Sink, termination: Termination) -> None:
    from core.runner import start_run

    with cancel_on_signals(termination):
        handle = start_run(config, request, options)
        try:
            # Everything that arrived while the last batch was written, in one go: a
            # flat-out stream is written in a few large writes, a paced one line by line.
            async for batch in handle.batches():
                sink.take(batch)
        finally:
            if not handle.finished:  # Ctrl-C, a signal: the run is saved as cancelled
                handle.cancel()
            await handle.wait()


# building the request: every check happens here, before anything is saved --------
def _prepare(store: Any, args: argparse.Namespace) -> tuple[Any, Any]:
    from core.request import ChatRequest

    params = parse_params(args.param)
    if args.timeout is not None and not (math.isfinite(args.timeout) and args.timeout > 0):
        raise UsageError("--timeout must be a positive number of seconds")
    if args.continue_run:
        if args.prompt is not None or args.prompt_file is not None:
            raise UsageError("--continue sends tool results, not a prompt: drop --prompt/--prompt-file")
        config, request = _continuation(store, args)
        if args.model:
            config = config_named(store, args.model)
        if args.tool:
            request.tools = _tool_specs(store, args.tool)
        request.params.update(params)
        request.stream = args.stream
        if args.system:
            request.system = checked_text(args.system, "--system")
        if args.tool_choice:
            request.tool_choice = args.tool_choice
    else:
        if args.tool_result:
            raise UsageError("--tool-result needs --continue RUN_ID")
        if not args.model:
            raise UsageError("--model NAME is required (see 'llmwb models list')")
        prompt = read_prompt(args)
        config = config_named(store, args.model)
        request = ChatRequest.from_prompt(
            prompt,
            system=checked_text(args.system, "--system"),
            params=params,
            tools=_tool_specs(store, args.tool) if args.tool else [],
            tool_choice=args.tool_choice,
            stream=args.stream,
        )
    _check_provider(config)
    _check_tool_choice(request)
    if args.timeout is not None:
        config = config.model_copy(update={"timeout": args.timeout})
    return config, request


def _check_provider(config: Any) -> None:
    from core.store.kinds import PROVIDER_KINDS

    if config.provider not in PROVIDER_KINDS:
        raise UsageError(
            f"model config {config.name!r} has unknown provider kind {config.provider!r}"
            f" (known: {', '.join(PROVIDER_KINDS)})"
        )


def _tool_specs(store: Any, names: list[str]) -> list[Any]:
    from core.tools import ToolError, specs_for

    try:
        return specs_for(store, names)
    except ToolError as error:
        raise UsageError(str(error)) from None


def _continuation(store: Any, args: argparse.Namespace) -> tuple[Any, Any]:
    from core.tools import ToolError, continuation_request

    results = parse_pairs(args.tool_result, "--tool-result")
    try:
        return continuation_request(store, args.continue_run, results)
    except ToolError as error:
        raise UsageError(str(error)) from None


def _check_tool_choice(request: Any) -> None:
    choice = request.tool_choice
    if not choice:
        return
    if not request.tools:
        raise UsageError("--tool-choice needs at least one --tool")
    names = [tool.name for tool in request.tools]
    if choice not in TOOL_CHOICE_WORDS and choice not in names:
        raise UsageError(
            f"--tool-choice {choice!r} is neither auto/none/required nor one of the tools ({', '.join(names)})"
        )


# output ---------------------------------------------------------------------------
class _Sink(Protocol):
    """Consumes the run's events; remembers the run id and whether it succeeded."""

    run_id: str | None
    succeeded: bool
    unsaved: dict[str, str]  # the store's: run id -> why its save failed

    def take(self, events: list[Event]) -> None: ...

    def cancelled(self, store: Any) -> None: ...


class JsonSink:
    """One protocol object per line; each batch of events written and flushed at once,
    so a reader sees every line as soon as the consumer has it. The hot path: per-line
    flushes cost a system call each and handed the interpreter lock to the I/O thread
    and back every time (~40% of a 20,000-chunk run's wall time)."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self.run_id: str | None = None
        self.succeeded = False
        self.unsaved: dict[str, str] = {}

    def take(self, events: list[Event]) -> None:
        lines = []
        for event in events:
            kind = type(event)
            if kind is Finished or kind is Failed:
                event = with_save_outcome(event, self.unsaved)  # type: ignore[arg-type]
                self.succeeded = type(event) is Finished
            line = to_json_line(event)
            if line is not None:
                lines.append(line)
            elif kind is RunStarted:  # outside the protocol
                self.run_id = event.run_id  # type: ignore[union-attr]
        if not lines:
            return
        lines.append("")  # the last line's newline
        try:
            self._out.write("\n".join(lines))
            self._out.flush()
        except BrokenPipeError:
            # The reader went away (`| head`): let the run end and be saved anyway.
            self._out = open(os.devnull, "w")

    def cancelled(self, store: Any) -> None:
        """After Ctrl-C the protocol still ends with a done line: the saved, cancelled run."""
        row = store.get_run(self.run_id) if self.run_id else None
        event = Failed(
            error=(row.error if row else None) or "cancelled by the user",
            error_type="cancelled",
            partial_response=row.response if row else {},
            metrics=row.metrics if row else {},
            run_id=self.run_id,
            status="cancelled",
        )
        try:
            self._out.write(f"{to_json_line(event)}\n")
            self._out.flush()
        except OSError:  # the terminal or the pipe is gone (SIGHUP): the run is saved anyway
            pass


class PlainSink:
    def __init__(self, out: TextIO, err: TextIO, *, wire: bool) -> None:
        self._out, self._err, self._wire = out, err, wire
        self.run_id: str | None = None
        self.succeeded = False
        self._tty_err = err.isatty()
        self._in_reasoning = False
        self._refused = False
        self._out_needs_newline = False
        self.unsaved: dict[str, str] = {}

    def take(self, events: list[Event]) -> None:
        for event in events:
            self(event)

    def __call__(self, event: Event) -> None:
        if type(event) is Finished or type(event) is Failed:
            event = with_save_outcome(event, self.unsaved)
        try:
            self._show(event)
        except BrokenPipeError:
            # The reader went away (`| head`): let the run end and be saved anyway,
            # its summary still on stderr unless that pipe is gone too.
            self._out = open(os.devnull, "w")
            try:
                self._show(event)
            except BrokenPipeError:
                self._err = self._out
                self._show(event)

    def _show(self, event: Event) -> None:
        kind = type(event)
        if kind is TextDelta:
            self._end_reasoning()
            self._out.write(event.content)
            self._out.flush()
            self._out_needs_newline = not event.content.endswith("\n")
        elif kind is ReasoningDelta:
            if not self._in_reasoning:
                self._in_reasoning = True
                self._err.write(self._dim("[reasoning]") + "\n" + ("\x1b[2m" if self._tty_err else ""))
            self._err.write(event.reasoning)
            self._err.flush()
        elif kind is RefusalDelta:
            # The model's words go to stdout like an answer; that they are a refusal is
            # said once on stderr, so a script reading stdout still sees what was said.
            self._end_reasoning()
            if not self._refused:
                self._refused = True
                self._err.write(self._dim("[refusal]") + "\n")
                self._err.flush()
            self._out.write(event.refusal)
            self._out.flush()
            self._out_needs_newline = not event.refusal.endswith("\n")
        elif kind is WireFrame:
            if self._wire:
                self._err.write(self._dim(f"[wire +{event.offset_ms:.1f}ms]") + f" {event.data.rstrip()}\n")
        elif kind is Phase:
            self._err.write(self._dim(f"[{event.phase} +{event.offset_ms:.1f}ms]") + f" {event.describe()}\n")
            self._err.flush()
        elif kind is RunStarted:
            self.run_id = event.run_id
        elif kind is Finished:
            self.succeeded = True
            self._end_output(event.final_response)
            refused = "refused by the model · " if event.final_response.get("refusal") else ""
            self._err.write(f"{refused}{metrics_summary(event.metrics)} · run {event.run_id}\n")
            said = server_says(event.final_response.get("server_timings"))
            if said:  # the server's own figures, beside (never instead of) llmwb's
                self._err.write(self._dim(f"server says: {said}") + "\n")
        elif kind is Failed:
            self._end_output(event.partial_response)
            self._err.write(f"error: {event.error} [{_failure_detail(event)}] · run {event.run_id}\n")
        # ToolCallDelta: printed whole from the final response, arguments assembled

    def cancelled(self, store: Any) -> None:
        row = store.get_run(self.run_id) if self.run_id else None
        reason = (row.error if row else None) or "cancelled"
        saved = f"; run {self.run_id} saved with the partial output" if self.run_id else ""
        try:
            self._end_reasoning()
            if self._out_needs_newline:
                self._out.write("\n")
                self._out.flush()
            self._err.write(f"{reason}{saved}\n")
            self._err.flush()
        except OSError:  # the terminal is gone (SIGHUP): the run is saved anyway
            pass

    def _end_output(self, response: dict[str, Any]) -> None:
        self._end_reasoning()
        if self._out_needs_newline:
            self._out.write("\n")
            self._out_needs_newline = False
        calls = response.get("tool_calls") or []
        for call in calls:
            arguments = call.get("arguments_raw") or call.get("arguments")
            if not isinstance(arguments, str):
                arguments = json.dumps(arguments, ensure_ascii=False)
            self._out.write(f"tool call {call.get('id')}: {call.get('name')}({arguments})\n")
        self._out.flush()
        if calls and self.run_id:
            ids = " ".join(f"--tool-result {call.get('id')}=..." for call in calls)
            self._err.write(self._dim(f"continue with: llmwb run --continue {self.run_id} {ids}") + "\n")

    def _end_reasoning(self) -> None:
        if self._in_reasoning:
            self._in_reasoning = False
            self._err.write(("\x1b[22m" if self._tty_err else "") + "\n")
            self._err.flush()

    def _dim(self, text: str) -> str:
        return f"\x1b[2m{text}\x1b[22m" if self._tty_err else text


def with_save_outcome(event: Finished | Failed, unsaved: dict[str, str]) -> Finished | Failed:
    """The run's last event, turned into a failure when its save failed: exit 0 with
    the row left `running` would lose the run silently."""
    message = unsaved.get(event.run_id) if event.run_id else None
    if message is None:
        return event
    if isinstance(event, Finished):
        from core.providers.base import SAVE_FAILED

        return Failed(
            error=message, error_type=SAVE_FAILED, partial_response=event.final_response,
            metrics=event.metrics, run_id=event.run_id,
        )  # fmt: skip
    event.error = f"{event.error}; {message}"
    return event


def _failure_detail(event: Failed) -> str:
    detail = [event.error_type]
    if event.http_status and event.http_status >= 400:  # a stream that breaks after a 200 says so in its type
        detail.append(f"HTTP {event.http_status}")
    # retry-after is already in the message (core.providers.http words it)
    return ", ".join(detail)
