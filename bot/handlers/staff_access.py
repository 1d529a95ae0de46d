"""Who is staff: membership of the staff group (``[telegram] staff_chat_id``), or an admin.

Powers come from configuration only (the brief's security rule): a Telegram user is staff while
she is a member of the configured staff group, asked of Telegram at every press, so that
removing someone from the group removes her powers at once.
"""

from __future__ import annotations

import logging

from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError

from bot.handlers.context import BotContext

log = logging.getLogger("bibliobot.staff")

_MEMBER = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER)


async def is_staff(context: BotContext, user_id: int) -> bool:
    settings = context.bot_data.settings
    if settings is None:
        return False
    if user_id in settings.telegram.admin_user_ids:
        return True
    chat_id = settings.telegram.staff_chat_id
    if chat_id is None:
        return False
    try:
        member = await context.bot.get_chat_member(chat_id, user_id)
    except TelegramError as error:
        log.warning("cannot check staff membership of %s: %s", user_id, error)
        return False
    if member.status in _MEMBER:
        return True
    return member.status == ChatMemberStatus.RESTRICTED and bool(
        getattr(member, "is_member", False)
    )
