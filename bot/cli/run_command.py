"""``bibliobot run``: the bot, by long polling or (with ``--webhook-url``) by webhooks.

PTB's ``run_polling`` / ``run_webhook`` own the event loop and the signals (Ctrl-C, SIGTERM
from systemd): the store is opened in ``post_init`` and closed in ``post_shutdown``, so a
stopped bot leaves nothing half-written.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import sys
from typing import Any
from urllib.parse import urlsplit

from telegram import Update
from telegram.error import InvalidToken, TelegramError

from bot.app import build_application
from bot.cli.common import EXIT_OK, EXIT_REFUSED, EXIT_USAGE
from bot.handlers.context import BotApplication
from bot.settings import Settings

Subparsers = Any


def register(commands: Subparsers) -> None:
    run = commands.add_parser("run", help="run the bot (long polling, or webhooks)")
    run.add_argument(
        "--webhook-url",
        metavar="URL",
        help="the public HTTPS address Telegram posts updates to (default: long polling)",
    )
    run.add_argument("--listen", default="127.0.0.1", help="address to listen on (webhooks)")
    run.add_argument("--port", type=int, default=8443, help="port to listen on (webhooks)")
    run.add_argument(
        "--secret",
        help="secret token Telegram sends with each update (webhooks; default: random)",
    )
    run.set_defaults(handler=run_bot)


def run_bot(args: argparse.Namespace, settings: Settings) -> int:
    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if args.webhook_url and not _is_web_address(args.webhook_url):
        print(
            f"usage error: --webhook-url: {args.webhook_url!r} is not an http(s) address "
            "(e.g. https://bot.example.org/bibliobot)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    app = build_application(settings)
    try:
        # Before PTB takes over (and logs failures with tracebacks): a wrong token or a Bot
        # API that cannot be reached is one line for the administrator.
        asyncio.run(_preflight(app))
        _serve(app, args)
    except InvalidToken:
        print(
            "refused: Telegram does not accept [telegram] token: check it with BotFather",
            file=sys.stderr,
        )
        return EXIT_REFUSED
    except TelegramError as error:
        print(
            f"refused: cannot talk to the Bot API at {settings.telegram.base_url}: {error}",
            file=sys.stderr,
        )
        return EXIT_REFUSED
    return EXIT_OK


async def _preflight(app: BotApplication) -> None:
    async with app.bot:
        await app.bot.get_me()


def webhook_path(url: str) -> str:
    """The path the bot listens on: the webhook URL's own (``https://host/a/b`` → ``a/b``),
    so that Telegram's posts, passed through as they are by a reverse proxy, find it; a URL
    without a path listens at the root."""
    return urlsplit(url).path.strip("/")


def _is_web_address(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _serve(app: BotApplication, args: argparse.Namespace) -> None:
    if args.webhook_url:
        secret = args.secret or secrets.token_urlsafe(24)
        app.run_webhook(
            listen=args.listen,
            port=args.port,
            url_path=webhook_path(args.webhook_url),
            webhook_url=args.webhook_url,
            secret_token=secret,
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        app.run_polling(allowed_updates=Update.ALL_TYPES)
