"""Patron-bot handlers: being written (issue 4); `register` adds them to the application."""

from __future__ import annotations

from bot.handlers.context import BotApplication


def register(app: BotApplication) -> None:
    """Nothing registered yet."""
