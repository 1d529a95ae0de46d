"""The Bot API methods the emulator implements, by name; the rest answer "not implemented"."""

from __future__ import annotations

from bot.sandbox.core import Handler
from bot.sandbox.methods import bot, chats, messages

HANDLERS: dict[str, Handler] = {**bot.HANDLERS, **chats.HANDLERS, **messages.HANDLERS}
