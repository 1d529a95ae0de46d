"""``bibliobot``: the command line of the product (INTERFACE.md lists every command).

Each command is a small async function that opens the store, calls one service and prints the
result; argument parsing and error reporting live here so every command behaves alike.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from bot import __version__
from bot.cli.common import EXIT_REFUSED, EXIT_USAGE, Refused, report_refusal
from bot.settings import ConfigError, Settings, load_settings
from db.migrate import MigrationError
from db.store import StoreError

# A command is a coroutine function, or (``run``, which owns its event loop) a plain one.
Command = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int] | int]


def build_parser() -> argparse.ArgumentParser:
    from bot.cli import (
        appointment_commands,
        catalog_commands,
        cycle_commands,
        demo_command,
        desk_commands,
        handoff_commands,
        run_command,
        store_commands,
    )

    parser = argparse.ArgumentParser(
        prog="bibliobot",
        description="Bibliobot: the library network's Telegram assistant and its desk tools.",
    )
    parser.add_argument("--config", metavar="PATH", help="TOML configuration file")
    parser.add_argument("--version", action="version", version=f"bibliobot {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    store_commands.register(commands)
    catalog_commands.register(commands)
    desk_commands.register(commands)
    appointment_commands.register(commands)
    cycle_commands.register(commands)
    handoff_commands.register(commands)
    run_command.register(commands)
    demo_command.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    handler: Command = args.handler
    as_json = bool(getattr(args, "json", False))
    try:
        outcome = handler(args, settings)
        return asyncio.run(outcome) if isinstance(outcome, Coroutine) else outcome
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    except Refused as refusal:
        return report_refusal(refusal, as_json)
    except (StoreError, MigrationError) as exc:
        return report_refusal(Refused("store_unavailable", str(exc)), as_json)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_REFUSED
    except BrokenPipeError:
        # The reader went away (`bibliobot search x --json | head`): not an error worth a
        # traceback. Point stdout at /dev/null so the interpreter's final flush stays quiet.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_REFUSED
