"""Patrons: registration at the desk, one-time link codes, and the account's summary.

One card serves every member library (C1): a patron is registered once, with a home branch
(where she collects by default) and a category (adult, child, institution — G5, C7).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.circulation import PatronCategory, format_euros
from bot.services import accounts
from bot.services.context import Library
from bot.services.errors import Refusal
from bot.services.holds import HoldStatus, hold_status
from bot.services.pins import BadPin, hash_link_code, hash_pin, new_link_code
from db import circulation as repo

LINK_CODE_DAYS = 7


async def add_patron(
    library: Library,
    *,
    card: str,
    name: str,
    category: PatronCategory,
    branch: str,
    now: datetime,
    pin: str | None = None,
    registered_on: date | None = None,
    language: str = "it",
) -> repo.PatronRow:
    card, name = card.strip(), " ".join(name.split())
    if not card or len(card) > 32 or any(ch.isspace() for ch in card):
        raise Refusal("bad_card", "a card number is 1-32 characters without spaces")
    if not name:
        raise Refusal("bad_name", "the patron's name must not be empty")
    try:
        pin_hash = hash_pin(pin) if pin is not None else None
    except BadPin as error:
        raise Refusal("bad_pin", str(error)) from error
    async with library.moment(now) as moment:
        branch_id = await moment.branch_id(branch)
        if registered_on is not None and registered_on > moment.today:
            # G4 counts the days since registration: a date to come would bend it.
            raise Refusal("bad_date", f"registration date {registered_on} is in the future")
        try:
            await repo.add_patron(
                moment.conn,
                card=card,
                name=name,
                category=category,
                home_branch_id=branch_id,
                registered_on=registered_on or moment.today,
                language=language,
                pin_hash=pin_hash,
                now=now,
            )
        except sqlite3.IntegrityError as error:
            raise Refusal("card_in_use", f"card {card} is already registered") from error
        patron = await repo.patron_by_card(moment.conn, card)
        assert patron is not None
        return patron


async def link_code(library: Library, *, card: str, now: datetime) -> tuple[str, datetime]:
    """A one-time code the desk gives the patron: ``/start link-CODE`` links her Telegram
    account to the card without the PIN. Only its hash is kept; a new code replaces the old."""
    async with library.moment(now) as moment:
        patron = await moment.patron(card)
        code = new_link_code()
        expires = now + timedelta(days=LINK_CODE_DAYS)
        await repo.add_link_code(moment.conn, patron.patron_id, hash_link_code(code), expires)
        return code, expires


@dataclass(frozen=True, slots=True)
class LoanLine:
    loan_id: int
    barcode: str
    title: str
    due_on: date
    renewals: int
    overdue_days: int
    short_loan: bool

    def as_json(self) -> dict[str, object]:
        return {
            "loan_id": self.loan_id,
            "barcode": self.barcode,
            "title": self.title,
            "due": self.due_on.isoformat(),
            "renewals": self.renewals,
            "overdue_days": self.overdue_days,
        }


@dataclass(frozen=True, slots=True)
class RestrictionLine:
    kind: str
    rule: str
    reason: str
    lifted_by: str


@dataclass(frozen=True, slots=True)
class PatronSummary:
    """Everything ``patron show`` and the bot's ``/account`` and ``/loans`` tell (G12)."""

    card: str
    name: str
    category: str
    home_branch: str
    home_branch_name: str
    language: str
    status: str
    restrictions: tuple[RestrictionLine, ...]
    loans: tuple[LoanLine, ...]
    holds: tuple[HoldStatus, ...]
    fines_owed_cents: int
    fines_accruing_cents: int
    telegram_linked: bool
    # What is owed per (kind, rule, cents), oldest charges paid first: "late returns, C7".
    owed_by_source: tuple[tuple[str, str, int], ...] = ()

    def as_json(self) -> dict[str, object]:
        return {
            "card": self.card,
            "name": self.name,
            "category": self.category,
            "home_branch": self.home_branch,
            "status": self.status,
            "restrictions": [
                {"kind": r.kind, "rule": r.rule, "reason": r.reason, "lifted_by": r.lifted_by}
                for r in self.restrictions
            ],
            "loans": [loan.as_json() for loan in self.loans],
            "holds": [hold.as_json() for hold in self.holds],
            "fines_owed": format_euros(self.fines_owed_cents),
            "fines_accruing": format_euros(self.fines_accruing_cents),
            "telegram_linked": self.telegram_linked,
        }


async def summary(library: Library, *, card: str, now: datetime) -> PatronSummary:
    async with library.moment(now) as moment:
        patron = await moment.patron(card)
        loans = await repo.open_loans(moment.conn, patron.patron_id)
        standing = await accounts.standing(moment, patron, loans)
        owed = await accounts.balance(moment, patron.patron_id)
        holds = [
            await hold_status(moment, hold)
            for hold in await repo.active_holds_of_patron(moment.conn, patron.patron_id)
        ]
        return PatronSummary(
            card=patron.card,
            name=patron.name,
            category=patron.category.value,
            home_branch=patron.home_branch,
            home_branch_name=await repo.branch_name(moment.conn, patron.home_branch),
            language=patron.language,
            status=standing.status.value,
            restrictions=tuple(
                RestrictionLine(r.kind.value, r.rule, r.reason.value, r.lifted_by.value)
                for r in standing.restrictions
            ),
            loans=tuple(
                LoanLine(
                    loan.loan_id,
                    loan.barcode,
                    loan.title,
                    loan.facts.due_on,
                    loan.facts.renewals,
                    max(0, (moment.today - loan.facts.due_on).days),
                    loan.facts.short_loan,
                )
                for loan in loans
            ),
            holds=tuple(holds),
            fines_owed_cents=owed.owed_cents,
            fines_accruing_cents=await accounts.accruing(moment, patron, loans),
            telegram_linked=await repo.is_telegram_linked(moment.conn, patron.patron_id),
            owed_by_source=tuple(
                (kind, rule, cents) for (kind, rule), cents in owed.unpaid_by_source.items()
            ),
        )
