"""Helpers the CLI subcommands share: the store, `--param` parsing, tables, figures."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Iterable, Sequence, TextIO

from tui import format as fmt
from tui.cli import CommandFailed, UsageError


_opened: list[Any] = []  # stores opened by the command running, closed when it ends (tui.cli.main)


def close_stores() -> None:
    while _opened:
        _opened.pop().close()


def open_store():  # type: ignore[no-untyped-def]  (-> core.store.Store; imported lazily)
    """The store under LLMWB_HOME (or the user data dir), seeded on first start,
    with every config's key variable registered for log redaction."""
    from sqlalchemy.exc import SQLAlchemyError

    from core.paths import DataDirError
    from core.seed import ensure_seeded
    from core.store import Store
    from core.store.db import default_db_path
    from core.store.migrations import NewerSchema
    from core.store.prune import apply_retention
    from core.store.safety import DatabaseRefused
    from tui.logsetup import register_key_env

    try:
        store = Store()
        ensure_seeded(store)
        apply_retention(store)
    except (DatabaseRefused, DataDirError) as error:  # left untouched: the message says why
        raise UsageError(str(error)) from None
    except NewerSchema as error:
        raise UsageError(f"the database {default_db_path()} was {error}") from None
    except (SQLAlchemyError, OSError) as error:  # unreadable, disk full, locked for too long
        reason = getattr(error, "orig", None) or error
        raise CommandFailed(f"cannot open the database {default_db_path()}: {reason}") from None
    _opened.append(store)
    for notice in store.notices:
        print(f"llmwb: note: {notice}", file=sys.stderr)
    store.on_wait = lambda message: print(f"llmwb: {message}…", file=sys.stderr, flush=True)
    register_key_env(config.api_key_env for config in store.list_configs())
    return store


def open_run_store():  # type: ignore[no-untyped-def]  (-> core.store.lite.LiteStore | core.store.Store)
    """The store a plain `llmwb run` saves to: the sqlite3 one (no SQLAlchemy, most of
    a short run's start-up) when the file needs nothing from a start, else `open_store()`."""
    from core.store.lite import LiteStore

    store = LiteStore.open()
    if store is None:
        return open_store()
    from tui.logsetup import register_key_env

    _opened.append(store)
    store.on_wait = lambda message: print(f"llmwb: {message}…", file=sys.stderr, flush=True)
    register_key_env(config.api_key_env for config in store.list_configs())
    return store


def config_named(store: Any, name: str) -> Any:
    """The model config called `name`; a usage error listing the known ones otherwise."""
    config = store.get_config(name)
    if config is None:
        known = ", ".join(c.name for c in store.list_configs()) or "none; see 'llmwb models add'"
        raise UsageError(f"no model config named {name!r} (known: {known})")
    return config


def refuse_the_database(path: Path, label: str, what: str, database: Path | None = None) -> None:
    """Refuse a user's file that is llmwb's database (see core.paths.names_the_database)."""
    from core.paths import names_the_database

    if names_the_database(path, database):
        raise UsageError(f"{label} is llmwb's database, not {what}")


def read_prompt(args: argparse.Namespace) -> str:
    """The user message from --prompt or --prompt-file ('-' reads stdin); exactly one."""
    if (args.prompt is None) == (args.prompt_file is None):
        raise UsageError("give exactly one of --prompt TEXT or --prompt-file FILE")
    if args.prompt is not None:
        return checked_text(str(args.prompt), "--prompt")
    if str(args.prompt_file) == "-":
        try:
            data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
        except OSError as error:
            raise UsageError(f"cannot read the prompt from stdin: {error.strerror or error}") from None
        return _decode(data, "stdin")
    refuse_the_database(Path(args.prompt_file), f"--prompt-file {args.prompt_file}", "a prompt")
    try:
        data = Path(args.prompt_file).read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read --prompt-file {args.prompt_file}: {error.strerror or error}") from None
    return _decode(data, f"--prompt-file {args.prompt_file}")


def _decode(data: bytes, source: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UsageError(f"{source} is not UTF-8 text (byte {data[error.start]:#04x} at offset {error.start})") from None
    return checked_text(text, source)


def checked_text(text: str, what: str) -> str:
    """`text` if it can be sent and saved as UTF-8, else a usage error."""
    from core.validation import text_problem

    problem = text_problem(text)
    if problem:
        raise UsageError(f"{what} {problem}")
    return text


def port_number(text: str) -> int:
    """argparse type for --port. Checked here: out of range, the socket layer raises
    OverflowError, not OSError."""
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text}: a port from 0 to 65535 (0 picks a free one)")
    return port


def parse_value(text: str) -> Any:
    """JSON where it parses (`0.2`, `true`, `["\\n"]`, `{"a": 1}`), else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_params(pairs: Iterable[str] | None) -> dict[str, Any]:
    """`KEY=VALUE` pairs → dict; raises UsageError for a pair without `=` or key."""
    params: dict[str, Any] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--param expects KEY=VALUE, got {pair!r}")
        params[key] = parse_value(value)
    from core.validation import params_problem

    problem = params_problem(params)
    if problem:
        raise UsageError(f"--param {problem}")
    return params


def parse_pairs(pairs: Iterable[str] | None, flag: str) -> dict[str, str]:
    """`ID=TEXT` pairs kept as text (tool results); raises UsageError when malformed."""
    result: dict[str, str] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{flag} expects ID=TEXT, got {pair!r}")
        result[key.strip()] = value
    return result


def print_table(rows: Sequence[Sequence[Any]], headers: Sequence[str], out: TextIO | None = None) -> None:
    """Left-aligned columns, two spaces apart; None shows as '-'."""
    out = out or sys.stdout
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row)]
    lines = [headers, *cells]
    for line in lines:
        out.write("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() + "\n")


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


def print_json(data: Any, out: TextIO | None = None) -> None:
    (out or sys.stdout).write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def metrics_summary(metrics: dict[str, Any]) -> str:
    """One line: ttft, total, tokens, tok/s, cost — estimated figures marked `~` as in the app."""
    estimated = fmt.usage_estimated(metrics)
    parts = [f"ttft {fmt.duration(metrics.get('ttft_ms'))}", f"total {fmt.duration(metrics.get('total_ms'))}"]
    tokens = (
        f"tokens {fmt.tokens(metrics.get('prompt_tokens', 0))} in"
        f" / {fmt.tokens(metrics.get('completion_tokens', 0), estimated)} out"
    )
    if metrics.get("reasoning_tokens"):
        tokens += f" ({fmt.tokens(metrics['reasoning_tokens'], metrics.get('reasoning_estimated', False))} reasoning)"
    if metrics.get("usage_note"):
        tokens += " (~ estimated: the server's usage was unusable)"
    parts.append(tokens)
    speed = fmt.decode_rate(metrics)
    if speed != fmt.MISSING:
        parts.append(speed)
    parts.append(fmt.cost(metrics.get("cost_usd") or 0, estimated))
    if metrics.get("retries"):
        parts.append(f"{metrics['retries']} retries")
    return " · ".join(parts)
