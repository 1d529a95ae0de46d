"""Is the patron in good standing? Suspensions and exclusions (G4, G16, G20, C8).

Two kinds of restriction exist, and the difference drives the store:

- *derived* ones hold exactly while their cause does (a loan more than 30 days late, an unpaid
  fine): they end by themselves when the item comes back or the fine is paid;
- *sticky* ones outlive their cause and end only when staff lift them (G16's exclusion after
  90 days, G4's exclusion from the short loan).

:func:`assess_standing` computes both from the patron's facts and from the restrictions the
store has open (``suspensions`` rows with ``ended_at`` NULL), and says which rows to open and
which derived rows to close, so the service layer writes history without deciding anything.
A restriction is identified by ``(kind, rule)``, as the store's unique index.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from bot.circulation.dates import days_late
from bot.circulation.facts import LoanFacts
from bot.circulation.policy import Policy
from bot.circulation.reasons import Reason


class StandingStatus(StrEnum):
    """``patron show``'s status."""

    OK = "ok"
    SUSPENDED = "suspended"
    EXCLUDED = "excluded"


class RestrictionKind(StrEnum):
    """``suspensions.kind``."""

    SUSPENSION = "suspension"
    EXCLUSION = "exclusion"
    SHORT_LOAN_EXCLUSION = "short_loan_exclusion"


class Lift(StrEnum):
    """What ends a restriction."""

    RETURN = "return"  # returning the late items
    PAYMENT = "payment"  # paying what is owed
    REGULAR = "regular"  # both (C8: "until the position is regular")
    STAFF = "staff"  # only staff (sticky)


RestrictionKey = tuple[RestrictionKind, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Restriction:
    """One restriction in force, with the rule and reason the store records."""

    kind: RestrictionKind
    rule: str
    reason: Reason
    lifted_by: Lift

    @property
    def key(self) -> RestrictionKey:
        return (self.kind, self.rule)

    @property
    def sticky(self) -> bool:
        return self.lifted_by is Lift.STAFF


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountFacts:
    """What the standing depends on.

    ``unpaid_fines_cents`` is the unpaid balance of fines already charged (overdue, lost,
    damaged); ``unpaid_service_cents`` what is owed for paid services ordered (G20). How
    payments are split between the two is the service layer's choice (oldest first, say).
    ``open_restrictions`` are the keys of the store's open ``suspensions`` rows.
    """

    open_loans: Sequence[LoanFacts] = ()
    unpaid_fines_cents: int = 0
    unpaid_service_cents: int = 0
    open_restrictions: Collection[RestrictionKey] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Standing:
    """The patron's standing now, and what the store must record to reflect it.

    ``restrictions`` are all in force; ``to_open`` those the store has no open row for yet;
    ``to_close`` the open rows whose cause has gone (end them); ``staff_keys`` the open rows
    kept in force only because they are open (sticky ones, or made by staff): staff end them.
    """

    status: StandingStatus
    restrictions: tuple[Restriction, ...] = ()
    to_open: tuple[Restriction, ...] = ()
    to_close: tuple[RestrictionKey, ...] = ()
    short_loan_barred: bool = False
    staff_keys: tuple[RestrictionKey, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status is StandingStatus.OK

    @property
    def blocking(self) -> Restriction | None:
        """The restriction a refusal cites: an exclusion before a suspension."""
        for kind in (RestrictionKind.EXCLUSION, RestrictionKind.SUSPENSION):
            for restriction in self.restrictions:
                if restriction.kind is kind:
                    return restriction
        return None

    @property
    def refusal(self) -> tuple[Reason, str | None] | None:
        """``(suspended|excluded, rule)`` when the standing forbids circulation, else None."""
        if self.status is StandingStatus.OK:
            return None
        blocking = self.blocking
        reason = Reason.EXCLUDED if self.status is StandingStatus.EXCLUDED else Reason.SUSPENDED
        return reason, blocking.rule if blocking is not None else None


GOOD_STANDING = Standing(status=StandingStatus.OK)


def assess_standing(
    policy: Policy, account: AccountFacts, *, today: date, now: datetime
) -> Standing:
    """The patron's standing on ``today`` (library-local) at the instant ``now``.

    Suspended or excluded patrons may not borrow, renew, hold or request anything; the seed
    regulations word it per rule (G16 "from loan", C8 "from all services", G20 "from all
    services") and the product reads them alike, since a hold or a renewal is a loan too.
    """
    derived = _derived(policy, account, today=today, now=now)
    derived_keys = {r.key for r in derived}
    open_keys = set(account.open_restrictions)
    derivable = _derivable_keys(policy)

    in_force = list(derived)
    staff_keys: list[RestrictionKey] = []
    for key in sorted(open_keys - derived_keys):
        if key in derivable and not derivable[key]:
            continue  # a derived restriction whose cause has gone: closed below
        # Sticky rows (and any a member of staff opened) stay until staff end them.
        in_force.append(
            Restriction(
                kind=key[0],
                rule=key[1],
                reason=_reason_of_open_row(policy, key),
                lifted_by=Lift.STAFF,
            )
        )
        staff_keys.append(key)

    to_open = tuple(r for r in derived if r.key not in open_keys)
    to_close = tuple(
        sorted(key for key in open_keys - derived_keys if key in derivable and not derivable[key])
    )
    kinds = {r.kind for r in in_force}
    if RestrictionKind.EXCLUSION in kinds:
        status = StandingStatus.EXCLUDED
    elif RestrictionKind.SUSPENSION in kinds:
        status = StandingStatus.SUSPENDED
    else:
        status = StandingStatus.OK
    return Standing(
        status=status,
        restrictions=tuple(in_force),
        to_open=to_open,
        to_close=to_close,
        short_loan_barred=RestrictionKind.SHORT_LOAN_EXCLUSION in kinds,
        staff_keys=tuple(staff_keys),
    )


def _derived(
    policy: Policy, account: AccountFacts, *, today: date, now: datetime
) -> list[Restriction]:
    rules = policy.standing
    found: dict[RestrictionKey, Restriction] = {}

    def add(restriction: Restriction) -> None:
        found.setdefault(restriction.key, restriction)

    worst = max((days_late(loan.due_on, today) for loan in account.open_loans), default=0)
    # rule G16 / C8: more than 30 days late suspends (until returned / until regular).
    if rules.suspend_after_days_late is not None and worst > rules.suspend_after_days_late:
        lift = Lift.REGULAR if rules.unpaid_fines_rule == rules.overdue_rule else Lift.RETURN
        add(
            Restriction(
                kind=RestrictionKind.SUSPENSION,
                rule=rules.overdue_rule,
                reason=Reason.OVERDUE,
                lifted_by=lift,
            )
        )
    # rule G16: more than 90 days late excludes, until staff lift it.
    if (
        rules.exclude_after_days_late is not None
        and rules.exclusion_rule is not None
        and worst > rules.exclude_after_days_late
    ):
        add(
            Restriction(
                kind=RestrictionKind.EXCLUSION,
                rule=rules.exclusion_rule,
                reason=Reason.LONG_OVERDUE,
                lifted_by=Lift.STAFF,
            )
        )
    # rule C8: an unpaid fine suspends until the position is regular.
    if rules.unpaid_fines_rule is not None and account.unpaid_fines_cents > 0:
        add(
            Restriction(
                kind=RestrictionKind.SUSPENSION,
                rule=rules.unpaid_fines_rule,
                reason=Reason.UNPAID_FINES,
                lifted_by=Lift.REGULAR,
            )
        )
    # rule G20: an unpaid paid service excludes from all services until paid.
    if rules.unpaid_services_rule is not None and account.unpaid_service_cents > 0:
        add(
            Restriction(
                kind=RestrictionKind.EXCLUSION,
                rule=rules.unpaid_services_rule,
                reason=Reason.UNPAID_SERVICE,
                lifted_by=Lift.PAYMENT,
            )
        )
    # rule G4: a short loan not returned excludes from all services until it is; more than
    # 7 days late also excludes from the short loan, until staff lift it.
    short = policy.short_loan
    if short is not None:
        for loan in account.open_loans:
            if not loan.short_loan:
                continue
            late = short_loan_lateness(loan, today=today, now=now)
            if late > timedelta(0):
                add(
                    Restriction(
                        kind=RestrictionKind.EXCLUSION,
                        rule=short.rule,
                        reason=Reason.SHORT_LOAN_NOT_RETURNED,
                        lifted_by=Lift.RETURN,
                    )
                )
            if late > timedelta(days=short.short_loan_exclusion_after_days_late):
                add(
                    Restriction(
                        kind=RestrictionKind.SHORT_LOAN_EXCLUSION,
                        rule=short.rule,
                        reason=Reason.SHORT_LOAN_LATE,
                        lifted_by=Lift.STAFF,
                    )
                )
    return sorted(found.values(), key=lambda r: (r.kind.value, r.rule))


def short_loan_lateness(loan: LoanFacts, *, today: date, now: datetime) -> timedelta:
    """How late a short loan is: from its end instant if known, else in whole days."""
    if loan.due_at is not None:
        return max(timedelta(0), now - loan.due_at)
    return timedelta(days=days_late(loan.due_on, today))


def _derivable_keys(policy: Policy) -> dict[RestrictionKey, bool]:
    """Every restriction the rules can derive, and whether it is sticky (True) or not."""
    rules = policy.standing
    keys: dict[RestrictionKey, bool] = {}
    if rules.suspend_after_days_late is not None:
        keys[(RestrictionKind.SUSPENSION, rules.overdue_rule)] = False
    if rules.unpaid_fines_rule is not None:
        keys[(RestrictionKind.SUSPENSION, rules.unpaid_fines_rule)] = False
    if rules.exclusion_rule is not None and rules.exclude_after_days_late is not None:
        keys[(RestrictionKind.EXCLUSION, rules.exclusion_rule)] = True
    if rules.unpaid_services_rule is not None:
        keys[(RestrictionKind.EXCLUSION, rules.unpaid_services_rule)] = False
    if policy.short_loan is not None:
        keys[(RestrictionKind.EXCLUSION, policy.short_loan.rule)] = False
        keys[(RestrictionKind.SHORT_LOAN_EXCLUSION, policy.short_loan.rule)] = True
    return keys


def _reason_of_open_row(policy: Policy, key: RestrictionKey) -> Reason:
    """The reason of an open restriction the store holds (for a sticky or staff-made row)."""
    kind, rule = key
    standing = policy.standing
    if kind is RestrictionKind.SHORT_LOAN_EXCLUSION:
        return Reason.SHORT_LOAN_LATE
    if kind is RestrictionKind.EXCLUSION and rule == standing.exclusion_rule:
        return Reason.LONG_OVERDUE
    return Reason.STAFF_RESTRICTION
