"""``bibliobot demo`` (what ``make demo`` runs): the demo library, the bot and the chat page."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any

from bot.cli.common import EXIT_OK
from bot.settings import Settings

Subparsers = Any
DEFAULT_DATABASE = Path("bibliobot-demo.sqlite3")


def register(commands: Subparsers) -> None:
    demo = commands.add_parser(
        "demo", help="a demo library and the bot in a chat page on 127.0.0.1 (no Telegram)"
    )
    demo.add_argument(
        "--port", type=int, default=8080, help="the page's port (a free one if it is taken)"
    )
    demo.add_argument("--host", default="127.0.0.1", help="the page's address (default local)")
    demo.add_argument(
        "--database",
        type=Path,
        default=DEFAULT_DATABASE,
        help=f"the demo's SQLite file, rebuilt at every start (default {DEFAULT_DATABASE})",
    )
    demo.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.demo.runner import serve_forever

    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(logging.WARNING)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_forever(settings, path=args.database, host=args.host, port=args.port))
    return EXIT_OK
