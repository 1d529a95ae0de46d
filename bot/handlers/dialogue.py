"""Leaving a dialogue that waits for typed text, by doing something else.

A dialogue that waits for text (a card number, a PIN, a title for an interlibrary request)
must not outlive the patron's attention: when she sends another command or presses another
button, the dialogue ends and that command or button does what it always does. Otherwise the
next thing she types (a title to search) would be taken as the dialogue's answer.

PTB hands an update to one handler per group, and a waiting dialogue is first in group 0, so
its fallback sees the command first: :func:`pass_on` ends the dialogue (the fallback returns
``END``) after running the handler PTB would have chosen without it.
"""

from __future__ import annotations

from typing import Any, cast

from telegram import Update
from telegram.ext import BaseHandler, ConversationHandler

from bot.handlers.context import BotApplication, BotContext


async def pass_on(update: Update, context: BotContext, dialogue: str) -> None:
    """Run the first handler of group 0, other than the dialogue named ``dialogue``, that
    wants ``update``: as PTB would have, had that dialogue not been waiting."""
    application = cast(BotApplication, context.application)
    handlers: list[BaseHandler[Any, BotContext, Any]] = application.handlers.get(0, [])
    for handler in handlers:
        if isinstance(handler, ConversationHandler) and handler.name == dialogue:
            continue
        check = handler.check_update(update)
        if check is not None and check is not False:
            await handler.handle_update(update, application, check, context)
            return
