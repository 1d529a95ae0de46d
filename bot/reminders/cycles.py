"""The notice cycles: what is due today, computed from the store, written once.

Three cycles, each one transaction:

- ``reminders``: loans due exactly ``offset`` days from the cycle's day, for every offset the
  administrators set (default 3 days before and the due day; rule G15);
- ``overdue``: loans crossing a level today (the day after the due date, the end of the
  grace period, the suspension threshold, ...), each saying what happens next under the
  regulation; restrictions the passing of time opens (G16, C8) are written first, and every
  standing change (a suspension opened or ended, a fine charged: C7, C8, G16) is told once;
- ``holds``: copies arriving are put on the pickup shelf, ready holds not collected in time
  are released to the next patron (G13, C4), and each patron hears, in one message, about her
  holds ready, her last days to collect, and the holds she missed.

A cycle never sends: it queues one digest per patron in the outbox, and records each item it
mentions in the ledger in the same transaction (``bot.reminders.queue``), so running it twice,
or in two processes at once, tells nobody anything twice. Days are exact ("due in 3 days"
means due on day + 3), which is why a missed day is run on its own by the catch-up
(``bot.reminders.schedule``), as Koha's ``trigger_date`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import groupby
from typing import Literal

from bot.circulation import Policy
from bot.circulation.reasons import Reason
from bot.circulation.standing import RestrictionKind
from bot.reminders import pickup, render
from bot.reminders import timing as timing_mod
from bot.reminders.queue import LedgerEntry, Queued, Run, flush, queue
from bot.reminders.timing import CycleName
from bot.services import holds as holds_service
from bot.services.context import Library, Moment
from db import notices
from db import settings as settings_repo
from db.notices import HoldNotice, LoanDue, Recipient, StandingChange, loan_subject

CycleChoice = Literal["reminders", "overdue", "holds", "all"]
LAST_RUN_PREFIX = "cycles.last_run."


@dataclass(frozen=True, slots=True)
class NoticeReport:
    card: str
    kind: str
    items: list[dict[str, object]]
    outbox_id: int | None
    expired: bool
    text: str = ""

    def as_json(self) -> dict[str, object]:
        return {
            "card": self.card,
            "kind": self.kind,
            "items": self.items,
            "expired": self.expired,
            "text": self.text,
        }


@dataclass
class CycleReport:
    """What one pass decided (``cycle run --json``)."""

    cycle: str
    at: datetime
    day: date
    dry_run: bool = False
    notices: list[NoticeReport] = field(default_factory=list)

    @property
    def queued(self) -> int:
        if self.dry_run:
            return 0
        return sum(1 for notice in self.notices if notice.outbox_id is not None)

    @property
    def expired(self) -> int:
        return sum(1 for notice in self.notices if notice.expired and notice.outbox_id)

    def adder(
        self, recipient: Recipient, kind: str, items: list[dict[str, object]]
    ) -> Callable[[Queued], None]:
        """What :func:`bot.reminders.queue.flush` calls once the notice is written."""

        def add(queued: Queued) -> None:
            self.notices.append(
                NoticeReport(
                    recipient.card, kind, items, queued.outbox_id, queued.expired, queued.text
                )
            )

        return add

    def merge(self, other: CycleReport) -> None:
        self.notices.extend(other.notices)

    def as_json(self) -> dict[str, object]:
        return {
            "cycle": self.cycle,
            "at": self.at.isoformat(),
            "day": self.day.isoformat(),
            "dry_run": self.dry_run,
            "notices": [notice.as_json() for notice in self.notices],
            "queued": self.queued,
            "expired": self.expired,
        }


class _DryRun(Exception):
    """Raised at the end of a dry run: the transaction rolls back, nothing is written."""


async def run_cycle(
    library: Library,
    cycle: CycleChoice,
    *,
    at: datetime,
    real_now: datetime | None = None,
    dry_run: bool = False,
) -> CycleReport:
    """One pass of ``cycle`` deciding as at ``at`` (the cycle's day and hour); ``real_now`` is
    when it actually runs (later during a catch-up: notices past their age are expired)."""
    real_now = real_now or at
    shown = at.astimezone(library.zone)  # the report (``cycle run --json``): library time
    if cycle == "all":
        total: CycleReport | None = None
        for name in timing_mod.CYCLES:
            part = await run_cycle(library, name, at=at, real_now=real_now, dry_run=dry_run)
            if total is None:
                total = CycleReport("all", shown, part.day, dry_run)
            total.merge(part)
        assert total is not None
        return total
    chosen: CycleName = cycle
    report = CycleReport(chosen, shown, shown.date(), dry_run)
    try:
        async with library.moment(at) as moment:
            timing = await timing_mod.load(moment.conn, library.reminders)
            run = Run(
                moment.conn,
                timing,
                library.zone.key,
                moment.today,
                at,
                real_now,
                languages=library.languages,
            )
            if chosen == "reminders":
                await _reminders(run, report)
            elif chosen == "overdue":
                await _overdue(moment, run, report)
            else:
                await _holds(moment, run, report)
            await flush(run)
            if dry_run:
                raise _DryRun
            await _record_day(run, chosen)
    except _DryRun:
        pass
    return report


async def _record_day(run: Run, name: str) -> None:
    """``cycles.last_run.<name>``: the latest day this cycle has run for (never backwards)."""
    key = LAST_RUN_PREFIX + name
    stored = await settings_repo.get(run.conn, key)
    if stored is None or date.fromisoformat(str(stored)) < run.today:
        await settings_repo.put(run.conn, key, run.today.isoformat(), run.real_now, "cycles")


async def last_run(library: Library, name: str) -> date | None:
    stored = await settings_repo.get(library.store.reader, LAST_RUN_PREFIX + name)
    return None if stored is None else date.fromisoformat(str(stored))


# reminders ------------------------------------------------------------------------------------

DUE_KIND = "due_reminder"


async def _reminders(run: Run, report: CycleReport) -> None:
    offsets = run.timing.due_offsets_days
    wanted = [(run.today + timedelta(days=days), f"d{days}") for days in offsets]
    loans = await notices.loans_due_on(run.conn, DUE_KIND, wanted, due_reminders_only=True)
    for recipient, group in groupby(loans, key=lambda loan: loan.recipient):
        mine = list(group)
        t = run.translator(recipient)
        queue(
            run,
            recipient,
            DUE_KIND,
            render.due_digest(t, mine, run.today),
            [(DUE_KIND, loan_subject(loan.loan_id, loan.due_on), loan.level) for loan in mine],
            valid_until=max(_due_valid_until(run, loan, offsets) for loan in mine),
            done=report.adder(recipient, DUE_KIND, [_loan_item(loan) for loan in mine]),
        )


def _due_valid_until(run: Run, loan: LoanDue, offsets: Sequence[int]) -> datetime:
    """A due reminder is stale once the next, nearer one is due (or the loan is late)."""
    days = int(loan.level.removeprefix("d"))
    nearer = [offset for offset in offsets if offset < days]
    if nearer:
        return run.start_of(loan.due_on - timedelta(days=max(nearer)))
    return run.start_of(loan.due_on + timedelta(days=1))


def _loan_item(loan: LoanDue) -> dict[str, object]:
    return {
        "loan_id": loan.loan_id,
        "barcode": loan.barcode,
        "title": loan.title,
        "due": loan.due_on.isoformat(),
        "level": loan.level,
    }


# overdue --------------------------------------------------------------------------------------

OVERDUE_KIND = "overdue"
STANDING_KIND = "standing"


def overdue_levels(policy: Policy, enabled: Sequence[str]) -> list[tuple[int, str]]:
    """``(days late, level)`` for each enabled level the regulation has, in order; a level
    that falls on the same day as a later one gives way to it."""
    starts: dict[str, int | None] = {
        "first_day": 1,
        "grace_end": policy.fines.grace_days + 1 if policy.fines is not None else None,
        "suspension": (
            policy.standing.suspend_after_days_late + 1
            if policy.standing.suspend_after_days_late is not None
            else None
        ),
        "exclusion": (
            policy.standing.exclude_after_days_late + 1
            if policy.standing.exclude_after_days_late is not None
            else None
        ),
    }
    by_day: dict[int, str] = {}
    for level in timing_mod.OVERDUE_LEVELS:
        day = starts[level]
        if level in enabled and day is not None:
            by_day[day] = level  # a later level on the same day wins
    return sorted(by_day.items())


async def _open_restrictions_due(moment: Moment) -> None:
    """Restrictions the passing of time opens (G16 after 30 and 90 days late, C8 after 30)
    are written now, not at the patron's next visit, so that they are told (and enforced)
    today. The thresholds, kinds, rules and reasons are the regulation's, as
    :func:`bot.circulation.standing.assess_standing` derives them; a patron's next operation
    recomputes her standing in full and finds them open."""
    rules = moment.policy.standing
    if rules.suspend_after_days_late is not None:
        await notices.open_lateness_restrictions(
            moment.conn,
            late_before=moment.today - timedelta(days=rules.suspend_after_days_late),
            kind=RestrictionKind.SUSPENSION.value,
            rule=rules.overdue_rule,
            reason=Reason.OVERDUE.value,
            now=moment.now,
        )
    if rules.exclude_after_days_late is not None and rules.exclusion_rule is not None:
        await notices.open_lateness_restrictions(
            moment.conn,
            late_before=moment.today - timedelta(days=rules.exclude_after_days_late),
            kind=RestrictionKind.EXCLUSION.value,
            rule=rules.exclusion_rule,
            reason=Reason.LONG_OVERDUE.value,
            now=moment.now,
        )


async def _overdue(moment: Moment, run: Run, report: CycleReport) -> None:
    await _open_restrictions_due(moment)
    levels = overdue_levels(moment.policy, run.timing.overdue_levels)
    wanted = [(run.today - timedelta(days=days), level) for days, level in levels]
    loans = await notices.loans_due_on(run.conn, OVERDUE_KIND, wanted, due_reminders_only=False)
    since = run.at - timedelta(days=run.timing.max_notice_age_days)
    changes = await notices.standing_changes_untold(run.conn, since, run.at)
    by_patron: dict[int, tuple[Recipient, list[LoanDue], list[StandingChange]]] = {}
    for loan in loans:
        by_patron.setdefault(loan.recipient.patron_id, (loan.recipient, [], []))[1].append(loan)
    for change in changes:
        patron_id = change.recipient.patron_id
        by_patron.setdefault(patron_id, (change.recipient, [], []))[2].append(change)
    next_day = {level: days for days, level in levels}
    for recipient, mine, news in by_patron.values():
        t = run.translator(recipient)
        entries: list[LedgerEntry] = [
            (OVERDUE_KIND, loan_subject(loan.loan_id, loan.due_on), loan.level) for loan in mine
        ]
        entries += [(STANDING_KIND, change.subject, change.level) for change in news]
        valid: datetime | None = None
        if not news:
            valid = max(_overdue_valid_until(run, loan, next_day) for loan in mine)
        items = [_loan_item(loan) for loan in mine] + [_change_item(change) for change in news]
        queue(
            run,
            recipient,
            OVERDUE_KIND,
            render.overdue_digest(t, moment.policy, mine, news, run.today),
            entries,
            valid_until=valid,
            done=report.adder(recipient, OVERDUE_KIND, items),
        )


def _overdue_valid_until(run: Run, loan: LoanDue, starts: dict[str, int]) -> datetime:
    """An overdue notice is stale when the next level's notice is due; the last level only
    ages out (``max_notice_age_days``)."""
    mine = starts[loan.level]
    later = [days for days in starts.values() if days > mine]
    if later:
        return run.start_of(loan.due_on + timedelta(days=min(later)))
    return run.start_of(loan.due_on + timedelta(days=mine + run.timing.max_notice_age_days))


def _change_item(change: StandingChange) -> dict[str, object]:
    item: dict[str, object] = {
        "subject": change.subject,
        "level": change.level,
        "kind": change.kind,
        "rule": change.rule,
    }
    if change.amount_cents is not None:
        item["amount_cents"] = change.amount_cents
    if change.title is not None:
        item["title"] = change.title
    return item


# holds ----------------------------------------------------------------------------------------

HOLDS_KIND = "holds"


async def _holds(moment: Moment, run: Run, report: CycleReport) -> None:
    with pickup.deferred():  # the holds made ready here go into this cycle's digest
        await holds_service.receive_transits_in(moment)
        await holds_service.expire_pickups_in(moment)
    days = run.timing.hold_reminder_days
    last = run.today + timedelta(days=days) if days > 0 else None
    to_tell = await notices.ready_holds_to_tell(run.conn, run.today, last)
    ready = [hold for hold in to_tell if hold.level == "ready"]
    ending = [hold for hold in to_tell if hold.level == "last_call"]
    since = run.at - timedelta(days=run.timing.max_notice_age_days)
    missed = await notices.expired_holds_untold(run.conn, since, run.at)
    by_patron: dict[int, tuple[Recipient, list[HoldNotice]]] = {}
    for hold in [*ready, *ending, *missed]:
        by_patron.setdefault(hold.recipient.patron_id, (hold.recipient, []))[1].append(hold)
    for recipient, mine in by_patron.values():
        t = run.translator(recipient)
        with_pickup = [
            (hold, await pickup.pickup(run.conn, t, moment.calendar, hold, run.today))
            for hold in mine
            if hold.level != "missed"
        ]
        message = render.holds_digest(
            t,
            [pair for pair in with_pickup if pair[0].level == "ready"],
            [pair for pair in with_pickup if pair[0].level == "last_call"],
            [hold for hold in mine if hold.level == "missed"],
        )
        entries: list[LedgerEntry] = [
            (_HOLD_LEDGER[hold.level], notices.hold_subject(hold.hold_id), hold.level)
            for hold in mine
        ]
        valid: datetime | None = None
        if all(hold.level != "missed" for hold in mine):
            valid = max(
                pickup.valid_until(run, hold) or run.start_of(run.today + timedelta(days=1))
                for hold in mine
            )
        items = [_hold_item(hold) for hold in mine]
        queue(
            run,
            recipient,
            HOLDS_KIND,
            message,
            entries,
            valid_until=valid,
            done=report.adder(recipient, HOLDS_KIND, items),
        )


_HOLD_LEDGER = {"ready": pickup.KIND, "last_call": "hold_last_call", "missed": "hold_missed"}


def _hold_item(hold: HoldNotice) -> dict[str, object]:
    return {
        "hold_id": hold.hold_id,
        "title": hold.title,
        "pickup": hold.pickup,
        "expires": hold.expires_on.isoformat() if hold.expires_on else None,
        "level": hold.level,
    }
