"""One error handler: log the update, tell the patron in her language, never a stack trace.

The apology comes with the menu, so that she has a next step (try again, or something else)
instead of a dead end; in a group only the words, since the menu's buttons are personal.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Update

from bot.handlers.context import BotApplication, BotContext, is_private, keyboard, who
from bot.handlers.start import main_menu
from bot.i18n import Translator, something_went_wrong

log = logging.getLogger("bibliobot")


async def on_error(update: object, context: BotContext) -> None:
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("update %s failed", update_id, exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    try:
        t, linked = await _translator(update, context)
        if update.callback_query is not None:
            await update.callback_query.answer()
        await context.bot.send_message(
            update.effective_chat.id,
            something_went_wrong(t),
            reply_markup=_menu(update, t, linked),
        )
    except Exception:
        # Telegram itself may be what failed: the log has it, there is nobody else to tell.
        log.exception("could not tell the user about the failure of update %s", update_id)


async def _translator(update: Update, context: BotContext) -> tuple[Translator, bool]:
    """The patron's language from the store, and whether her card is linked; her Telegram
    language if the store is what failed (then the linked menu: its buttons explain how to
    link to someone who has no card, while "link my card" would puzzle someone who has)."""
    try:
        account, t = await who(update, context)
    except Exception:
        user = update.effective_user
        language = context.i18n.negotiate(user.language_code if user is not None else None)
        return context.i18n.translator(language), True
    return t, account.linked


def _menu(update: Update, t: Translator, linked: bool) -> InlineKeyboardMarkup | None:
    if not is_private(update):
        return None
    return keyboard(*main_menu(t, linked))


def register(app: BotApplication) -> None:
    app.add_error_handler(on_error)
