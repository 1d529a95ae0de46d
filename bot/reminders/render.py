"""How the notices read: one digest per patron per cycle, in the patron's language.

A digest lists every item concerned with what happens next under the library's regulation,
and carries the buttons to act (renew one loan, renew all, see the holds) — the same callback
data the ``/loans`` and ``/holds`` screens use, so a press is handled (and re-checked against
the store) by those handlers. Dates are absolute ("due on Friday 12 June 2026"), never "in 3
days": a notice held back by the quiet hours, or sent late after an outage, still says the
truth. A list too long for one message (4096 characters) ends with "and N more".
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from functools import lru_cache

from bot.circulation import LibraryCalendar, PatronCategory, Policy
from bot.circulation.reasons import Reason
from bot.i18n import Translator
from bot.reminders.outgoing import TEXT_LIMIT, Button, OutgoingMessage
from db.notices import HoldNotice, LoanDue, StandingChange

TITLE_WIDTH = 80
RENEW_BUTTONS = 6  # one button per loan up to this many; "renew all" covers the rest
HOURS_DAYS = 7  # opening hours listed for at most this many days


# A cycle renders tens of thousands of digests over a handful of distinct dates, amounts and
# hours: babel's formatting is the costly part, so each value is formatted once per language.
@lru_cache(maxsize=8192)
def _full_date(t: Translator, day: date) -> str:
    """ "Friday, 12 June 2026": a weekday avoids Italian's elided articles ("entro l'8")."""
    return t.format_date(day, "full")


@lru_cache(maxsize=4096)
def _money(t: Translator, cents: int) -> str:
    return t.format_money(cents)


@lru_cache(maxsize=1024)
def _time(t: Translator, value: time) -> str:
    return t.format_time(value)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _title(text: str, width: int = TITLE_WIDTH) -> str:
    line = " ".join(text.split())
    if len(line) > width:
        line = line[: width - 1].rstrip() + "…"
    return html.escape(line)


def _fit(t: Translator, head: str, lines: Sequence[str], tail: str = "") -> str:
    """``head``, as many ``lines`` as fit in one message, "and N more", then ``tail``."""
    body: list[str] = []
    for index, line in enumerate(lines):
        rest = len(lines) - index - 1
        more = t.ngettext("…and {n} more.", "…and {n} more.", rest, n=rest) if rest else ""
        candidate = "\n".join([head, *body, line, more, tail]).strip()
        if utf16_len(candidate) > TEXT_LIMIT:
            left = len(lines) - index
            more = t.ngettext("…and {n} more.", "…and {n} more.", left, n=left)
            return "\n".join([head, *body, more, tail]).strip()
        body.append(line)
    return "\n".join([head, *body, tail]).strip()


# Due-date reminders ---------------------------------------------------------------------------


def due_digest(t: Translator, loans: Sequence[LoanDue], today: date) -> OutgoingMessage:
    """rule G15: "a reminder of the due date" — every loan due on a reminder day, one message."""
    head = t.ngettext(
        "📅 <b>Reminder: {n} loan is due soon</b>",
        "📅 <b>Reminder: {n} loans are due soon</b>",
        len(loans),
        n=len(loans),
    )
    lines = []
    for loan in loans:
        if loan.due_on == today:
            when = t.gettext("due <b>today</b>")
        else:
            when = t.gettext("due on {date}", date=_full_date(t, loan.due_on))
        lines.append(f"• <b>{_title(loan.title)}</b> — {when}")
    tail = t.gettext(
        "You can renew from here, or bring the items back to any library of the network."
    )
    return OutgoingMessage(text=_fit(t, head, lines, tail), buttons=_renew_buttons(t, loans))


def _renew_buttons(t: Translator, loans: Sequence[LoanDue]) -> tuple[tuple[Button, ...], ...]:
    rows: list[tuple[Button, ...]] = []
    for loan in loans[:RENEW_BUTTONS]:
        label = t.gettext("🔄 Renew {title}", title=" ".join(loan.title.split())[:24])
        rows.append((Button(text=label, callback_data=f"renew:{loan.loan_id}"),))
    last = [Button(text=t.gettext("📚 My loans"), callback_data="loans:list")]
    if len(loans) > 1:
        last.insert(0, Button(text=t.gettext("🔄 Renew all"), callback_data="renew:all"))
    rows.append(tuple(last))
    return tuple(rows)


# Overdue notices ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OverdueDays:
    """The days an overdue loan crosses a line under the regulation (None: no such line)."""

    fines_from: date | None  # first day that costs money (C6 grace over, C7)
    suspended_from: date | None  # G16, C8
    excluded_from: date | None  # G16

    @classmethod
    def of(cls, policy: Policy, due_on: date) -> OverdueDays:
        fines = policy.fines
        standing = policy.standing

        def after(days: int | None) -> date | None:
            return None if days is None else due_on + timedelta(days=days + 1)

        return cls(
            fines_from=after(fines.grace_days) if fines is not None else None,
            suspended_from=after(standing.suspend_after_days_late),
            excluded_from=after(standing.exclude_after_days_late),
        )


def _what_next(t: Translator, policy: Policy, loan: LoanDue, today: date) -> str:
    """What happens next to this loan under the library's regulation."""
    days = OverdueDays.of(policy, loan.due_on)
    fines = policy.fines
    rule_s = policy.standing.overdue_rule
    if days.excluded_from is not None and today >= days.excluded_from:
        return t.gettext(
            "You are excluded from loans until the library staff lift it (rule {rule}).",
            rule=policy.standing.exclusion_rule or rule_s,
        )
    if days.suspended_from is not None and today >= days.suspended_from:
        if days.excluded_from is not None:
            return t.gettext(
                "Your card is suspended until you return it (rule {rule}); from {date} you "
                "will be excluded from loans.",
                rule=rule_s,
                date=_full_date(t, days.excluded_from),
            )
        if fines is not None:
            return t.gettext(
                "Your card is suspended in every library of the network until you return it "
                "and pay what you owe (rule {rule}).",
                rule=rule_s,
            )
        return t.gettext("Your card is suspended until you return it (rule {rule}).", rule=rule_s)
    if fines is not None and days.fines_from is not None and today >= days.fines_from:
        late = (today - loan.due_on).days
        cap = fines.caps.get(PatronCategory(loan.recipient.category)).one_title_cents
        owed = min(late * fines.cents_per_day, cap)
        text = t.gettext(
            "Fine so far: {amount}, {rate} more each day (rule {rule}).",
            amount=_money(t, owed),
            rate=_money(t, fines.cents_per_day),
            rule=fines.rule,
        )
        if days.suspended_from is not None:
            text += " " + t.gettext(
                "From {date} your card is suspended (rule {rule}).",
                date=_full_date(t, days.suspended_from),
                rule=rule_s,
            )
        return text
    if fines is not None and days.fines_from is not None:
        # C6/C7: the grace waives the fine, it does not shift the count (8 days late: 8 days).
        text = t.gettext(
            "No fine if you bring it back by {date} (rule {grace}); after that, {rate} for "
            "every day late, counted from the due date (rule {rule}).",
            date=_full_date(t, days.fines_from - timedelta(days=1)),
            grace=fines.grace_rule,
            rate=_money(t, fines.cents_per_day),
            rule=fines.rule,
        )
    elif days.suspended_from is not None:
        text = t.gettext(
            "If it is not back by {date}, your card will be suspended (rule {rule}).",
            date=_full_date(t, days.suspended_from - timedelta(days=1)),
            rule=rule_s,
        )
    else:
        text = t.gettext("Please bring it back as soon as you can.")
    last_renewal = renewable_until(policy, loan)
    if last_renewal is not None and today <= last_renewal:
        text += " " + t.gettext(
            "You can still ask to renew it until {date} (rule {rule}).",
            date=_full_date(t, last_renewal),
            rule=policy.renewals.rule,
        )
    return text


def renewable_until(policy: Policy, loan: LoanDue) -> date | None:
    """The last day a renewal of this late loan may be asked (C5: up to the 6th day late;
    G14: on or before the due date), None when its material is not renewed at all. Whether
    the renewal is granted (a hold on the title, the renewals used) is the renewal's to say."""
    if loan.material_type not in policy.renewals.extension:
        return None
    return loan.due_on + timedelta(days=policy.renewals.latest_days_after_due)


def overdue_digest(
    t: Translator,
    policy: Policy,
    loans: Sequence[LoanDue],
    changes: Sequence[StandingChange],
    today: date,
) -> OutgoingMessage:
    """Overdue loans at a notice level, and the standing changes (fines charged, suspensions
    opened or ended: C7, C8, G16), in one message."""
    parts: list[str] = []
    if loans:
        parts.append(
            t.ngettext(
                "⏰ <b>{n} loan is overdue</b>",
                "⏰ <b>{n} loans are overdue</b>",
                len(loans),
                n=len(loans),
            )
        )
    lines = [
        f"• <b>{_title(loan.title)}</b> — "
        + t.gettext("was due on {date}.", date=_full_date(t, loan.due_on))
        + " "
        + _what_next(t, policy, loan, today)
        for loan in loans
    ]
    lines += [_standing_line(t, policy, change) for change in changes]
    if not loans:
        parts.append(t.gettext("ℹ️ <b>News about your card</b>"))
    head = "\n".join(parts)
    buttons: tuple[tuple[Button, ...], ...] = ()
    if loans:
        # A late loan may still be renewed only as long as the regulation lets it be asked
        # (C5: up to the 6th day late; G14: not after the due date); later the renew handler
        # would only explain why not, so its button is not offered.
        buttons = _renew_buttons(
            t,
            [
                loan
                for loan in loans
                if (last := renewable_until(policy, loan)) is not None and today <= last
            ],
        )
    else:
        buttons = ((Button(text=t.gettext("👤 My account"), callback_data="account:show"),),)
    return OutgoingMessage(text=_fit(t, head, lines), buttons=buttons)


def _standing_line(t: Translator, policy: Policy, change: StandingChange) -> str:
    if change.level == "charged":
        amount = _money(t, change.amount_cents or 0)
        if change.title:
            return "• " + t.gettext(
                "A fine of {amount} was charged for {title} (rule {rule}).",
                amount=amount,
                title=f"<b>{_title(change.title)}</b>",
                rule=change.rule,
            )
        return "• " + t.gettext(
            "A charge of {amount} was added to your card (rule {rule}).",
            amount=amount,
            rule=change.rule,
        )
    if change.level == "ended":
        if change.kind == "suspension":
            return "• " + t.gettext(
                "✅ Your suspension has ended (rule {rule}): you can borrow again.",
                rule=change.rule,
            )
        return "• " + t.gettext("✅ Your exclusion has ended (rule {rule}).", rule=change.rule)
    if change.kind == "suspension":
        return "• " + _suspension_opened(t, policy, change)
    if change.kind == "exclusion" and change.reason == Reason.LONG_OVERDUE.value:
        return "• " + t.gettext(
            "⛔ You are excluded from loans (rule {rule}) until the library staff lift it.",
            rule=change.rule,
        )
    if change.kind == "exclusion" and change.reason == Reason.UNPAID_SERVICE.value:
        return "• " + t.gettext(
            "⛔ You are excluded from the library's services (rule {rule}) until the service "
            "you ordered is paid.",
            rule=change.rule,
        )
    if change.kind == "exclusion" and change.reason == Reason.SHORT_LOAN_NOT_RETURNED.value:
        return "• " + t.gettext(
            "⛔ You are excluded from the library's services (rule {rule}) until the short-loan "
            "item is back.",
            rule=change.rule,
        )
    if change.kind == "short_loan_exclusion":
        return "• " + t.gettext(
            "⛔ You are excluded from short loans (rule {rule}) until the staff lift it.",
            rule=change.rule,
        )
    return "• " + t.gettext(
        "⛔ You are excluded from the library's services (rule {rule}).", rule=change.rule
    )


# Holds ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pickup:
    """Where a ready hold waits: the branch's name and its opening hours until the last day."""

    name: str
    hours: tuple[tuple[date, str], ...]


def pickup_of(
    t: Translator, calendar: LibraryCalendar, code: str, name: str, start: date, last: date
) -> Pickup:
    days: list[tuple[date, str]] = []
    day = start
    while day <= last and len(days) < HOURS_DAYS:
        intervals = calendar.hours(code, day)
        if intervals:
            spans = ", ".join(f"{_time(t, i.opens)}–{_time(t, i.closes)}" for i in intervals)
            days.append((day, spans))
        day += timedelta(days=1)
    return Pickup(name, tuple(days))


def _hours_lines(t: Translator, pickup: Pickup) -> list[str]:
    return [f"   {_full_date(t, day)}: {spans}" for day, spans in pickup.hours]


def _ready_block(t: Translator, hold: HoldNotice, pickup: Pickup) -> str:
    lines = [f"• <b>{_title(hold.title)}</b>"]
    lines.append("   " + t.gettext("at {branch}", branch=f"<b>{html.escape(pickup.name)}</b>"))
    if hold.expires_on is not None:
        lines.append(
            "   "
            + t.gettext("Last day to collect it: {date}.", date=_full_date(t, hold.expires_on))
        )
    if pickup.hours:
        lines.append("   " + t.gettext("Opening hours:"))
        lines.extend(_hours_lines(t, pickup))
    return "\n".join(lines)


def hold_ready_message(t: Translator, hold: HoldNotice, pickup: Pickup) -> OutgoingMessage:
    """rule G13 / C4: the patron is told as soon as the copy is kept for her."""
    head = t.gettext("📦 <b>Your hold is ready to collect</b>")
    return OutgoingMessage(
        text=_fit(t, head, [_ready_block(t, hold, pickup)]), buttons=_holds_buttons(t)
    )


def _holds_buttons(t: Translator) -> tuple[tuple[Button, ...], ...]:
    return ((Button(text=t.gettext("📌 My holds"), callback_data="holds:list"),),)


def holds_digest(
    t: Translator,
    ready: Sequence[tuple[HoldNotice, Pickup]],
    ending: Sequence[tuple[HoldNotice, Pickup]],
    missed: Sequence[HoldNotice],
) -> OutgoingMessage:
    """The holds cycle's message: holds ready, last days to collect, and holds missed."""
    blocks: list[str] = []
    if ready:
        blocks.append(
            t.ngettext(
                "📦 <b>{n} hold is ready to collect</b>",
                "📦 <b>{n} holds are ready to collect</b>",
                len(ready),
                n=len(ready),
            )
        )
        blocks.extend(_ready_block(t, hold, pickup) for hold, pickup in ready)
    if ending:
        blocks.append(t.gettext("⏳ <b>Last days to collect</b>"))
        for hold, pickup in ending:
            assert hold.expires_on is not None
            blocks.append(
                f"• <b>{_title(hold.title)}</b> — "
                + t.gettext(
                    "waiting for you at {branch} until {date}.",
                    branch=html.escape(pickup.name),
                    date=_full_date(t, hold.expires_on),
                )
            )
            blocks.extend(_hours_lines(t, pickup))
    if missed:
        blocks.append(t.gettext("⌛ <b>Not collected in time</b>"))
        blocks.extend(
            f"• <b>{_title(hold.title)}</b> — "
            + t.gettext(
                "the time to collect it ended on {date}, so the copy went to the next reader. "
                "You can place a new hold.",
                date=_full_date(t, hold.expires_on or date.min),
            )
            for hold in missed
        )
    head, *rest = blocks
    return OutgoingMessage(text=_fit(t, head, rest), buttons=_holds_buttons(t))


def _suspension_opened(t: Translator, policy: Policy, change: StandingChange) -> str:
    """What lifts this suspension, under the regulation (G16, C8)."""
    if change.reason == Reason.OVERDUE.value:
        if policy.standing.unpaid_fines_rule == change.rule:
            # C8: "until the position is regular" — the late items back and the fines paid.
            return t.gettext(
                "⛔ Your card is suspended in every library of the network (rule {rule}): no "
                "loans, renewals or holds until the late items are back and what you owe is "
                "paid.",
                rule=change.rule,
            )
        return t.gettext(
            "⛔ Your card is suspended (rule {rule}): no loans, renewals or holds until the "
            "late items are back.",
            rule=change.rule,
        )
    if change.reason == Reason.UNPAID_FINES.value:
        return t.gettext(
            "⛔ Your card is suspended (rule {rule}): no loans, renewals or holds until what "
            "you owe is paid.",
            rule=change.rule,
        )
    return t.gettext(
        "⛔ Your card is suspended (rule {rule}): no loans, renewals or holds until it is lifted.",
        rule=change.rule,
    )
