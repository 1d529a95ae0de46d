"""One error handler: log the update, tell the patron in her language, never a stack trace."""

from __future__ import annotations

import logging

from telegram import Update

from bot.handlers.context import BotApplication, BotContext, who
from bot.i18n import something_went_wrong

log = logging.getLogger("bibliobot")


async def on_error(update: object, context: BotContext) -> None:
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("update %s failed", update_id, exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    try:
        if update.effective_user is not None:
            _, t = await who(update, context)
        else:
            t = context.i18n.translator()
        if update.callback_query is not None:
            await update.callback_query.answer()
        await context.bot.send_message(update.effective_chat.id, something_went_wrong(t))
    except Exception:
        log.exception("could not tell the user about the failure of update %s", update_id)


def register(app: BotApplication) -> None:
    app.add_error_handler(on_error)
