"""The outbox dispatcher: sends every due notice through the Bot API, within Telegram's limits.

It is generic: a row carries an :class:`~bot.reminders.outgoing.OutgoingMessage` already rendered
in the patron's language, and the dispatcher only addresses it (``chat_id`` NULL = the patron's
linked chat, looked up when it is sent), paces it (:mod:`bot.reminders.pacing`), sends it and
records the outcome. It works on a PTB ``Bot``, so the running application drains with its own
bot (:mod:`bot.reminders.dispatch_job`) and a standalone process with a plain ``Bot``
(:func:`drain_once`).

What happens to a notice, and why:

- sent → ``sent`` with the message id;
- 429 ``retry_after`` → everything pauses that long (Telegram counts the bot, not the chat) and
  the notice goes back to ``pending`` without using up an attempt;
- network errors, time-outs, 5xx → back-off, ``base × 2^(attempt−1)`` capped; after
  ``max_attempts``, or when the next try would be past ``expires_at``, the notice is
  ``undeliverable`` / ``expired`` with the last error (a time-out may have been delivered all the
  same; retrying it is the at-least-once side of "never lose a notice");
- 403 (blocked, never started) → ``undeliverable`` and the patron's chat is marked so
  (``telegram_links.undeliverable_at``): her other notices become undeliverable without calling
  Telegram until she writes to the bot again (:mod:`bot.handlers.delivery`);
- 400 (chat not found, bad HTML…) → ``undeliverable`` with Telegram's words; except that a
  notice for a forum topic is first offered to the ``rethread`` hook, which may give it a new
  topic (a staff card whose topic was deleted by hand): it is then sent again at once, the
  attempt counted, so a topic that keeps failing ends as ``undeliverable`` all the same;
- no linked chat → ``undeliverable`` ("not linked"); past ``expires_at`` → ``expired``, unsent.

Crash safety is the store's lease (:mod:`db.outbox_delivery`): a process killed mid-send leaves
its rows ``sending``; they are due again when the lease ends.

Quiet hours (:class:`QuietRule`, given by the running bot): a scheduled notice to a person that
comes due during them — queued before an outage that lasted into the night, a retry that fell
after 21:00, a long queue still draining — is held until they end, or recorded expired if it
would be stale by then. Answers to what a patron asked for (an appointment decided, an
interlibrary update) and staff cards are not held.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiosqlite
from pydantic import ValidationError
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError
from telegram.request import HTTPXRequest

from bot.reminders.outgoing import OutgoingMessage
from bot.reminders.pacing import SendPacer
from bot.reminders.quiet import QuietHours, next_allowed
from db import outbox_delivery as outbox
from db.outbox_delivery import ClaimedNotice, DueNotice
from db.store import Store

log = logging.getLogger("bibliobot.dispatch")

Clock = Callable[[], datetime]
POLL = 0.01  # seconds: how often to look again while sends in flight may free the limits


@dataclass(frozen=True, slots=True)
class NewThread:
    """Where a notice refused for its forum topic goes instead (None: the chat itself)."""

    thread_id: int | None


# A notice for a forum topic got a 400: the topic to send it to instead, or None (give up).
Rethread = Callable[
    [ClaimedNotice, OutgoingMessage, BadRequest], Coroutine[Any, Any, NewThread | None]
]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class DispatchPolicy:
    """How hard to try. The defaults suit Telegram; tests shorten the waits."""

    lease: timedelta = timedelta(minutes=2)  # longer than any one send, time-outs included
    max_attempts: int = 8
    backoff_base: timedelta = timedelta(seconds=15)
    backoff_cap: timedelta = timedelta(minutes=30)
    batch: int = 500  # rows read per pass
    per_chat: int = 5  # of which at most this many for one chat
    claim_ahead: int = 16  # rows claimed per transaction (about half a second of sending)
    concurrency: int = 4  # sends in flight at once (Telegram answers in ~100 ms; 30/s needs >3)
    timeout: float = 10.0  # seconds per Bot API call (connect, write, read)

    def backoff(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failed try."""
        wait: timedelta = self.backoff_base * 2 ** max(0, attempts - 1)
        return min(wait, self.backoff_cap)


@dataclass(frozen=True, slots=True)
class QuietRule:
    """Notices of ``kinds`` to people wait for the end of the quiet hours, read from the store
    at every pass (``hours``: the administrators may change them at any time)."""

    kinds: frozenset[str]
    zone: ZoneInfo
    hours: Callable[[aiosqlite.Connection], Awaitable[QuietHours]]

    async def until(self, conn: aiosqlite.Connection, now: datetime) -> datetime | None:
        """When the quiet hours holding ``now`` end; None outside them."""
        allowed = next_allowed(now, await self.hours(conn), self.zone)
        return allowed if allowed > now else None


@dataclass
class DrainReport:
    """What one drain did (for logs, the CLI and tests)."""

    sent: int = 0
    undeliverable: int = 0
    expired: int = 0
    retried: int = 0
    held: int = 0  # scheduled notices held back until the quiet hours end
    reasons: list[str] = field(default_factory=list)

    def add(self, other: DrainReport) -> None:
        self.sent += other.sent
        self.undeliverable += other.undeliverable
        self.expired += other.expired
        self.retried += other.retried
        self.held += other.held
        self.reasons += other.reasons


def retry_after_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 deprecates the int form; both are accepted
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value if isinstance(value, int) else value.total_seconds()


def render(message: OutgoingMessage) -> InlineKeyboardMarkup | None:
    if not message.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.text, callback_data=b.callback_data, url=b.url) for b in row]
            for row in message.buttons
        ]
    )


class Dispatcher:
    """Drains the outbox of one store through one bot. One drain at a time per dispatcher;
    several processes may drain the same store (claims never overlap)."""

    def __init__(
        self,
        bot: Bot,
        store: Store,
        *,
        now: Clock = utc_now,
        policy: DispatchPolicy | None = None,
        pacer: SendPacer | None = None,
        keep_going: Callable[[], bool] = lambda: True,
        quiet: QuietRule | None = None,
        rethread: Rethread | None = None,
    ) -> None:
        self.bot = bot
        self.store = store
        self.now = now
        self.policy = policy or DispatchPolicy()
        self.pacer = pacer or SendPacer()
        self.quiet = quiet
        self.rethread = rethread
        self._keep_going = keep_going
        self._stopping = False
        self._lock = asyncio.Lock()
        self._running = False
        self._again = False
        self._slots = asyncio.Semaphore(self.policy.concurrency)
        self._in_flight: set[asyncio.Task[None]] = set()
        self._report = DrainReport()

    # -- driving it ---------------------------------------------------------------------------

    def nudge(self, spawn: Callable[[Coroutine[Any, Any, DrainReport]], object]) -> None:
        """Drain soon: start a drain with ``spawn`` (e.g. ``app.create_task``), or, if one is
        running, make it look again before it ends (it may have just found nothing)."""
        if self._running:
            self._again = True
            return
        self._running = True  # until the spawned drain starts, a second nudge is a no-op
        spawn(self.drain())

    def stop(self) -> None:
        """Finish the sends in flight, start no new one."""
        self._stopping = True

    async def wait_idle(self) -> None:
        async with self._lock:
            return

    def _go_on(self) -> bool:
        return not self._stopping and self._keep_going()

    async def drain(self, *, settle: float = 0.0) -> DrainReport:
        """Send everything due now. With ``settle`` > 0, keep going while some notice (a retry,
        a flood wait) comes due within ``settle`` seconds of the outbox going quiet."""
        async with self._lock:
            self._running = True
            try:
                report = DrainReport()
                quiet_since: float | None = None
                while self._go_on():
                    self._again = False
                    handled = await self._pass(report)
                    if handled or self._again:
                        quiet_since = None
                        continue
                    wait = await self._until_next_due()
                    if quiet_since is None:
                        quiet_since = time.monotonic()
                    if wait is None or time.monotonic() + wait > quiet_since + settle:
                        break
                    await self._sleep(wait)
                return report
            finally:
                self._running = False

    async def _until_next_due(self) -> float | None:
        at = await outbox.next_due(self.store.reader)
        return None if at is None else max(0.0, (at - self.now()).total_seconds())

    async def _sleep(self, seconds: float) -> None:
        """Sleep in short steps, so a stopping application is not held up by a long wait."""
        deadline = time.monotonic() + seconds
        # (Not an Event: "the application stopped" is a flag of PTB's, not something to await.)
        while self._go_on() and (left := deadline - time.monotonic()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(min(left, 0.25))

    # -- one pass: the due rows, each sent when its chat and the overall rate allow ------------

    async def _pass(self, report: DrainReport) -> int:
        now = self.now()
        async with self.store.transaction() as conn:
            report.expired += await outbox.expire_due(conn, now)
            if self.quiet is not None and (morning := await self.quiet.until(conn, now)):
                waiting, stale = await outbox.hold_until(conn, now, morning, self.quiet.kinds)
                report.held += waiting
                report.expired += stale
        rows = await outbox.due(
            self.store.reader, now, limit=self.policy.batch, per_chat=self.policy.per_chat
        )
        # A heap of (earliest instant the row's chat is free, age): always the oldest notice
        # among those whose chat may be written to first. Keys are refreshed lazily when popped.
        heap: list[tuple[float, int, DueNotice]] = [
            (float("-inf"), order, row) for order, row in enumerate(rows)
        ]
        # Rows claimed ahead (None: gone elsewhere, or recorded undeliverable at claim time).
        held: dict[int, ClaimedNotice | None] = {}
        try:
            while heap and self._go_on():
                key, order, row = heap[0]
                if row.id in held and held[row.id] is None:
                    heapq.heappop(heap)
                    continue
                chat = self._chat_of(row, held)
                if chat is not None:
                    ready = self.pacer.chat_ready_at(chat)
                    if ready > key:
                        heapq.heapreplace(heap, (ready, order, row))
                        continue
                    wait = self.pacer.wait_for(chat)
                    if wait > 0:
                        # Ready times move earlier only when an answer comes back: poll then.
                        await self._sleep(min(wait, POLL) if wait == float("inf") else wait)
                        continue
                if row.id not in held:
                    await self._claim_ahead(heap, held, report)
                    continue  # look again: the claim read the chat afresh
                heapq.heappop(heap)
                notice = held.pop(row.id)
                assert notice is not None
                await self._launch(notice, report)
        finally:
            await self._settle()
            await self._release([n.id for n in held.values() if n is not None])
        return len(rows)

    @staticmethod
    def _chat_of(row: DueNotice, held: dict[int, ClaimedNotice | None]) -> int | None:
        notice = held.get(row.id)
        if notice is not None:
            return notice.chat_id
        return None if row.blocked else row.chat_id

    async def _claim_ahead(
        self,
        heap: list[tuple[float, int, DueNotice]],
        held: dict[int, ClaimedNotice | None],
        report: DrainReport,
    ) -> None:
        """Claim the next few rows in one transaction (one commit, not one per notice: at 30
        a second, commits are what the dispatcher would otherwise spend its time on)."""
        ahead = [row for _, _, row in heapq.nsmallest(self.policy.claim_ahead, heap)]
        now = self.now()
        async with self.store.transaction() as conn:
            for row in ahead:
                if row.id in held:
                    continue
                notice = await outbox.claim(conn, row.id, now, self.policy.lease)
                if notice is not None and (reason := self._nowhere(notice)) is not None:
                    await outbox.mark_undeliverable(conn, notice.id, reason)
                    report.undeliverable += 1
                    report.reasons.append(reason)
                    notice = None
                held[row.id] = notice

    async def _release(self, ids: list[int]) -> None:
        """Rows claimed but not sent when a pass stops early go back at once (not after the
        lease)."""
        if not ids:
            return
        try:
            async with self.store.transaction() as conn:
                await outbox.release(conn, ids, self.now())
        except Exception:
            log.exception("could not release outbox rows %s (due again after the lease)", ids)

    async def _settle(self) -> None:
        while self._in_flight:
            await asyncio.gather(*list(self._in_flight), return_exceptions=True)

    async def _launch(self, notice: ClaimedNotice, report: DrainReport) -> None:
        assert notice.chat_id is not None
        await self._slots.acquire()
        self.pacer.record(notice.chat_id)
        task = asyncio.create_task(self._deliver(notice, report))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    @staticmethod
    def _nowhere(notice: ClaimedNotice) -> str | None:
        if notice.chat_id is None:
            return outbox.NOT_LINKED
        if notice.blocked_why is not None:
            return f"{outbox.BLOCKED}: {notice.blocked_why}"
        return None

    # -- one notice ---------------------------------------------------------------------------

    async def _deliver(self, notice: ClaimedNotice, report: DrainReport) -> None:
        try:
            await self._try(notice, report)
        except Exception:
            # The store failed while recording: the row stays 'sending' and comes back when the
            # lease ends. Nothing is lost; the log says what happened.
            log.exception("outbox row %s: could not record the outcome", notice.id)
        finally:
            self._slots.release()

    async def _try(self, notice: ClaimedNotice, report: DrainReport) -> None:
        try:
            message = OutgoingMessage.from_payload(notice.payload)
        except ValidationError as error:
            assert notice.chat_id is not None
            self.pacer.done(notice.chat_id)  # launched, never sent
            await self._give_up(notice, f"invalid payload: {error.errors()[0]['msg']}", report)
            return
        try:
            message_id = await self._send(notice, message)
        except RetryAfter as error:
            seconds = retry_after_seconds(error)
            self.pacer.pause(seconds)
            await self._retry(notice, seconds, f"flood wait {seconds:g}s", report, counts=False)
        except Forbidden as error:
            async with self.store.transaction() as conn:
                await outbox.mark_undeliverable(conn, notice.id, error.message)
                await outbox.mark_chat_undeliverable(conn, notice, self.now(), error.message)
            report.undeliverable += 1
            report.reasons.append(error.message)
        except BadRequest as error:
            if not await self._rethreaded(notice, message, error, report):
                await self._give_up(notice, f"bad request: {error.message}", report)
        except ChatMigrated as error:
            if not notice.addressed:
                await self._give_up(notice, f"chat migrated: {error.new_chat_id}", report)
                return
            async with self.store.transaction() as conn:
                await outbox.readdress(conn, notice.id, error.new_chat_id)
            await self._retry(notice, 0, "chat migrated", report, counts=False)
        except TelegramError as error:  # NetworkError, TimedOut, 5xx, InvalidToken, Conflict
            await self._transient(notice, f"{type(error).__name__}: {error.message}", report)
        else:
            async with self.store.transaction() as conn:
                await outbox.mark_sent(conn, notice.id, self.now(), message_id)
            report.sent += 1

    async def _send(self, notice: ClaimedNotice, message: OutgoingMessage) -> int:
        """Send the text (unless a previous try did) and the document; the text's message id."""
        chat_id = notice.chat_id
        assert chat_id is not None
        timeout = self.policy.timeout
        message_id = notice.text_message_id
        if message_id is None:
            # The pacer recorded this send when the notice was launched (_launch).
            try:
                sent = await self.bot.send_message(
                    chat_id,
                    message.text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=render(message),
                    message_thread_id=message.thread_id,
                    read_timeout=timeout,
                    write_timeout=timeout,
                    connect_timeout=timeout,
                )
            finally:
                self.pacer.done(chat_id)
            message_id = sent.message_id
            if message.document is not None:
                async with self.store.transaction() as conn:
                    await outbox.mark_text_sent(conn, notice.id, message_id)
        else:
            self.pacer.done(chat_id)  # nothing left with the launch's slot: only the document
        if message.document is not None:
            await self._wait_for_chat(chat_id)
            self.pacer.record(chat_id)
            document = message.document
            try:
                await self.bot.send_document(
                    chat_id,
                    InputFile(document.content(), filename=document.filename),
                    message_thread_id=message.thread_id,
                    read_timeout=timeout,
                    write_timeout=timeout,
                    connect_timeout=timeout,
                )
            finally:
                self.pacer.done(chat_id)
        return message_id

    async def _wait_for_chat(self, chat_id: int) -> None:
        while (wait := self.pacer.wait_for(chat_id)) > 0:  # noqa: ASYNC110 (a clock, no event)
            await asyncio.sleep(min(wait, POLL))

    async def _rethreaded(
        self,
        notice: ClaimedNotice,
        message: OutgoingMessage,
        error: BadRequest,
        report: DrainReport,
    ) -> bool:
        """A notice for a topic that Telegram refused: when the hook moves it to another topic,
        store that (only the topic: a rewrite of the text meanwhile stands) and send it again
        at once. False: nothing to do but give up."""
        if self.rethread is None or message.thread_id is None:
            return False
        if notice.attempts >= self.policy.max_attempts:
            return False
        why = f"bad request: {error.message}"
        try:
            moved = await self.rethread(notice, message, error)
        except TelegramError as failure:  # Telegram down while making the new topic
            await self._transient(notice, f"{why}; {type(failure).__name__}: {failure}", report)
            return True
        if moved is None:
            return False
        async with self.store.transaction() as conn:
            await outbox.move_to_thread(conn, notice.id, moved.thread_id)
        moved_why = f"{why}; moved to topic {moved.thread_id}"
        await self._retry(notice, 0, moved_why, report, counts=True)
        return True

    async def _transient(self, notice: ClaimedNotice, error: str, report: DrainReport) -> None:
        if notice.attempts >= self.policy.max_attempts:
            await self._give_up(
                notice, f"gave up after {notice.attempts} attempts: {error}", report
            )
            return
        delay = self.policy.backoff(notice.attempts).total_seconds()
        await self._retry(notice, delay, error, report, counts=True)

    async def _retry(
        self, notice: ClaimedNotice, delay: float, error: str, report: DrainReport, *, counts: bool
    ) -> None:
        now = self.now()
        at = now + timedelta(seconds=delay)
        async with self.store.transaction() as conn:
            if notice.expires_at is not None and at >= notice.expires_at:
                await outbox.mark_expired(conn, notice.id, f"expired; last error: {error}")
                report.expired += 1
                return
            await outbox.reschedule(conn, notice.id, at, error, count_attempt=counts)
        report.retried += 1
        log.info("outbox row %s: %s; again in %.1fs", notice.id, error, delay)

    async def _give_up(self, notice: ClaimedNotice, reason: str, report: DrainReport) -> None:
        async with self.store.transaction() as conn:
            await outbox.mark_undeliverable(conn, notice.id, reason)
        report.undeliverable += 1
        report.reasons.append(reason)
        log.warning("outbox row %s (%s) undeliverable: %s", notice.id, notice.kind, reason)


def standalone_bot(token: str, base_url: str, policy: DispatchPolicy | None = None) -> Bot:
    """A ``Bot`` for a dispatcher of its own: with a connection for every send in flight.

    A plain ``Bot()`` has one connection, so concurrent sends would queue for it and leave in
    bunches, not when the pacer let them go; the application's bot has plenty already.
    """
    concurrency = (policy or DispatchPolicy()).concurrency
    request = HTTPXRequest(connection_pool_size=concurrency + 2)
    return Bot(token, base_url=base_url, request=request)


async def drain_once(
    bot: Bot,
    store: Store,
    now: Clock | datetime = utc_now,
    *,
    policy: DispatchPolicy | None = None,
    settle: float = 0.0,
    pacer: SendPacer | None = None,
    rethread: Rethread | None = None,
) -> DrainReport:
    """Send what is due (at ``now``: a clock, or a fixed instant) and return. The ``bot``
    must be initialized (``async with bot``). Telegram counts a bot's messages wherever they
    come from: beside another dispatcher of the same bot in this process, pass its ``pacer``
    so that the two stay within the limits together."""
    clock: Clock = (lambda: now) if isinstance(now, datetime) else now
    dispatcher = Dispatcher(bot, store, now=clock, policy=policy, pacer=pacer, rethread=rethread)
    return await dispatcher.drain(settle=settle)
