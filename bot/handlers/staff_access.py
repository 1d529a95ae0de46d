"""Who is staff: the members of the staff forum group (``[telegram] staff_chat_id``).

Staff powers come only from membership of the staff group (issue 6): a Telegram user is staff
while ``getChatMember`` in the staff group says ``creator``, ``administrator`` or ``member``. A
restricted member, one who left or was removed, and everybody when no staff group is
configured, is not — the bot's administrators (``[telegram] admin_user_ids``, who own
``/admin``) included: they are staff by being in the group, like everyone else. The answer is cached
for :data:`STAFF_CACHE_SECONDS` in the typed :class:`~bot.handlers.context.BotData`
(``staff``), so a burst of staff commands costs one Bot API call, and a librarian removed from
the group loses her powers within a minute.

How other handlers use it::

    from bot.handlers.staff_access import is_staff, staff_only

    @staff_only
    async def close_command(update: Update, context: BotContext) -> None:
        ...  # only runs for staff, in the staff group

    app.add_handler(CommandHandler("close", close_command))

    if await is_staff(context, user.id):  # in a button of a card posted in the staff group
        ...

:func:`staff_only` refuses, with a translated sentence, a command sent by someone who is not
staff or sent outside the staff group (a private chat, another group); for a button it answers
the callback query with an alert. :func:`staff_chat_filter` is the PTB filter for "in the staff
group" when a handler should not even see other chats.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from telegram import Message, Update
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import filters

from bot.handlers.context import BotContext, who
from bot.handlers.staff_cache import STAFF_CACHE_SECONDS, StaffCache
from bot.i18n import Translator
from bot.settings import Settings

log = logging.getLogger("bibliobot.staff")

__all__ = [
    "STAFF_CACHE_SECONDS",
    "STAFF_STATUSES",
    "StaffCache",
    "in_staff_chat",
    "is_staff",
    "staff_chat_filter",
    "staff_chat_id",
    "staff_only",
    "staff_translator",
    "user_translator",
]

STAFF_STATUSES = frozenset(
    {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER}
)

R = TypeVar("R")
Handler = Callable[[Update, BotContext], Coroutine[Any, Any, R]]


def staff_chat_id(context: BotContext) -> int | None:
    settings = context.bot_data.settings
    return settings.telegram.staff_chat_id if settings is not None else None


def in_staff_chat(update: Update, context: BotContext) -> bool:
    """Is this update from the staff group (a message there, or a button on a message there)?"""
    chat_id = staff_chat_id(context)
    chat = update.effective_chat
    return chat_id is not None and chat is not None and chat.id == chat_id


async def is_staff(context: BotContext, user_id: int) -> bool:
    """Is ``user_id`` a member of the staff group now (cached for a minute)?"""
    chat_id = staff_chat_id(context)
    if chat_id is None:
        return False
    cache = context.bot_data.staff
    clock = time.monotonic()
    cached = cache.get(user_id, clock)
    if cached is not None:
        return cached
    try:
        member = await context.bot.get_chat_member(chat_id, user_id)
    except (BadRequest, Forbidden) as error:
        # "user not found", or the bot is no longer in the group: nobody is staff through it.
        log.info("staff check for %s in %s: %s", user_id, chat_id, error)
        cache.put(user_id, False, clock)
        return False
    except TelegramError:
        # Telegram did not answer: refuse this time, ask again next time (nothing cached).
        log.warning("staff check for %s failed; refusing for now", user_id, exc_info=True)
        return False
    answer = member.status in STAFF_STATUSES
    cache.put(user_id, answer, clock)
    return answer


def staff_translator(context: BotContext) -> Translator:
    """Staff read the library's default language: the group is shared by every librarian."""
    return context.i18n.translator()


async def user_translator(update: Update, context: BotContext) -> Translator:
    """The language of whoever wrote or pressed: a refusal is read by someone who may not be
    staff at all (a patron who forged a button, a stranger in the group), so it is in her own
    language — the one she chose in the bot, else her Telegram app's — not the staff group's."""
    if update.effective_user is None:
        return staff_translator(context)
    _, t = await who(update, context)
    return t


def staff_only(handler: Handler[R]) -> Handler[R | None]:
    """Run ``handler`` only for staff in the staff group; tell anybody else why not."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: BotContext) -> R | None:
        user = update.effective_user
        allowed = (
            user is not None and in_staff_chat(update, context) and await is_staff(context, user.id)
        )
        if allowed:
            return await handler(update, context)
        await _refuse(update, context)
        return None

    return guarded


async def _refuse(update: Update, context: BotContext) -> None:
    t = await user_translator(update, context)
    text = t.gettext("This command is for the library's staff, in the staff group.")
    query = update.callback_query
    if query is not None:
        await query.answer(text, show_alert=True)
        return
    message = update.effective_message
    if isinstance(message, Message):
        await message.reply_text(text)


def staff_chat_filter(settings: Settings) -> filters.BaseFilter:
    """Messages in the staff group (nothing at all when no staff group is configured)."""
    chat_id = settings.telegram.staff_chat_id
    if chat_id is None:
        return filters.Chat(chat_id=[])  # an empty Chat filter matches no chat
    return filters.Chat(chat_id=chat_id)
