"""Before any other handler: a patron who blocked the bot and writes again takes notices again.

A ``TypeHandler`` in group -2 sees every update and never stops the others (group -1 is
the chat with the librarians, which may stop the rest). A ``my_chat_member``
update saying she blocked the bot ("kicked") marks her chat at once; any other update from her
(a message, a button, unblocking) reopens it. A failure here is logged and swallowed: it must
not turn the patron's own request into an error message.
"""

from __future__ import annotations

import logging

from telegram import ChatMember, Update
from telegram.ext import TypeHandler

from bot.handlers.context import BotApplication, BotContext, now
from bot.services import delivery

log = logging.getLogger("bibliobot")
GROUP = -2  # before every other handler, the handoff's group -1 included


async def track_reachability(update: Update, context: BotContext) -> None:
    user = update.effective_user
    if user is None or user.is_bot or context.bot_data.library is None:
        return
    try:
        member = update.my_chat_member
        if member is not None and member.new_chat_member.status == ChatMember.BANNED:
            if member.chat.id == user.id:  # her private chat, not a group removing the bot
                await delivery.patron_blocked_bot(context.library, user.id, now())
            return
        if await delivery.patron_came_back(context.library, user.id):
            log.info("user %s is reachable again", user.id)
    except Exception:
        log.exception("could not update whether user %s is reachable", user.id)


def register(app: BotApplication) -> None:
    app.add_handler(TypeHandler(Update, track_reachability), group=GROUP)
