"""`llmwb`: bare, it opens the workbench; with a subcommand, it works headless.

Each subcommand lives in its own module with `register(subparsers)` and
`handle(args) -> exit code`; this module only dispatches, and imports a
subcommand's module (and so its dependencies) only when it is the one asked for.
"""

from __future__ import annotations

import argparse
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


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = next((a for a in argv if not a.startswith("-")), None)
    if command not in SUBCOMMANDS:
        command = None
    if command is None and not any(a in ("-h", "--help") for a in argv):
        from tui.logsetup import configure_logging

        configure_logging(verbose="--verbose" in argv)
        from tui.app import run_app

        return run_app()
    parser = build_parser(only=command)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    from tui.logsetup import configure_logging

    configure_logging(verbose=args.verbose)
    module = importlib.import_module(f"tui.cli.{SUBCOMMANDS[args.command]}")
    try:
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


if __name__ == "__main__":
    sys.exit(main())
