"""`llmwb`: bare, it opens the workbench; with a subcommand, it works headless.

Each subcommand lives in its own module with `register(subparsers)` and
`handle(args) -> exit code`; this module only dispatches, and imports a
subcommand's module (and so its dependencies) only when it is the one asked for.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys

# subcommand -> module under tui.cli
SUBCOMMANDS = {
    "run": "run",
    "models": "models",
    "history": "history",
    "tools": "tools",
    "simulate": "simulate",
    "compare": "compare",
    "serve": "serve",
    "web": "web",
}

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input from the command line: message on stderr, exit 2, nothing saved."""


class CommandFailed(Exception):
    """Trouble outside the command line (an unreadable database): one line on stderr, exit 1."""


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="llmwb", description="Terminal workbench for debugging LLM API calls.")
    parser.add_argument("--verbose", action="store_true", help="log wire frames (DEBUG) to llmwb.log")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in SUBCOMMANDS.items():
        if only is not None and name != only:
            # still listed in --help, without importing its module
            subparsers.add_parser(name, help=f"see 'llmwb {name} --help'")
            continue
        module = importlib.import_module(f"tui.cli.{module_name}")
        module.register(subparsers)
    return parser


# Subcommands that end when their work is done (the servers run until stopped).
SHORT_LIVED = {"run", "models", "history", "tools", "compare"}


def console_main() -> None:
    """The `llmwb` console script: `main`, then, after a subcommand, a quick exit."""
    argv = sys.argv[1:]
    command = _command_of(argv)
    if command in SHORT_LIVED:
        # Such a command keeps what it allocates until it exits and makes next to no
        # cyclic garbage (measured: one cycle per run, holding the frames the run keeps
        # anyway), so the cyclic collector would only rescan the imports and the stream:
        # ~12% of a 20,000-chunk run's CPU (bench/core_overhead.py).
        gc.disable()
    code = main(argv)
    if command is not None:
        _quick_exit(code)
    sys.exit(code)


def _command_of(argv: list[str]) -> str | None:
    command = next((a for a in argv if not a.startswith("-")), None)
    return command if command in SUBCOMMANDS else None


def _quick_exit(code: int) -> None:
    """End the process without the interpreter's teardown, which frees every object of
    every module one by one: with SQLAlchemy and an SDK loaded, ~20% of a short
    command's CPU (measured: bench/core_overhead.py). Only once all work is done (`main`
    closed the stores): logs and output are flushed first, and a non-daemon thread still
    going gets the normal exit, which waits for it."""
    import logging
    import threading

    main_thread = threading.main_thread()
    if any(t is not main_thread and not t.daemon and t.is_alive() for t in threading.enumerate()):
        sys.exit(code)
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # the reader is gone: nothing left to tell it
            pass
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    _never_fail_on_output_encoding()
    command = _command_of(argv)
    if command is None and not any(a in ("-h", "--help") for a in argv):
        from core.paths import DataDirError
        from tui.logsetup import configure_logging

        try:
            configure_logging(verbose="--verbose" in argv)
        except DataDirError as error:
            print(f"llmwb: {error}", file=sys.stderr)
            return EXIT_USAGE
        from tui.app import run_app

        return run_app()
    parser = build_parser(only=command)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    module = importlib.import_module(f"tui.cli.{SUBCOMMANDS[args.command]}")
    try:
        from tui.logsetup import configure_logging

        configure_logging(verbose=args.verbose)
        return int(module.handle(args))
    except UsageError as error:
        print(f"llmwb {args.command}: {error}", file=sys.stderr)
        return EXIT_USAGE
    except CommandFailed as error:
        print(f"llmwb {args.command}: {error}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:
        # The reader went away (`llmwb history list | head`): stop quietly, and point
        # stdout at /dev/null so the interpreter's final flush does not complain.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # noqa: BLE001  (the last line of defence: one line, never a traceback)
        return _unexpected(args.command, error)
    finally:
        common = sys.modules.get("tui.cli.common")
        if common is not None:
            common.close_stores()  # SQLite folds its WAL back into the file


def _never_fail_on_output_encoding() -> None:
    """A saved run may hold text the terminal's encoding cannot show (an old row with
    undecodable bytes, a strict `PYTHONIOENCODING`): show it escaped, never crash."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                pass


def _unexpected(command: str, error: Exception) -> int:
    """Known trouble outside the command line gets its own line; anything else is a bug
    of ours, logged with its traceback, reported in one line."""
    import logging

    from core.paths import DataDirError

    if isinstance(error, (DataDirError, RecursionError, MemoryError)):
        reason = str(error) if isinstance(error, DataDirError) else "the input is too deeply nested or too large"
        print(f"llmwb {command}: {reason}", file=sys.stderr)
        return EXIT_USAGE
    if isinstance(error, UnicodeEncodeError) and "surrogates" in str(error):
        # a name or id typed with bytes that are not UTF-8 (the command line's own text is checked earlier)
        print(f"llmwb {command}: an argument is not valid UTF-8 text", file=sys.stderr)
        return EXIT_USAGE
    if isinstance(error, ValueError) and "null byte" in str(error):  # a path given from a script, not a shell
        print(f"llmwb {command}: a file name contains a NUL byte", file=sys.stderr)
        return EXIT_USAGE
    database_problem = _database_problem(error)
    if database_problem:
        print(f"llmwb {command}: {database_problem}", file=sys.stderr)
        return EXIT_USAGE
    logging.getLogger("llmwb").exception("llmwb %s failed", command)
    print(f"llmwb {command}: internal error: {type(error).__name__}: {error} (details in llmwb.log)", file=sys.stderr)
    return EXIT_FAILED


def _database_problem(error: Exception) -> str | None:
    """A damaged database found mid-command (flipped bytes past the first pages)."""
    import sqlite3

    cause = getattr(error, "orig", None) or error
    if isinstance(cause, sqlite3.DatabaseError) and not isinstance(cause, sqlite3.OperationalError):
        from core.store.db import default_db_path

        return f"the database {default_db_path()} is damaged ({cause}); restore a backup or move it away"
    return None


if __name__ == "__main__":
    sys.exit(main())
