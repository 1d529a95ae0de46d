"""Whether a patron's chat takes notices: blocked when Telegram says she blocked the bot, open
again as soon as she writes to it.

Called on every update (:mod:`bot.handlers.delivery`), so the common case — a chat that was
never blocked — costs one indexed read and no write.
"""

from __future__ import annotations

from datetime import datetime

from bot.services.context import Library
from db import outbox_delivery as repo

BLOCKED_THE_BOT = "blocked the bot"


async def patron_came_back(library: Library, telegram_user_id: int) -> bool:
    """She wrote (pressed, chose…) again: notices may reach her chat. True if it was blocked."""
    if not await repo.is_chat_undeliverable(library.store.reader, telegram_user_id):
        return False
    async with library.store.transaction() as conn:
        return await repo.clear_chat_undeliverable(conn, telegram_user_id)


async def patron_blocked_bot(library: Library, telegram_user_id: int, now: datetime) -> None:
    """Telegram told us she blocked the bot: write nothing to her chat until she comes back
    (the dispatcher would learn it from a 403 anyway; this spares the call)."""
    async with library.store.transaction() as conn:
        await repo.mark_user_undeliverable(conn, telegram_user_id, now, BLOCKED_THE_BOT)
