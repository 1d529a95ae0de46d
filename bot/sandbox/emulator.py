"""The Telegram Bot API emulator: the object tests and the chat page hold.

``Emulator`` = the Bot API entry point and shared rules (:mod:`bot.sandbox.core`) + users acting
(:mod:`bot.sandbox.actions`) + what is defined here: reading chats, awaiting conditions, fault
injection and the list of spec violations. Serve it over HTTP with
:func:`bot.sandbox.server.run_emulator`.

Waiting does not poll on a timer for the emulator's own state: every change to the world (and
every Bot API call) wakes the waiters, which re-check their condition. A condition may also look
at state outside the emulator (a list a handler appends to), which nothing here can observe, so
waiters also re-check every ``recheck_interval`` seconds (50 ms). A wait fails at once when the
bot makes a call that breaks the spec, so a test shows the violation instead of a bare time-out.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any, TypeVar

from bot.sandbox.actions import UserActions
from bot.sandbox.core import CallRecord, Violation
from bot.sandbox.errors import SandboxError
from bot.sandbox.faults import Fault, FaultKind
from bot.sandbox.view import ChatMessage
from bot.sandbox.world import Chat, Topic

JsonDict = dict[str, Any]
T = TypeVar("T")


class Emulator(UserActions):
    """An in-memory Telegram for one bot. See the module docs of bot.sandbox for a tour."""

    recheck_interval = 0.05

    # -- reading the world --------------------------------------------------------------------

    def chat(self, chat_id: int) -> Chat:
        return self._chat(chat_id)

    def transcript(self, chat_id: int, thread_id: int | None = None) -> list[ChatMessage]:
        """Messages of a chat (of one topic when ``thread_id`` is given), edits applied."""
        chat = self._chat(chat_id)
        return [ChatMessage.of(m, self.bot.id) for m in chat.live_messages(thread_id)]

    def bot_messages(self, chat_id: int, thread_id: int | None = None) -> list[ChatMessage]:
        return [m for m in self.transcript(chat_id, thread_id) if m.from_bot]

    def message(self, chat_id: int, message_id: int) -> ChatMessage:
        return ChatMessage.of(self._stored(self._chat(chat_id), message_id), self.bot.id)

    def topics(self, chat_id: int, *, include_deleted: bool = False) -> list[Topic]:
        chat = self._chat(chat_id)
        return [t for t in chat.topics.values() if include_deleted or not t.deleted]

    def callback_answer(self, query_id: str) -> JsonDict | None:
        state = self.callbacks.get(query_id)
        return state.answer if state else None

    def inline_answer(self, query_id: str) -> JsonDict | None:
        state = self.inline_queries.get(query_id)
        return state.answer if state else None

    def calls_to(self, method: str) -> list[CallRecord]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    def commands_for(
        self, chat_id: int, user_id: int | None = None, language_code: str | None = None
    ) -> list[JsonDict]:
        """The command menu a client would show, resolving scopes as Telegram documents."""
        chat = self._chat(chat_id)
        user = self.world.users.get(user_id if user_id is not None else chat_id)
        language = (
            language_code if language_code is not None else (user.language_code if user else "")
        )
        scopes: list[JsonDict] = []
        if chat.type == "private":
            scopes += [{"type": "chat", "chat_id": chat.id}, {"type": "all_private_chats"}]
        else:
            admin = user is not None and self.world.member(chat, user.id).is_admin
            if user is not None:
                scopes.append({"type": "chat_member", "chat_id": chat.id, "user_id": user.id})
            if admin:
                scopes.append({"type": "chat_administrators", "chat_id": chat.id})
            scopes.append({"type": "chat", "chat_id": chat.id})
            if admin:
                scopes.append({"type": "all_chat_administrators"})
            scopes.append({"type": "all_group_chats"})
        scopes.append({"type": "default"})
        for scope in scopes:
            key = json.dumps(scope, sort_keys=True)
            for lang in (language or "", ""):
                if (key, lang) in self.profile.commands:
                    return self.profile.commands[(key, lang)]
        return []

    def state(self) -> JsonDict:
        """Everything the chat page needs to draw itself from scratch."""
        return {
            "bot": self.bot.to_api(),
            "users": [u.to_api() for u in self.world.users.values() if not u.is_bot],
            "chats": [self.chat_summary(c) for c in self.world.chats.values()],
            "last_seq": self.events.last_seq,
        }

    # -- waiting ------------------------------------------------------------------------------

    async def wait_for(
        self,
        predicate: Callable[[], T | None],
        *,
        within: float = 5.0,
        what: str = "condition",
        fail_on_violation: bool = True,
    ) -> T:
        """Return ``predicate()`` as soon as it is truthy; AssertionError after ``within`` s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        seen = len(self.violations)
        while True:
            result = predicate()
            if result:
                return result
            if fail_on_violation and len(self.violations) > seen:
                news = "\n".join(str(v) for v in self.violations[seen:])
                raise AssertionError(f"while waiting for {what}, the bot broke the spec:\n{news}")
            remaining = deadline - loop.time()
            if remaining <= 0 or self.events.closing:
                raise AssertionError(
                    f"timed out after {within}s waiting for {what}\n{self._dump()}"
                )
            await self.events.changed(min(remaining, self.recheck_interval))

    async def wait_for_bot_messages(
        self,
        chat_id: int,
        count: int = 1,
        *,
        after: int | ChatMessage = 0,
        thread_id: int | None = None,
        within: float = 5.0,
    ) -> list[ChatMessage]:
        """The first ``count`` bot messages in the chat with id above ``after``."""
        floor = after.message_id if isinstance(after, ChatMessage) else after

        def ready() -> list[ChatMessage] | None:
            found = [m for m in self.bot_messages(chat_id, thread_id) if m.message_id > floor]
            return found[:count] if len(found) >= count else None

        what = f"{count} bot message(s) in chat {chat_id} after #{floor}"
        return await self.wait_for(ready, within=within, what=what)

    async def wait_for_reply(
        self,
        chat_id: int,
        after: int | ChatMessage = 0,
        *,
        thread_id: int | None = None,
        within: float = 5.0,
    ) -> ChatMessage:
        """The bot's first message in the chat after ``after`` (e.g. the user's message)."""
        found = await self.wait_for_bot_messages(
            chat_id, 1, after=after, thread_id=thread_id, within=within
        )
        return found[0]

    async def wait_for_callback_answer(self, query_id: str, *, within: float = 5.0) -> JsonDict:
        # An answer without text is stored as {}: wait for it to exist, not to be non-empty.
        await self.wait_for(
            lambda: self.callback_answer(query_id) is not None,
            within=within,
            what=f"answerCallbackQuery for {query_id}",
        )
        return self.callback_answer(query_id) or {}

    async def wait_for_inline_answer(self, query_id: str, *, within: float = 5.0) -> JsonDict:
        await self.wait_for(
            lambda: self.inline_answer(query_id) is not None,
            within=within,
            what=f"answerInlineQuery for {query_id}",
        )
        return self.inline_answer(query_id) or {}

    async def wait_for_calls(
        self, method: str, count: int = 1, *, within: float = 5.0
    ) -> list[CallRecord]:
        """The first ``count`` calls of ``method`` the bot made (whatever their outcome)."""

        def ready() -> list[CallRecord] | None:
            found = self.calls_to(method)
            return found[:count] if len(found) >= count else None

        return await self.wait_for(ready, within=within, what=f"{count} call(s) to {method}")

    def _dump(self) -> str:
        lines = ["recent calls:"]
        lines += [
            f"  {c.method} -> {c.status} {c.description or ''}"
            for c in self.calls[-8:]
            if c.method != "getUpdates"
        ]
        lines.append("chats:")
        for chat in self.world.chats.values():
            for message in chat.live_messages()[-5:]:
                lines.append(f"  {ChatMessage.of(message, self.bot.id)}")
        return "\n".join(lines)

    # -- faults and violations ----------------------------------------------------------------

    def inject_fault(
        self,
        kind: FaultKind,
        *,
        method: str | None = None,
        chat_id: int | str | None = None,
        times: int | None = 1,
        retry_after: int = 1,
        delay: float = 0.0,
        status: int = 500,
        description: str | None = None,
    ) -> Fault:
        """Make the next ``times`` matching calls fail (``times=None``: all of them).

        kinds: ``retry_after`` (429 + parameters.retry_after), ``server_error`` (``status``,
        default 500), ``delay`` (answer ``delay`` seconds late, then carry the call out),
        ``forbidden`` (403), ``bad_request`` (400 with ``description``).
        """
        if kind not in ("retry_after", "server_error", "delay", "forbidden", "bad_request"):
            raise SandboxError(f"unknown fault kind {kind!r}")
        fault = Fault(kind, method, chat_id, times, retry_after, delay, status, description)
        self.events.emit("fault", fault=fault.to_json())
        return self.faults.add(fault)

    def clear_faults(self) -> None:
        self.faults.clear()

    def take_violations(self) -> list[Violation]:
        """Return and forget the violations so far (for tests that provoke them on purpose)."""
        taken, self.violations = self.violations, []
        return taken
