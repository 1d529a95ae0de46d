"""Loans at the desk and from the chat: checkout, check-in, renewal, a lost copy.

Every function is one operation in one transaction (see :mod:`bot.services`). Two desks (or
a desk and a patron in the chat) racing for the last copy are serialised by the store's
``BEGIN IMMEDIATE``: the second sees the first's loan and is refused ``not_available``; the
unique index on open loans per copy guards the same line in the store itself.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime

from bot.catalog.model import ItemStatus
from bot.circulation import (
    CalendarError,
    HoldState,
    checkout_decision,
    format_euros,
    renewal_decision,
    title_held_by_others,
)
from bot.circulation.replacement import replacement_terms
from bot.circulation.short_loan import short_loan_decision
from bot.circulation.standing import Standing
from bot.services import accounts
from bot.services.context import Library, Moment, calendar_refusal
from bot.services.errors import Refusal
from bot.services.routing import arrive, route_copy
from db import circulation as repo


@dataclass(frozen=True, slots=True)
class LoanReceipt:
    """A checkout or a renewal: what the patron's receipt says (G14: it prevails in a dispute)."""

    loan_id: int
    barcode: str
    title: str
    due_on: date
    renewals: int
    receipt: str
    rule: str | None
    moved_from: date | None = None  # the due date before G11 moved it off a closed day
    short_loan_until: datetime | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "loan_id": self.loan_id,
            "barcode": self.barcode,
            "title": self.title,
            "due": self.due_on.isoformat(),
            "renewals": self.renewals,
            "receipt": self.receipt,
            "rule": self.rule,
            "moved_from": self.moved_from.isoformat() if self.moved_from else None,
            "due_at": self.short_loan_until.isoformat() if self.short_loan_until else None,
        }


async def checkout(
    library: Library,
    *,
    card: str,
    barcode: str,
    now: datetime,
    branch: str | None = None,
    short_loan: bool = False,
) -> LoanReceipt:
    """Lend a copy (the desk scans card and copy); ``branch`` defaults to where the copy is."""
    async with library.moment(now) as moment:
        patron = await moment.patron(card)
        copy = await moment.copy(barcode)
        at = branch or copy.location
        branch_id = await moment.branch_id(at)
        loans = await repo.open_loans(moment.conn, patron.patron_id)
        standing = await accounts.standing(moment, patron, loans)
        trapped = await repo.hold_for_copy(moment.conn, copy.item_id)
        own_hold = trapped is not None and trapped.patron_id == patron.patron_id
        status = copy.status
        if own_hold and status is ItemStatus.ON_HOLD_SHELF:
            status = ItemStatus.AVAILABLE  # the patron is collecting what was kept for her
        try:
            if short_loan:
                if status is not ItemStatus.AVAILABLE:
                    raise Refusal("not_available", f"copy {copy.barcode} is {copy.status.value}")
                short = short_loan_decision(
                    moment.policy,
                    moment.calendar,
                    patron=patron.facts,
                    item=copy.facts,
                    standing=standing,
                    open_loans=[loan.facts for loan in loans],
                    branch=at,
                    now=now,
                )
                if not short.allowed or short.window is None:
                    raise Refusal.of(short, "short loan")
                due_on, due_at, rule, moved = (
                    short.window.due_on,
                    short.window.due_at,
                    short.rule,
                    None,
                )
            else:
                decision = checkout_decision(
                    moment.policy,
                    moment.calendar,
                    patron=patron.facts,
                    item=copy.facts,
                    item_status=status,
                    open_loans=[loan.facts for loan in loans],
                    standing=standing,
                    branch=at,
                    now=now,
                    held_for_another=trapped is not None and not own_hold,
                )
                if not decision.allowed or decision.due is None:
                    raise Refusal.of(decision, "checkout")
                due_on, due_at = decision.due.due_on, None
                rule, moved = decision.due.rule, decision.due.moved_from
        except CalendarError as error:
            raise calendar_refusal(error) from error
        try:
            loan_id = await repo.add_loan(
                moment.conn,
                item_id=copy.item_id,
                patron_id=patron.patron_id,
                branch_id=branch_id,
                now=now,
                due_on=due_on,
                due_at=due_at,
                short_loan=short_loan,
            )
        except sqlite3.IntegrityError as error:  # the store's own guard: never on loan twice
            raise Refusal("not_available", f"copy {copy.barcode} is already on loan") from error
        await repo.move_copy(
            moment.conn,
            copy.item_id,
            status=ItemStatus.ON_LOAN,
            location_id=branch_id,
            arrives_on=None,
            now=now,
        )
        if own_hold and trapped is not None:
            await repo.set_hold_state(
                moment.conn,
                trapped.hold_id,
                HoldState.FULFILLED,
                item_id=copy.item_id,
                ready_on=trapped.ready_on,
                expires_on=trapped.facts.expires_on,
                closed_at=now,
            )
        return LoanReceipt(
            loan_id=loan_id,
            barcode=copy.barcode,
            title=await repo.record_title(moment.conn, copy.record_id),
            due_on=due_on,
            renewals=0,
            receipt=repo.receipt_number("P", loan_id, now),
            rule=rule,
            moved_from=moved,
            short_loan_until=due_at,
        )


@dataclass(frozen=True, slots=True)
class CheckinResult:
    barcode: str
    title: str
    card: str | None  # whose loan ended, if the copy was on loan
    fine_cents: int
    hold_trapped: int | None
    in_transit_to: str | None
    action: str

    def as_json(self) -> dict[str, object]:
        return {
            "barcode": self.barcode,
            "title": self.title,
            "card": self.card,
            "fine": format_euros(self.fine_cents),
            "hold_trapped": self.hold_trapped,
            "in_transit_to": self.in_transit_to,
            "action": self.action,
        }


async def checkin(
    library: Library, *, barcode: str, now: datetime, branch: str | None = None
) -> CheckinResult:
    """A copy comes back at ``branch`` (C3: any member library; default its home), whoever
    brings it (G6: the patron, a delegate, the post): the loan ends, a late one is fined, and
    the copy goes to the first hold waiting for it or travels home (N1)."""
    async with library.moment(now) as moment:
        copy = await moment.copy(barcode)
        at = branch or copy.facts.home_branch
        at_id = await moment.branch_id(at)
        loan = await repo.open_loan_of_copy(moment.conn, copy.item_id)
        card = None
        fine = 0
        if loan is not None:
            await repo.close_loan(moment.conn, loan.loan_id, now=now, branch_id=at_id)
            patron = await repo.patron_by_id(moment.conn, loan.patron_id)
            assert patron is not None
            card = patron.card
            fine = await accounts.charge_overdue(moment, patron, loan, moment.today)
            routed = await route_copy(moment, copy, at)
            await accounts.standing(moment, patron)  # returning may lift a suspension
        elif (trapped := await repo.hold_for_copy(moment.conn, copy.item_id)) is not None:
            # A copy kept for a hold goes nowhere else until that hold is collected or ends.
            if copy.status is ItemStatus.IN_TRANSIT and copy.location == at:
                routed = await arrive(moment, copy)  # scanned on arrival
            elif copy.status is ItemStatus.ON_HOLD_SHELF:
                raise Refusal(
                    "waiting_for_hold",
                    f"copy {copy.barcode} is on the hold shelf for hold {trapped.hold_id}",
                )
            else:
                raise Refusal(
                    "in_transit",
                    f"copy {copy.barcode} is travelling to {copy.location} for hold "
                    f"{trapped.hold_id}: send it on",
                )
        elif copy.status is ItemStatus.IN_TRANSIT and copy.location == at:
            routed = await arrive(moment, copy)  # scanned on arrival
        else:
            routed = await route_copy(moment, copy, at)
            if (
                routed.action == "reshelve"
                and copy.status is ItemStatus.AVAILABLE
                and (copy.location == at)
            ):
                raise Refusal("not_on_loan", f"copy {copy.barcode} is not on loan: nothing to do")
        return CheckinResult(
            barcode=copy.barcode,
            title=await repo.record_title(moment.conn, copy.record_id),
            card=card,
            fine_cents=fine,
            hold_trapped=routed.hold_id,
            in_transit_to=routed.in_transit_to,
            action=routed.action,
        )


async def renew(
    library: Library, *, card: str, barcode: str, now: datetime, channel: str = "desk"
) -> LoanReceipt:
    """Renew one loan (G14, C5); the receipt number is kept with the renewal."""
    async with library.moment(now) as moment:
        patron = await moment.patron(card)
        copy = await moment.copy(barcode)
        loan = await repo.open_loan_of_copy(moment.conn, copy.item_id)
        if loan is None:
            raise Refusal("not_on_loan", f"copy {copy.barcode} is not on loan")
        if loan.patron_id != patron.patron_id:
            # rule G7: a loan is personal.
            raise Refusal("not_your_loan", f"copy {copy.barcode} is on loan to another card")
        loans = await repo.open_loans(moment.conn, patron.patron_id)
        standing = await accounts.standing(moment, patron, loans)
        return await _renew_one(moment, patron, loan, standing, channel)


async def _renew_one(
    moment: Moment, patron: repo.PatronRow, loan: repo.LoanRow, standing: Standing, channel: str
) -> LoanReceipt:
    holds = await repo.active_holds_on_record(moment.conn, loan.record_id)
    try:
        decision = renewal_decision(
            loan.facts,
            moment.policy,
            moment.calendar,
            moment.now,
            held_by_others=title_held_by_others([hold.facts for hold in holds], patron.patron_id),
            standing=standing,
        )
    except CalendarError as error:
        raise calendar_refusal(error) from error
    if not decision.allowed or decision.new_due_on is None or decision.renewals is None:
        raise Refusal.of(decision, "renewal")
    receipt = await repo.renew_loan(
        moment.conn,
        loan,
        new_due_on=decision.new_due_on,
        renewals=decision.renewals,
        now=moment.now,
        channel=channel,
    )
    return LoanReceipt(
        loan_id=loan.loan_id,
        barcode=loan.barcode,
        title=loan.title,
        due_on=decision.new_due_on,
        renewals=decision.renewals,
        receipt=receipt,
        rule=decision.rule,
        moved_from=decision.moved_from,
    )


@dataclass(frozen=True, slots=True)
class RenewalOutcome:
    barcode: str
    title: str
    receipt: LoanReceipt | None
    refusal: Refusal | None


async def renew_all(
    library: Library, *, card: str, now: datetime, channel: str = "desk"
) -> list[RenewalOutcome]:
    """Renew every loan that may be renewed; say why for the others. One transaction."""
    async with library.moment(now) as moment:
        patron = await moment.patron(card)
        loans = await repo.open_loans(moment.conn, patron.patron_id)
        standing = await accounts.standing(moment, patron, loans)
        outcomes: list[RenewalOutcome] = []
        for loan in loans:
            try:
                receipt = await _renew_one(moment, patron, loan, standing, channel)
            except Refusal as refusal:
                outcomes.append(RenewalOutcome(loan.barcode, loan.title, None, refusal))
            else:
                outcomes.append(RenewalOutcome(loan.barcode, loan.title, receipt, None))
        return outcomes


async def declare_lost(
    library: Library,
    *,
    barcode: str,
    now: datetime,
    in_print: bool = True,
    cover_price_cents: int | None = None,
    damaged: bool = False,
) -> tuple[str, int | None]:
    """A copy on loan is lost, or comes back ruined (G17, C9): the loan ends, the copy is
    marked lost (or damaged), and the replacement is recorded — money only when the rules ask
    for it."""
    async with library.moment(now) as moment:
        copy = await moment.copy(barcode)
        loan = await repo.open_loan_of_copy(moment.conn, copy.item_id)
        if loan is None:
            raise Refusal("not_on_loan", f"copy {copy.barcode} is not on loan")
        home = await moment.branch_id(copy.facts.home_branch)
        await repo.close_loan(moment.conn, loan.loan_id, now=now, branch_id=home)
        await repo.move_copy(
            moment.conn,
            copy.item_id,
            status=ItemStatus.DAMAGED if damaged else ItemStatus.LOST,
            location_id=home,
            arrives_on=None,
            now=now,
        )
        terms = replacement_terms(
            moment.policy, in_print=in_print, cover_price_cents=cover_price_cents
        )
        if terms.amount_cents:
            await repo.add_fine(
                moment.conn,
                patron_id=loan.patron_id,
                loan_id=loan.loan_id,
                kind="damaged" if damaged else "lost",
                rule=terms.rule,
                amount_cents=terms.amount_cents,
                note=terms.method.value,
                now=now,
            )
        patron = await repo.patron_by_id(moment.conn, loan.patron_id)
        assert patron is not None
        await accounts.standing(moment, patron)
        return terms.method.value, terms.amount_cents
