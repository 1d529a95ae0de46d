"""One error handler: log the update, tell the patron in her language, never a stack trace."""

from __future__ import annotations

import logging

from telegram import Update

from bot.handlers.context import BotApplication, BotContext, who
from bot.i18n import Translator, something_went_wrong

log = logging.getLogger("bibliobot")


async def on_error(update: object, context: BotContext) -> None:
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("update %s failed", update_id, exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    try:
        t = await _translator(update, context)
        if update.callback_query is not None:
            await update.callback_query.answer()
        await context.bot.send_message(update.effective_chat.id, something_went_wrong(t))
    except Exception:
        # Telegram itself may be what failed: the log has it, there is nobody else to tell.
        log.exception("could not tell the user about the failure of update %s", update_id)


async def _translator(update: Update, context: BotContext) -> Translator:
    """The patron's language from the store; her Telegram language if the store is what
    failed."""
    try:
        _, t = await who(update, context)
    except Exception:
        user = update.effective_user
        return context.i18n.translator(
            context.i18n.negotiate(user.language_code if user is not None else None)
        )
    return t


def register(app: BotApplication) -> None:
    app.add_error_handler(on_error)
