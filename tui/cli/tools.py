"""`llmwb tools`: add, list, show and remove tool definitions.

A tool is a name, a description and the JSON schema of its arguments, plus an
optional canned result sent back when a run's call to it gets no other answer
(`llmwb run --continue RUN_ID`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tui.cli import EXIT_OK, UsageError
from tui.cli.common import open_store, print_json, print_table, refuse_the_database


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("tools", help="manage tool definitions", description=__doc__)
    actions = parser.add_subparsers(dest="tools_command", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="add a tool from a JSON schema file")
    add.add_argument("name", help="tool name: 1-64 letters, digits, '_' or '-'")
    add.add_argument("--schema", required=True, type=Path, metavar="FILE.json", help="JSON schema of the arguments")
    add.add_argument("--description", default="", help="what the tool does (the model reads this)")
    add.add_argument("--result", metavar="TEXT", help="canned result sent back when a call gets no other")
    add.add_argument("--replace", action="store_true", help="replace a tool of the same name")

    listing = actions.add_parser("list", help="list tool definitions")
    listing.add_argument("--json", action="store_true", help="print JSON")

    show = actions.add_parser("show", help="print a tool's JSON schema")
    show.add_argument("name")

    remove = actions.add_parser("remove", help="remove a tool definition")
    remove.add_argument("name")


def handle(args: argparse.Namespace) -> int:
    store = open_store()
    return {"add": _add, "list": _list, "show": _show, "remove": _remove}[args.tools_command](store, args)


def _add(store, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from core.tools import ToolError, validate_tool_definition

    refuse_the_database(Path(args.schema), str(args.schema), "a JSON schema", store.path)
    try:
        schema_text = args.schema.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read {args.schema}: {getattr(error, 'strerror', None) or error}") from None
    try:
        tool = validate_tool_definition(args.name, args.description, schema_text, canned_result=args.result)
    except ToolError as error:
        raise UsageError(f"{args.schema}: {error}") from None
    existing = store.get_tool(args.name)
    if existing is not None:
        if not args.replace:
            raise UsageError(f"a tool named {args.name!r} already exists (use --replace, or remove it first)")
        tool.id, tool.created_at = existing.id, existing.created_at
    store.save_tool(tool)
    arguments = ", ".join(tool.parameters.get("properties", {})) or "no arguments"
    print(f"{'replaced' if existing else 'added'} tool {tool.name} ({arguments})")
    return EXIT_OK


def _list(store, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from core.config_yaml import tool_to_dict

    tools = store.list_tools()
    if args.json:
        print_json([tool_to_dict(t) for t in tools])
        return EXIT_OK
    rows = [
        (
            t.name,
            ", ".join(t.parameters.get("properties", {})) or None,
            "yes" if t.canned_result is not None else None,
            t.description or None,
        )
        for t in tools
    ]
    print_table(rows, ("NAME", "ARGUMENTS", "CANNED RESULT", "DESCRIPTION"))
    if not tools:
        print("no tools; add one with 'llmwb tools add NAME --schema FILE.json'", file=sys.stderr)
    return EXIT_OK


def _show(store, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    tool = store.get_tool(args.name)
    if tool is None:
        raise UsageError(f"no tool named {args.name!r}")
    # Only the schema on stdout, so `llmwb tools show X > x.json` round-trips through `tools add`.
    sys.stdout.write(json.dumps(tool.parameters, ensure_ascii=False, indent=2) + "\n")
    return EXIT_OK


def _remove(store, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    if not store.remove_tool(args.name):
        raise UsageError(f"no tool named {args.name!r}")
    print(f"removed {args.name}")
    return EXIT_OK
