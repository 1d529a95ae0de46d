"""What every handler shares: typed bot data, the user's account and language, buttons.

PTB's ``ContextTypes`` lets the application carry a typed :class:`BotData` (the library, the
translations, the settings) instead of an untyped ``bot_data`` dict, so handlers read
``context.library`` and mypy checks it.

Callback data are short prefixed strings (``renew:123``): at most 64 bytes (the Bot API's
limit, checked by :func:`callback`), and never trusted — every handler looks the id up again
in the store and checks it belongs to the user pressing the button.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.ext import Application, CallbackContext, ExtBot

from bot.handlers.handoff_state import HandoffState
from bot.handlers.staff_cache import StaffCache
from bot.i18n import I18n, Translator
from bot.reminders.dispatcher import Dispatcher
from bot.services import identity
from bot.services.context import Library
from bot.settings import Settings

CALLBACK_LIMIT = 64  # bytes, Bot API InlineKeyboardButton.callback_data


@dataclass
class BotData:
    """Everything the handlers need, set up once when the application starts (PTB creates it
    empty; ``build_application`` fills in the settings)."""

    settings: Settings | None = None
    library: Library | None = None
    i18n: I18n | None = None
    # Who is staff, answered by the staff group and kept for a minute (staff_access).
    staff: StaffCache = field(default_factory=StaffCache)
    dispatcher: Dispatcher | None = None  # the outbox's sender, started with the application
    # The chat with the librarians: per-patron locks, flood counters (handoff_state).
    handoff: HandoffState = field(default_factory=HandoffState)
    # Held while the staff group's shared topics ("Appuntamenti", interlibrary loan) are looked
    # up and created: two requests at once make one topic.
    staff_topics: asyncio.Lock = field(default_factory=asyncio.Lock)


class BotContext(CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], BotData]):
    """The handlers' context, with typed access to the library and the translations."""

    @property
    def library(self) -> Library:
        library = self.bot_data.library
        if library is None:
            raise RuntimeError("the library is opened when the application starts")
        return library

    @property
    def i18n(self) -> I18n:
        i18n = self.bot_data.i18n
        if i18n is None:
            raise RuntimeError("translations are loaded when the application starts")
        return i18n


BotApplication = Application[ExtBot[Any], BotContext, dict[Any, Any], dict[Any, Any], BotData, Any]


def system_clock() -> datetime:
    return datetime.now(UTC)


# What :func:`now` reads. Tests replace it (``monkeypatch.setattr(context, "clock", ...)``) to
# act at another instant without waiting for it: a PIN lock that ends after 15 minutes.
clock: Callable[[], datetime] = system_clock


def now() -> datetime:
    """The instant a handler acts at. Handlers are the only place that reads the clock: every
    service below takes the time as an argument."""
    return clock()


async def who(update: Update, context: BotContext) -> tuple[identity.Account, Translator]:
    """The user's account (linked card or not) and a translator in their language."""
    user = update.effective_user
    if user is None:
        raise RuntimeError("an update without a user")
    account = await identity.account(context.library, user.id)
    language = account.language or context.i18n.negotiate(user.language_code)
    return account, context.i18n.translator(language)


def is_private(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type == ChatType.PRIVATE


def callback(prefix: str, *parts: object) -> str:
    """``prefix:part:part`` for a button, refusing anything over the Bot API's 64 bytes."""
    data = ":".join([prefix, *(str(part) for part in parts)])
    if not 1 <= len(data.encode()) <= CALLBACK_LIMIT:
        raise ValueError(f"callback data of {len(data.encode())} bytes: {data[:20]}...")
    return data


def parse_callback(data: str | None, prefix: str, count: int) -> list[str] | None:
    """The parts after ``prefix:``, or None when the data is not of that shape."""
    if not data:
        return None
    pieces = data.split(":")
    if pieces[0] != prefix or len(pieces) != count + 1:
        return None
    return pieces[1:]


def int_part(text: str) -> int | None:
    """An id from a button: ASCII digits only ("²" and "١٢" are digits to ``str.isdigit``,
    and the first would make ``int`` raise on a forged press)."""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 12 else None


def keyboard(*rows: list[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([row for row in rows if row])
