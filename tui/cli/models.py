"""`llmwb models`: add, list, remove, import and export model configs.

Keys are never shown: `list` says whether the named variable is set.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.store.kinds import PROVIDER_KINDS
from tui.cli import EXIT_OK, UsageError
from tui.cli.common import open_store, parse_params, print_json, print_table, refuse_the_database



def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("models", help="manage model configs", description=__doc__)
    actions = parser.add_subparsers(dest="models_command", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="add a model config")
    add.add_argument("name", help="config name (unique)")
    add.add_argument("--provider", required=True, choices=PROVIDER_KINDS)
    add.add_argument("--model", required=True, help="the provider's model id (simulator: a scenario name)")
    add.add_argument("--base-url", help="API base URL (default: the provider's, or the local server's)")
    add.add_argument("--api-key-env", metavar="VAR", help="environment variable holding the key")
    add.add_argument("--price-input", type=float, default=0.0, metavar="USD", help="per million input tokens")
    add.add_argument("--price-cached-input", type=float, metavar="USD", help="per million cached input tokens")
    add.add_argument("--price-output", type=float, default=0.0, metavar="USD", help="per million output tokens")
    add.add_argument("--param", action="append", metavar="KEY=VALUE", help="default request param (JSON value)")
    add.add_argument("--timeout", type=float, metavar="SECONDS", help="connect and read timeout")

    listing = actions.add_parser("list", help="list model configs and whether their key is set")
    listing.add_argument("--json", action="store_true", help="print JSON")

    remove = actions.add_parser("remove", help="remove a model config")
    remove.add_argument("name")

    importing = actions.add_parser("import", help="add or update configs (and tools) from a YAML file")
    importing.add_argument("file", type=Path)

    export = actions.add_parser("export", help="write configs (and tools) as YAML, without keys")
    export.add_argument("file", nargs="?", type=Path, help="output file (default: stdout)")


def handle(args: argparse.Namespace) -> int:
    if args.models_command == "list":
        return _list(args)
    store = open_store()
    return {
        "add": _add, "remove": _remove, "import": _import, "export": _export,
    }[args.models_command](store, args)  # fmt: skip


def _add(store, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from core.config_yaml import ConfigError, model_from_dict, model_to_dict

    from core.store.db import DuplicateName

    taken = f"a model named {args.name!r} already exists (remove it first, or use import)"
    if store.get_config(args.name) is not None:
        raise UsageError(taken)
    entry = {
        "name": args.name,
        "provider": args.provider,
        "model": args.model,
        "base_url": args.base_url,
        "api_key_env": args.api_key_env,
        "params": parse_params(args.param),
        "prices": {"input": args.price_input, "cached_input": args.price_cached_input, "output": args.price_output},
        "timeout": args.timeout,
    }
    if args.price_cached_input is None:
        del entry["prices"]["cached_input"]
    try:
        # One validation path for the command line and files (negative prices, bad timeout, ...).
        config = model_from_dict(entry, where=args.name)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    try:
        store.save_config(config)
    except DuplicateName:  # added by another process since the check above: same words
        raise UsageError(taken) from None
    print(f"added {config.name} ({_describe(model_to_dict(config))}); key: {config.key_status()}")
    return EXIT_OK


def _describe(entry: dict) -> str:  # type: ignore[type-arg]
    text = f"{entry['provider']}, {entry['model']}"
    if entry.get("base_url"):
        text += f" at {entry['base_url']}"
    return text


def _list(args: argparse.Namespace) -> int:
    from core.config_yaml import model_to_dict
    from core.store.peek import peek_configs

    # Read with sqlite3 when the file needs nothing from the store (the usual case): the
    # command then starts in a fraction of the time SQLAlchemy's import takes.
    configs = peek_configs()
    if configs is None:
        configs = open_store().list_configs()
    else:
        from tui.logsetup import register_key_env

        register_key_env(config.api_key_env for config in configs)  # as open_store does
    if args.json:
        print_json([{"id": c.id, **model_to_dict(c), "key_status": c.key_status()} for c in configs])
        return EXIT_OK
    rows = [
        (
            c.id,
            c.name,
            c.provider,
            c.model,
            c.effective_base_url() or ("embedded" if c.provider == "simulator" else "default"),
            f"{c.api_key_env}: {c.key_status()}" if c.api_key_env else c.key_status(),
            f"${c.price_input:g} / ${c.price_output:g}" if c.price_input or c.price_output else None,
        )
        for c in configs
    ]
    print_table(rows, ("ID", "NAME", "PROVIDER", "MODEL", "BASE URL", "KEY", "PRICE IN/OUT PER MTOK"))
    if not configs:
        print("no model configs; add one with 'llmwb models add' or 'llmwb models import FILE'", file=sys.stderr)
    return EXIT_OK


def _remove(store, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    if not store.remove_config(args.name):
        raise UsageError(f"no model config named {args.name!r}")
    print(f"removed {args.name}")
    return EXIT_OK


def _import(store, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from core.config_yaml import ConfigError, import_config, load_config_file
    from core.store.db import DuplicateName

    refuse_the_database(Path(args.file), str(args.file), "a config file", store.path)
    try:
        config = load_config_file(args.file)
        report = import_config(store, config)  # one transaction: all entries or none
    except (ConfigError, DuplicateName) as error:
        raise UsageError(str(error)) from None
    print(f"imported {args.file}: {report.summary()}")
    return EXIT_OK


def _export(store, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from core.config_yaml import export_config

    text = export_config(store)
    if args.file is None:
        sys.stdout.write(text)
        return EXIT_OK
    from core.paths import names_the_database

    if names_the_database(args.file, store.path):
        raise UsageError(f"refusing to write over llmwb's database {args.file}: name another file")
    try:
        args.file.write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot write {args.file}: {error.strerror or error}") from None
    print(f"exported {len(store.list_configs())} model configs to {args.file}", file=sys.stderr)
    return EXIT_OK
