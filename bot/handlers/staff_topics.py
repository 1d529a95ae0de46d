"""The staff group's shared topics ("Appuntamenti", "Interlibrary loan") when one is deleted.

Both are created once by the bot and their ids kept in the settings store; a librarian can
still delete one by hand (Telegram sends the bot no update for it). A card sent there then
fails with "message thread not found". :func:`replace` forgets the lost topic and makes it
again, under the staff topics' lock (``BotData.staff_topics``), and only when the lost topic is
still the one stored: cards failing at the same moment (or one queued long ago in the outbox)
find the topic another card already made again, and use it — a deletion makes one new topic.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram.error import BadRequest, TelegramError

from bot.handlers.context import BotContext


def topic_deleted(error: TelegramError) -> bool:
    """Telegram's ways of saying a topic is not there any more."""
    text = str(error).lower()
    return isinstance(error, BadRequest) and (
        "thread not found" in text or "topic_deleted" in text or "topic_id_invalid" in text
    )


async def replace(
    context: BotContext,
    lost: int,
    *,
    stored: Callable[[], Awaitable[int | None]],
    forget: Callable[[], Awaitable[None]],
    make: Callable[[], Awaitable[int | None]],
) -> int | None:
    """The topic to post in instead of ``lost``, which was deleted: the one ``make`` returns
    (it creates one when none is stored; None means the general chat). ``stored``, ``forget``
    and ``make`` are the topic's own store and maker, called here under the lock."""
    async with context.bot_data.staff_topics:
        if await stored() == lost:
            await forget()
        return await make()
