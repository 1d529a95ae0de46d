"""Bibliobot's own Telegram Bot API emulator, for end-to-end tests and the demo chat page.

The real PTB ``Application`` talks to it over HTTP exactly as to Telegram; every call is checked
against the Bot API spec (``api.json``, see PROVENANCE.md) and a call Telegram would refuse is
both refused (400, Telegram's wording) and recorded as a violation that fails the test.

A tour:

- :class:`Emulator` — the world (users, chats, forum topics, messages, files), the update queue,
  user actions (``send_text``, ``press_button``, ``inline_query``, ``block_bot`` …), reading
  (``transcript``, ``bot_messages``), waiting (``wait_for_reply``, ``wait_for``), faults
  (``inject_fault``) and ``violations``.
- :func:`run_emulator` — serve it on 127.0.0.1 (free port); gives the URLs for PTB.
- :mod:`bot.sandbox.control` — the same control API over HTTP under ``/_sandbox/``.
- :mod:`bot.sandbox.spec` — the validator; :mod:`bot.sandbox.limits` — limits read from prose.
- :mod:`bot.sandbox.testing` — helpers for pytest fixtures.
"""

from bot.sandbox.core import CallRecord, Violation
from bot.sandbox.emulator import Emulator
from bot.sandbox.errors import ApiError, SandboxError
from bot.sandbox.faults import Fault
from bot.sandbox.server import RunningEmulator, build_app, run_emulator
from bot.sandbox.view import ChatMessage

__all__ = [
    "ApiError",
    "CallRecord",
    "ChatMessage",
    "Emulator",
    "Fault",
    "RunningEmulator",
    "SandboxError",
    "Violation",
    "build_app",
    "run_emulator",
]
