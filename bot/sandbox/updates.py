"""The bot's update queue: getUpdates long polling and webhook delivery, with Telegram's rules.

Semantics reproduced because PTB's polling loop depends on them:
- an update stays queued until a later getUpdates passes an ``offset`` above its id (so updates
  handed to a request whose client went away are not lost);
- a negative offset keeps only the last ``-offset`` updates;
- ``timeout`` makes the call wait until an update arrives (it returns at once when one does);
- ``allowed_updates`` filters updates created *after* the call; ``[]`` restores the default (all
  but chat_member, message_reaction and message_reaction_count) and omitting it keeps the last;
- a second concurrent getUpdates ends the first with 409 "terminated by other getUpdates request";
- while a webhook is set, getUpdates answers 409 and updates are POSTed to the webhook instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.sandbox.errors import conflict

JsonDict = dict[str, Any]
log = logging.getLogger(__name__)

UPDATE_TYPES = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
)
DEFAULT_ALLOWED = frozenset(UPDATE_TYPES) - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}


@dataclass
class Webhook:
    """The webhook the bot registered with setWebhook."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None


class UpdateQueue:
    """Pending updates, in id order, consumed by getUpdates or pushed to a webhook."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._pending: list[JsonDict] = []
        self._next_id = 1
        self.allowed: frozenset[str] = DEFAULT_ALLOWED
        self.webhook: Webhook | None = None
        self._arrived = asyncio.Event()
        self._poll_generation = 0
        self._closing = False
        self._delivery: asyncio.Task[None] | None = None

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    def set_allowed(self, allowed: list[str] | None) -> None:
        if allowed is None:
            return
        self.allowed = frozenset(allowed) if allowed else DEFAULT_ALLOWED

    def push(self, kind: str, payload: JsonDict) -> JsonDict | None:
        """Queue an update of ``kind``; None when the bot's allowed_updates exclude it."""
        if kind not in self.allowed:
            return None
        update = {"update_id": self._next_id, kind: payload}
        self._next_id += 1
        self._pending.append(update)
        self._wake()
        return update

    def drop_pending(self) -> None:
        self._pending.clear()

    def take_pending(self) -> list[JsonDict]:
        """The updates not yet fetched, removed from the queue: for a test that hands them to
        the application itself (``process_update``, several at once)."""
        taken, self._pending = self._pending, []
        return taken

    def _wake(self) -> None:
        event, self._arrived = self._arrived, asyncio.Event()
        event.set()

    def _confirm(self, offset: int) -> None:
        if offset < 0:
            self._pending = self._pending[offset:]
        elif offset:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]

    async def get_updates(
        self, offset: int, limit: int, wait_seconds: float, allowed: list[str] | None
    ) -> list[JsonDict]:
        """The getUpdates method (parameters already validated and defaulted)."""
        if self.webhook is not None:
            raise conflict(
                "can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first"
            )
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake()  # an earlier poller notices it was superseded
        self._confirm(offset)
        self.set_allowed(allowed)
        deadline = asyncio.get_running_loop().time() + max(wait_seconds, 0.0)
        while not self._pending and not self._closing:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                break
            arrived = self._arrived
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(arrived.wait(), remaining)
            if generation != self._poll_generation:
                raise conflict(
                    "terminated by other getUpdates request; "
                    "make sure that only one bot instance is running"
                )
        return self._pending[:limit]

    # -- webhooks -------------------------------------------------------------------------------

    def set_webhook(self, webhook: Webhook | None, drop_pending: bool) -> None:
        if drop_pending:
            self.drop_pending()
        self.webhook = webhook
        if self._delivery is not None:
            self._delivery.cancel()
            self._delivery = None
        if webhook is not None and webhook.url:
            self._delivery = asyncio.get_running_loop().create_task(self._deliver(webhook))
        self._wake()

    def webhook_info(self) -> JsonDict:
        hook = self.webhook
        info: JsonDict = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": self.pending_count,
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            info["allowed_updates"] = sorted(self.allowed)
            if hook.last_error_date is not None:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message or ""
        return info

    async def _deliver(self, hook: Webhook) -> None:
        """POST pending updates one at a time, in order; retry with a short backoff on failure."""
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
        backoff = 0.05
        async with aiohttp.ClientSession() as session:
            while not self._closing:
                if not self._pending:
                    arrived = self._arrived
                    await arrived.wait()
                    continue
                update = self._pending[0]
                error = await self._post(session, hook.url, update, headers)
                if error is None:
                    if self._pending and self._pending[0] is update:
                        self._pending.pop(0)
                    backoff = 0.05
                    continue
                hook.last_error_date = int(self._clock())
                hook.last_error_message = error
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 1.0)

    @staticmethod
    async def _post(
        session: aiohttp.ClientSession, url: str, update: JsonDict, headers: dict[str, str]
    ) -> str | None:
        try:
            async with session.post(
                url, json=update, headers=headers, timeout=aiohttp.ClientTimeout(total=10)
            ) as response:
                if 200 <= response.status < 300:
                    return None
                return f"Wrong response from the webhook: {response.status} {response.reason}"
        except (aiohttp.ClientError, TimeoutError) as error:
            return f"Connection failed: {error!r}"

    async def close(self) -> None:
        """Release long polls at once and stop webhook delivery (emulator shutdown)."""
        self._closing = True
        self._wake()
        if self._delivery is not None:
            self._delivery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._delivery
            self._delivery = None
