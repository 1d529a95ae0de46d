"""A desk refusal in the staff group, worded for the librarian at the desk.

The patron reads "your card is suspended … ask at the library"; the librarian *is* the library,
so she reads the same facts in the third person with what she can do about them: whose card,
why (the cause and its rule, with the amount owed and the late copies to check in), what lifts
it, and which copy or limit stands in the way. The reason code follows in brackets, for the
staff's records and the help desk. Every sentence is in the group's language.
"""

from __future__ import annotations

from bot.circulation.policy import StandingRules
from bot.handlers import render
from bot.handlers.context import BotContext, now
from bot.i18n import Translator, material_types
from bot.services import patrons
from bot.services.accounts import SERVICE_KINDS
from bot.services.errors import Refusal
from bot.services.patrons import PatronSummary, RestrictionLine

LATE_SHOWN = 5  # late copies named in a refusal; the rest are counted


async def staff_refusal(
    context: BotContext, t: Translator, refusal: Refusal, card: str | None, barcode: str
) -> str:
    """The refusal in plain words for staff, then its code (staff quote it to the help desk)."""
    text = await _sentence(context, t, refusal, card, barcode)
    return f"⛔ {text} [{refusal.code}]"


async def _sentence(
    context: BotContext, t: Translator, refusal: Refusal, card: str | None, barcode: str
) -> str:
    code, rule = refusal.code, refusal.rule or "—"
    if code == "unknown_card" and card is not None:
        return t.gettext("No patron has card {card}.", card=card)
    if code == "unknown_item":
        return t.gettext("No copy has barcode {barcode}.", barcode=barcode)
    if code == "not_on_loan":
        return t.gettext("This copy is not on loan: nothing to do.")
    if code == "waiting_for_hold":
        return t.gettext("This copy is on the hold shelf, kept for a reader.")
    if code == "in_transit":
        return t.gettext("This copy is travelling for a hold: send it on.")
    if code == "no_opening_hours":
        return t.gettext("This library has no opening hours yet: set them first.")
    if code in ("suspended", "excluded") and card is not None:
        summary = await _summary(context, card)
        if summary is not None:
            return standing_text(t, summary, context.library.policy.standing)
    if code == "not_available":
        return _not_available(t, refusal.detail, barcode)
    if code == "not_loanable":
        return _not_loanable(t, refusal.detail, barcode, rule)
    if code == "digital_only":
        return t.gettext(
            "Copy {barcode} is an e-book: the digital library lends it, not the desk (rule "
            "{rule}).",
            barcode=barcode,
            rule=rule,
        )
    if code == "on_hold":
        return t.gettext(
            "Copy {barcode} is kept for another reader's hold (rule {rule}): lend another "
            "copy, or put this one on the hold shelf.",
            barcode=barcode,
            rule=rule,
        )
    if code in ("loan_limit", "type_limit", "section_limit") and card is not None:
        return _limit(t, code, refusal.detail, card, rule)
    names = await render.branch_names(context.library)
    return render.refusal_text(t, refusal, names)


async def _summary(context: BotContext, card: str) -> PatronSummary | None:
    try:
        return await patrons.summary(context.library, card=card, now=now())
    except Refusal:  # the card was removed since the checkout was refused
        return None


def standing_text(t: Translator, summary: PatronSummary, standing: StandingRules) -> str:
    """Whose card, suspended or excluded, each cause with its rule and what lifts it, and the
    late copies the desk can check in."""
    if summary.status == "excluded":
        head = t.gettext("Card {card} is excluded: no loans, renewals or holds.", card=summary.card)
    else:
        head = t.gettext(
            "Card {card} is suspended: no loans, renewals or holds.", card=summary.card
        )
    lines = [head]
    for restriction in summary.restrictions:
        lines.append(
            "• "
            # TRANSLATORS: {cause} "Fines owed: 2,40 €", {lift} "until it is paid.".
            + t.gettext(
                "{cause} (rule {rule}): {lift}",
                cause=_cause(t, restriction, summary, standing),
                rule=restriction.rule,
                lift=_lift(t, restriction),
            )
        )
    late = sorted((loan for loan in summary.loans if loan.overdue_days > 0), key=_most_late)
    if late:
        shown = ", ".join(
            t.ngettext(
                "{barcode} ({n} day late)",
                "{barcode} ({n} days late)",
                loan.overdue_days,
                barcode=loan.barcode,
                n=loan.overdue_days,
            )
            for loan in late[:LATE_SHOWN]
        )
        more = len(late) - LATE_SHOWN
        if more > 0:
            shown += " " + t.ngettext("and {n} more", "and {n} more", more, n=more)
        lines.append(t.gettext("Late copies to check in (/checkin): {copies}.", copies=shown))
    return "\n".join(lines)


def _most_late(loan: patrons.LoanLine) -> int:
    return -loan.overdue_days


def _cause(
    t: Translator, restriction: RestrictionLine, summary: PatronSummary, standing: StandingRules
) -> str:
    reason = restriction.reason
    if reason in ("overdue", "long_overdue"):
        overdue = reason == "overdue"
        days = standing.suspend_after_days_late if overdue else standing.exclude_after_days_late
        if days is not None:
            return t.ngettext(
                "A loan more than {n} day late",
                "A loan more than {n} days late",
                days,
                n=days,
            )
        return t.gettext("A loan very late")
    if reason in ("unpaid_fines", "unpaid_service"):
        service = reason == "unpaid_service"
        owed = sum(
            cents for kind, _, cents in summary.owed_by_source if (kind in SERVICE_KINDS) == service
        )
        amount = t.format_money(owed or summary.fines_owed_cents)
        if service:
            return t.gettext("Services owed: {amount}", amount=amount)
        return t.gettext("Fines owed: {amount}", amount=amount)
    if reason == "short_loan_not_returned":
        return t.gettext("A short loan not returned")
    if reason == "short_loan_late":
        return t.gettext("A short loan returned very late")
    return t.gettext("A restriction set by the library")


def _lift(t: Translator, restriction: RestrictionLine) -> str:
    if restriction.lifted_by == "return":
        return t.gettext("until the late copies are checked in.")
    if restriction.lifted_by == "payment":
        return t.gettext("until it is paid.")
    if restriction.lifted_by == "regular":
        return t.gettext("until the late copies are checked in and what is owed is paid.")
    return t.gettext("until an administrator lifts it (bibliobot patron lift).")


def _not_available(t: Translator, status: str | None, barcode: str) -> str:
    if status == "on_loan":
        return t.gettext(
            "Copy {barcode} is already on loan: if it is in your hands, check it in first "
            "(/checkin {barcode}).",
            barcode=barcode,
        )
    if status == "in_transit":
        return t.gettext(
            "Copy {barcode} is in transit: check it in where it arrives first (/checkin "
            "{barcode}).",
            barcode=barcode,
        )
    if status in ("lost", "damaged", "withdrawn"):
        return t.gettext(
            "Copy {barcode} is recorded as lost, damaged or withdrawn: it cannot be lent.",
            barcode=barcode,
        )
    return t.gettext("Copy {barcode} cannot be lent now.", barcode=barcode)


def _not_loanable(t: Translator, because: str | None, barcode: str, rule: str) -> str:
    if because == "recent_release":
        return t.gettext(
            "Copy {barcode} is a recent release, not lent yet (rule {rule}).",
            barcode=barcode,
            rule=rule,
        )
    if because == "section":
        return t.gettext(
            "Copy {barcode} belongs to a section that is not lent (rule {rule}): for use in "
            "the library.",
            barcode=barcode,
            rule=rule,
        )
    if because == "condition":
        return t.gettext(
            "Copy {barcode} is too fragile to be lent (rule {rule}): for use in the library.",
            barcode=barcode,
            rule=rule,
        )
    return t.gettext(
        "Copy {barcode} is not lent (rule {rule}): for use in the library.",
        barcode=barcode,
        rule=rule,
    )


def _limit(t: Translator, code: str, detail: str | None, card: str, rule: str) -> str:
    if code == "loan_limit" and detail is not None and detail.isascii() and detail.isdigit():
        limit = int(detail)
        return t.ngettext(
            "Card {card} already has {n} copy on loan, the most allowed (rule {rule}).",
            "Card {card} already has {n} copies on loan, the most allowed (rule {rule}).",
            limit,
            card=card,
            n=limit,
            rule=rule,
        )
    if code == "type_limit":
        kind = material_types(t, detail) if detail else None
        if kind:
            return t.gettext(
                "Card {card} already has the most loans of {kind} allowed (rule {rule}).",
                card=card,
                kind=kind,
                rule=rule,
            )
    if code == "section_limit" and detail:
        return t.gettext(
            "Card {card} already has the most loans from the {section} section allowed (rule "
            "{rule}).",
            card=card,
            section=detail,
            rule=rule,
        )
    return t.gettext(
        "Card {card} already has the most loans allowed (rule {rule}).", card=card, rule=rule
    )
