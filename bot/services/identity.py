"""Who is writing: a Telegram account, and the library card it is linked to (if any).

Linking needs the card number and the PIN, or a one-time code from the desk. Wrong PINs are
counted per card and per Telegram account: five in a row lock that card (or that account) for
the bot for 15 minutes, so guessing PINs, or cards, from the chat is slow. A wrong card and a
wrong PIN get the same answer, so the chat does not reveal which cards exist. One card per
account, one account per card.

``/forget`` removes what this account left (the link, its preferences, its chats with the
librarians); the loans, holds and fines belong to the library and stay, and so does the
account's count of wrong PINs (under a hash of its id, :func:`account_hash`), or forgetting
would reset it.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from bot.services.context import Library
from bot.services.errors import Refusal
from bot.services.pins import hash_link_code, verify_pin
from db import circulation as circulation_repo
from db import identity as repo

MAX_PIN_FAILURES = 5
LOCK = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Account:
    """A Telegram user as the bot knows them."""

    telegram_user_id: int
    language: str | None  # chosen in the bot (None: never chosen)
    patron: circulation_repo.PatronRow | None  # the linked card
    due_reminders: bool = True

    @property
    def linked(self) -> bool:
        return self.patron is not None


async def account(library: Library, telegram_user_id: int) -> Account:
    """Read-only: what the bot needs to answer this user."""
    conn = library.store.reader
    link = await repo.link_of_user(conn, telegram_user_id)
    user = await repo.user(conn, telegram_user_id)
    patron = None
    if link is not None:
        patron = await circulation_repo.patron_by_id(conn, link.patron_id)
    language = user.language if user is not None else None
    if patron is not None:
        language = language or patron.language
    return Account(
        telegram_user_id,
        language,
        patron,
        due_reminders=link.due_reminders if link is not None else True,
    )


async def choose_language(
    library: Library, *, telegram_user_id: int, language: str, now: datetime
) -> None:
    async with library.store.transaction() as conn:
        await repo.set_user_language(conn, telegram_user_id, language, now)
        link = await repo.link_of_user(conn, telegram_user_id)
        if link is not None:
            await repo.set_patron_language(conn, link.patron_id, language)


def account_hash(telegram_user_id: int) -> str:
    """The key of an account's count of wrong PINs: a hash of its Telegram id, so that what
    /forget leaves behind (the count, a lock's end) carries nothing else about the account."""
    return hashlib.sha256(f"bibliobot:pin-attempts:{telegram_user_id}".encode()).hexdigest()


def _locked(until: datetime | None, now: datetime) -> bool:
    return until is not None and until > now


async def link_with_pin(
    library: Library,
    *,
    telegram_user_id: int,
    chat_id: int,
    card: str,
    pin: str,
    now: datetime,
) -> circulation_repo.PatronRow:
    """Link this account to a card, proving it with the card's PIN.

    A wrong PIN is counted in its own transaction, committed before the refusal is raised:
    a refusal rolls back everything else, but the count must stay.
    """
    failed: Refusal | None = None
    account_key = account_hash(telegram_user_id)
    async with library.store.transaction() as conn:
        await repo.ensure_user(conn, telegram_user_id, now)
        user = await repo.user(conn, telegram_user_id)
        assert user is not None
        await repo.forget_ended_locks(conn, now)
        user_failures, user_locked = await repo.account_failures(conn, account_key)
        if _locked(user_locked, now):
            raise _locked_refusal(user_locked)
        if await repo.link_of_user(conn, telegram_user_id) is not None:
            raise Refusal("already_linked", "this account is already linked to a card")
        patron = await circulation_repo.patron_by_card(conn, card.strip())
        card_failures, card_locked = (
            await repo.card_failures(conn, patron.patron_id) if patron else (0, None)
        )
        if patron is not None and _locked(card_locked, now):
            raise _locked_refusal(card_locked)
        # scrypt is slow on purpose: off the event loop.
        good = patron is not None and await asyncio.to_thread(verify_pin, pin, patron.pin_hash)
        if good and patron is not None:
            await _link(conn, patron, telegram_user_id, chat_id, user.language, now)
            await repo.set_card_failures(conn, patron.patron_id, 0, None)
            await repo.set_account_failures(conn, account_key, 0, None)
            return patron
        failures = user_failures + 1
        until = now + LOCK if failures >= MAX_PIN_FAILURES else None
        await repo.set_account_failures(conn, account_key, 0 if until else failures, until)
        left = MAX_PIN_FAILURES - failures
        if patron is not None:
            card_failures += 1
            card_until = now + LOCK if card_failures >= MAX_PIN_FAILURES else None
            await repo.set_card_failures(
                conn, patron.patron_id, 0 if card_until else card_failures, card_until
            )
            until = until or card_until
            left = min(left, MAX_PIN_FAILURES - card_failures)
        if until is not None:
            failed = _locked_refusal(until)
        else:
            failed = Refusal(
                "wrong_card_or_pin", "the card number or the PIN is wrong", detail=str(left)
            )
    raise failed


def _locked_refusal(until: datetime | None) -> Refusal:
    assert until is not None
    return Refusal(
        "card_locked",
        f"too many wrong PINs: linking is locked until {until.isoformat()}",
        detail=until.isoformat(),
    )


async def _link(
    conn: aiosqlite.Connection,
    patron: circulation_repo.PatronRow,
    telegram_user_id: int,
    chat_id: int,
    language: str | None,
    now: datetime,
) -> None:
    if await repo.link_of_patron(conn, patron.patron_id) is not None:
        raise Refusal(
            "card_linked_elsewhere",
            "this card is already linked to another Telegram account: unlink it there, or ask"
            " the library",
        )
    await repo.add_link(conn, patron.patron_id, telegram_user_id, chat_id, now)
    if language:
        await repo.set_patron_language(conn, patron.patron_id, language)


async def link_with_code(
    library: Library, *, telegram_user_id: int, chat_id: int, code: str, now: datetime
) -> circulation_repo.PatronRow:
    """Link with a one-time code given at the desk (``/start link-CODE``): no PIN needed."""
    async with library.store.transaction() as conn:
        await repo.ensure_user(conn, telegram_user_id, now)
        if await repo.link_of_user(conn, telegram_user_id) is not None:
            raise Refusal("already_linked", "this account is already linked to a card")
        patron_id = await repo.use_link_code(conn, hash_link_code(code), now)
        if patron_id is None:
            raise Refusal("bad_link_code", "the code is unknown, already used or expired")
        patron = await circulation_repo.patron_by_id(conn, patron_id)
        assert patron is not None
        user = await repo.user(conn, telegram_user_id)
        await _link(conn, patron, telegram_user_id, chat_id, user.language if user else None, now)
        return patron


async def unlink(library: Library, *, telegram_user_id: int) -> bool:
    async with library.store.transaction() as conn:
        return await repo.remove_link(conn, telegram_user_id)


async def set_due_reminders(library: Library, *, telegram_user_id: int, on: bool) -> None:
    """Opt out of (or back into) due-date reminders; overdue and hold notices always go."""
    async with library.store.transaction() as conn:
        if await repo.link_of_user(conn, telegram_user_id) is None:
            raise Refusal("not_linked", "this account is not linked to a card")
        await repo.set_due_reminders(conn, telegram_user_id, on)


async def forget(library: Library, *, telegram_user_id: int) -> None:
    """Delete the link, the preferences and the chats of this account (the library keeps its
    circulation records)."""
    async with library.store.transaction() as conn:
        await repo.forget_user(conn, telegram_user_id)
