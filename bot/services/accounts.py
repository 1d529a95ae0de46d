"""Money and standing: fines charged on return, payments, suspensions and exclusions.

Fines for lateness are charged when a copy comes back (C7): each return charges the increment
of the capped total of the patron's returned copies that were late at the same time, so that
three adult books returned 200 days late cost € 10 + € 10 + € 0 = € 20 in whatever order they
come back (the several-titles cap), and nothing is ever re-charged. What open loans would owe if
returned today is *accruing*: shown, not charged, and it suspends nobody (C8 speaks of unpaid
fines, the domain's reading). Payments are allocated to the oldest charges first.

The standing is recomputed from the facts at every operation that depends on it, and the
store's ``suspensions`` rows follow: a suspension opens when its cause appears and closes when
it goes; an exclusion that only staff may lift (G16 after 90 days) stays open until they do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from bot.circulation import Lateness, item_fine, patron_fines
from bot.circulation.fines import late_together
from bot.circulation.standing import AccountFacts, RestrictionKey, Standing, assess_standing
from bot.services.context import Library, Moment
from bot.services.errors import Refusal
from db import circulation as repo

SERVICE_KINDS = frozenset({"service"})


@dataclass(frozen=True, slots=True)
class Balance:
    """What a patron owes: charges less payments, allocated oldest first."""

    charged_cents: int
    paid_cents: int
    unpaid_by_fine: dict[int, int] = field(default_factory=dict)
    # What is still owed per (kind, rule): "late returns, rule C7", for the patron's account.
    unpaid_by_source: dict[tuple[str, str], int] = field(default_factory=dict)
    fines_unpaid_cents: int = 0  # overdue, lost, damaged (C8)
    services_unpaid_cents: int = 0  # paid services ordered (G20)

    @property
    def owed_cents(self) -> int:
        return self.fines_unpaid_cents + self.services_unpaid_cents


async def balance(moment: Moment, patron_id: int) -> Balance:
    fines = await repo.fines_of_patron(moment.conn, patron_id)
    paid = await repo.paid_cents(moment.conn, patron_id)
    remaining = paid
    unpaid: dict[int, int] = {}
    by_source: dict[tuple[str, str], int] = {}
    fines_unpaid = services_unpaid = 0
    for fine in fines:  # oldest first
        settled = min(fine.amount_cents, remaining)
        remaining -= settled
        left = fine.amount_cents - settled
        unpaid[fine.fine_id] = left
        if left:
            by_source[(fine.kind, fine.rule)] = by_source.get((fine.kind, fine.rule), 0) + left
        if fine.kind in SERVICE_KINDS:
            services_unpaid += left
        else:
            fines_unpaid += left
    return Balance(
        charged_cents=sum(fine.amount_cents for fine in fines),
        paid_cents=paid,
        unpaid_by_fine=unpaid,
        unpaid_by_source=by_source,
        fines_unpaid_cents=fines_unpaid,
        services_unpaid_cents=services_unpaid,
    )


async def standing(
    moment: Moment, patron: repo.PatronRow, loans: list[repo.LoanRow] | None = None
) -> Standing:
    """The patron's standing now; the store's restriction rows are brought in line with it."""
    if loans is None:
        loans = await repo.open_loans(moment.conn, patron.patron_id)
    owed = await balance(moment, patron.patron_id)
    account = AccountFacts(
        open_loans=[loan.facts for loan in loans],
        unpaid_fines_cents=owed.fines_unpaid_cents,
        unpaid_service_cents=owed.services_unpaid_cents,
        open_restrictions=await repo.open_restrictions(moment.conn, patron.patron_id),
    )
    result = assess_standing(moment.policy, account, today=moment.today, now=moment.now)
    for restriction in result.to_open:
        await repo.open_restriction(
            moment.conn,
            patron.patron_id,
            restriction.key,
            restriction.reason.value,
            moment.now,
        )
    for key in result.to_close:
        await repo.end_restriction(moment.conn, patron.patron_id, key, moment.now, "rules")
    return result


def _returned_on(moment: Moment, loan: repo.LoanRow) -> date:
    assert loan.returned_at is not None
    return moment.calendar.local_date(loan.returned_at)


async def charge_overdue(
    moment: Moment, patron: repo.PatronRow, loan: repo.LoanRow, returned_on: date
) -> int:
    """Charge the fine of a loan returned on ``returned_on`` (C6, C7); return the cents."""
    policy = moment.policy
    if policy.fines is None:
        return 0
    own = item_fine(policy, patron.category, due_on=loan.facts.due_on, end_on=returned_on)
    if own.amount_cents == 0:
        return 0
    others = await repo.returned_late_loans(moment.conn, patron.patron_id, loan.facts.due_on)
    lateness = [Lateness(key=loan.loan_id, due_on=loan.facts.due_on, end_on=returned_on)]
    charged: dict[int, int] = {}
    for other, amount in others:
        if other.loan_id == loan.loan_id:
            continue
        lateness.append(
            Lateness(
                key=other.loan_id, due_on=other.facts.due_on, end_on=_returned_on(moment, other)
            )
        )
        charged[other.loan_id] = amount
    # rule C7: the several-titles cap binds the copies late at the same time as this one
    # (every returned copy that was fined counts, also one the caps brought down to zero).
    group = next(keys for keys in late_together(lateness) if loan.loan_id in keys)
    in_group = [item for item in lateness if item.key in group]
    already = sum(charged.get(key, 0) for key in group if key != loan.loan_id)
    # rule C7: never more than the absolute cap, counting what is owed for other lateness.
    owed = await balance(moment, patron.patron_id)
    fines = await repo.fines_of_patron(moment.conn, patron.patron_id)
    owed_elsewhere = sum(
        owed.unpaid_by_fine.get(fine.fine_id, 0)
        for fine in fines
        if fine.kind == "overdue" and fine.loan_id not in group
    )
    total = patron_fines(
        policy, patron.category, in_group, owed_elsewhere_cents=owed_elsewhere
    ).total_cents
    amount = max(0, min(own.amount_cents, total - already))
    await repo.add_fine(
        moment.conn,
        patron_id=patron.patron_id,
        loan_id=loan.loan_id,
        kind="overdue",
        rule=own.rule or "C7",
        amount_cents=amount,
        note=f"{own.days_late} days late",
        now=moment.now,
    )
    return amount


async def accruing(moment: Moment, patron: repo.PatronRow, loans: list[repo.LoanRow]) -> int:
    """What the patron's open loans would owe if returned today (shown, not charged)."""
    if moment.policy.fines is None:
        return 0
    late = [
        Lateness(key=loan.loan_id, due_on=loan.facts.due_on, end_on=moment.today)
        for loan in loans
        if loan.facts.due_on < moment.today
    ]
    if not late:
        return 0
    owed = await balance(moment, patron.patron_id)
    return patron_fines(
        moment.policy, patron.category, late, owed_elsewhere_cents=owed.fines_unpaid_cents
    ).total_cents


@dataclass(frozen=True, slots=True)
class PaymentResult:
    card: str
    paid_cents: int
    owed_cents: int
    status: str

    def as_json(self) -> dict[str, object]:
        from bot.circulation import format_euros

        return {
            "card": self.card,
            "paid": format_euros(self.paid_cents),
            "fines_owed": format_euros(self.owed_cents),
            "status": self.status,
        }


async def pay(library: Library, *, card: str, amount_cents: int, now: datetime) -> PaymentResult:
    """Record a payment at the desk; a suspension for unpaid fines ends with it (C8)."""
    if amount_cents <= 0:
        raise Refusal("bad_amount", "a payment is a positive amount of euros")
    async with library.moment(now) as moment:
        patron = await moment.patron(card)
        owed = await balance(moment, patron.patron_id)
        if amount_cents > owed.owed_cents:
            raise Refusal(
                "exceeds_balance",
                f"card {patron.card} owes {owed.owed_cents / 100:.2f} €, less than the payment",
            )
        await repo.add_payment(moment.conn, patron.patron_id, amount_cents, now, None)
        result = await standing(moment, patron)
        after = await balance(moment, patron.patron_id)
        return PaymentResult(patron.card, amount_cents, after.owed_cents, result.status.value)


async def lift_restriction(
    library: Library, *, card: str, key: RestrictionKey, now: datetime, by: str
) -> Standing:
    """Staff end a restriction (G16's exclusion, a short-loan ban); one whose cause is still
    there (a book still 40 days late) opens again at once, as the rules say it must."""
    async with library.moment(now) as moment:
        patron = await moment.patron(card)
        if not await repo.end_restriction(moment.conn, patron.patron_id, key, now, by):
            raise Refusal(
                "no_such_restriction", f"card {patron.card} has no open {key[0].value} {key[1]}"
            )
        return await standing(moment, patron)
