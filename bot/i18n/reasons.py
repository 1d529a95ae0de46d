"""A plain-language sentence for every reason code the circulation domain returns.

The domain answers with stable codes (:class:`bot.circulation.reasons.Reason`) and never writes
prose; this module is where a code becomes what a patron reads: short, kind, and saying what to
do next. Each reason accepts optional details (:data:`REASON_DETAILS`) that make the sentence
precise ("you can renew from Saturday 12 December 2026"); when a detail is missing, or is not
of a usable type, the sentence is phrased without it. Nothing here raises on bad details: a
refusal must always reach the patron.

Dates in these sentences use the ``full`` style ("sabato 12 dicembre 2026"): after Italian
prepositions a weekday avoids the article's elision ("dall'8", "entro l'11"), which a plain
"{date}" after "dal" would get wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from bot.circulation.loanability import Loanability
from bot.circulation.reasons import Decision, Reason
from bot.i18n.messages import material_types, not_possible
from bot.i18n.translator import Translator

#: The details each reason understands (keyword arguments of :func:`reason_message`):
#: ``date`` a ``date``/``datetime``/ISO string; ``days``, ``limit``, ``percent`` integers;
#: ``cents`` an amount in integer cents; ``kind`` a material type code; ``because`` the domain's
#: ``detail`` word; ``branch``, ``section`` names as the patron knows them.
REASON_DETAILS: Mapping[Reason, tuple[str, ...]] = {
    Reason.SUSPENDED: ("date",),
    Reason.EXCLUDED: (),
    Reason.OVERDUE: ("days",),
    Reason.LONG_OVERDUE: ("days",),
    Reason.UNPAID_FINES: ("cents",),
    Reason.UNPAID_SERVICE: ("cents",),
    Reason.SHORT_LOAN_NOT_RETURNED: (),
    Reason.SHORT_LOAN_LATE: ("days",),
    Reason.STAFF_RESTRICTION: ("date",),
    Reason.NOT_LOANABLE: ("because", "date"),
    Reason.DIGITAL_ONLY: (),
    Reason.NOT_AVAILABLE: ("date",),
    Reason.ON_HOLD: ("date",),
    Reason.LOAN_LIMIT: ("limit",),
    Reason.TYPE_LIMIT: ("kind",),
    Reason.SECTION_LIMIT: ("section",),
    Reason.NOT_RENEWABLE: ("because",),
    Reason.RENEWAL_LIMIT: ("limit",),
    Reason.TOO_EARLY: ("date",),
    Reason.TOO_LATE: ("date",),
    Reason.HOLD_LIMIT: ("limit",),
    Reason.NOT_HOLDABLE: (),
    Reason.ITEM_AVAILABLE: ("branch",),
    Reason.ALREADY_HELD: (),
    Reason.ALREADY_ON_LOAN: (),
    Reason.UNKNOWN_BRANCH: ("branch",),
    Reason.NOT_OFFERED: (),
    Reason.REGISTERED_TOO_RECENTLY: ("days",),
    Reason.OVERDUE_LOANS: (),
    Reason.SHORT_LOAN_EXCLUDED: (),
    Reason.SHORT_LOAN_LIMIT: ("limit",),
    Reason.SHORT_LOAN_NOT_ELIGIBLE: (),
    Reason.OUTSIDE_SHORT_LOAN_WINDOW: (),
    Reason.ILL_LIMIT: ("limit",),
    Reason.HELD_LOCALLY: (),
    Reason.COPY_SHARE_EXCEEDED: ("percent",),
    Reason.DOCUMENT_DELIVERY_LIMIT: ("limit",),
}


class Details:
    """The details of one refusal, read leniently: a wrong or missing value is just absent."""

    def __init__(self, t: Translator, values: Mapping[str, object]) -> None:
        self._t = t
        self._values = values

    def date(self, key: str = "date") -> str | None:
        """A date as the sentences show it ("sabato 12 dicembre 2026")."""
        value = self._values.get(key)
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value)
            except ValueError:
                return None
        if isinstance(value, date | datetime):
            return self._t.format_date(value, "full")
        return None

    def count(self, key: str) -> int | None:
        value = self._values.get(key)
        if isinstance(value, str) and value.isascii() and value.isdigit():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        return None

    def money(self, key: str = "cents") -> str | None:
        cents = self.count(key)
        return None if cents is None else self._t.format_money(cents)

    def text(self, key: str) -> str | None:
        value = self._values.get(key)
        return (value.strip() or None) if isinstance(value, str) else None


_Builder = Callable[[Translator, Details], str]
_BUILDERS: dict[Reason, _Builder] = {}


def _message(reason: Reason) -> Callable[[_Builder], _Builder]:
    def register(builder: _Builder) -> _Builder:
        _BUILDERS[reason] = builder
        return builder

    return register


def reason_message(t: Translator, reason: Reason | str, **details: object) -> str:
    """The sentence that tells a patron, in ``t``'s language, why something was refused.

    ``reason`` may be a code read back from the store or the JSON; a code this version does
    not know gets a generic sentence.
    """
    try:
        builder = _BUILDERS[Reason(reason)]
    except (ValueError, KeyError):
        return not_possible(t)
    return builder(t, Details(t, details))


def decision_details(decision: Decision) -> dict[str, Any]:
    """The details a decision carries itself, under the names :func:`reason_message` reads.

    The domain packs one word into ``detail`` (an ISO date, a limit, a material type); this
    unpacks it. Details only the store knows (a branch's name, an amount owed) are the
    handler's to add.
    """
    detail = decision.detail
    reason = decision.reason
    found: dict[str, Any] = {}
    if reason is Reason.NOT_LOANABLE:
        found["because"] = detail
        if isinstance(decision, Loanability) and decision.loanable_from is not None:
            found["date"] = decision.loanable_from
    elif detail is None:
        pass
    elif reason in (Reason.TOO_EARLY, Reason.TOO_LATE):
        found["date"] = detail  # an ISO date, or a word Details.date ignores
    elif reason in (
        Reason.RENEWAL_LIMIT,
        Reason.LOAN_LIMIT,
        Reason.HOLD_LIMIT,
        Reason.SHORT_LOAN_LIMIT,
        Reason.DOCUMENT_DELIVERY_LIMIT,
    ):
        found["limit"] = detail
    elif reason is Reason.REGISTERED_TOO_RECENTLY:
        found["days"] = detail
    elif reason is Reason.COPY_SHARE_EXCEEDED:
        found["percent"] = detail
    elif reason is Reason.TYPE_LIMIT:
        found["kind"] = detail
    elif reason is Reason.NOT_RENEWABLE:
        found["because"] = detail
    elif reason in (Reason.UNKNOWN_BRANCH, Reason.ITEM_AVAILABLE):
        found["branch"] = detail
    elif reason is Reason.SECTION_LIMIT:
        found["section"] = detail
    return found


def decision_message(t: Translator, decision: Decision, **details: object) -> str:
    """:func:`reason_message` for a refused decision; ``details`` add to (and win over) its own."""
    if decision.reason is None:
        raise ValueError("an allowed decision has no reason to explain")
    return reason_message(t, decision.reason, **{**decision_details(decision), **details})


# -- patron standing ----------------------------------------------------------------------


@_message(Reason.SUSPENDED)
def _suspended(t: Translator, d: Details) -> str:
    until = d.date()
    if until:
        return t.gettext(
            "Your card is suspended until {date}: until then you cannot borrow, renew or reserve.",
            date=until,
        )
    return t.gettext(
        "Your card is suspended for now: you cannot borrow, renew or reserve. Ask at the "
        "library how to sort it out."
    )


@_message(Reason.EXCLUDED)
def _excluded(t: Translator, d: Details) -> str:
    return t.gettext(
        "Your card is blocked for now, so you cannot use the library's services. Ask at the "
        "library how to sort it out."
    )


@_message(Reason.OVERDUE)
def _overdue(t: Translator, d: Details) -> str:
    days = d.count("days")
    if days is not None:
        return t.ngettext(
            "One of your loans is more than {n} day late: return it to use the library's "
            "services again.",
            "One of your loans is more than {n} days late: return it to use the library's "
            "services again.",
            days,
            n=days,
        )
    return t.gettext(
        "One of your loans is very late: return it to use the library's services again."
    )


@_message(Reason.LONG_OVERDUE)
def _long_overdue(t: Translator, d: Details) -> str:
    days = d.count("days")
    if days is not None:
        return t.ngettext(
            "One of your loans is more than {n} day late, so your card has been blocked. "
            "Return it and ask at the library to unblock your card.",
            "One of your loans is more than {n} days late, so your card has been blocked. "
            "Return it and ask at the library to unblock your card.",
            days,
            n=days,
        )
    return t.gettext(
        "One of your loans is very long overdue, so your card has been blocked. Return it and "
        "ask at the library to unblock your card."
    )


@_message(Reason.UNPAID_FINES)
def _unpaid_fines(t: Translator, d: Details) -> str:
    amount = d.money()
    if amount:
        return t.gettext(
            "You have {amount} to pay for late returns: once it is paid, you can use every "
            "service again.",
            amount=amount,
        )
    return t.gettext(
        "You have something to pay for late returns: once it is paid, you can use every "
        "service again."
    )


@_message(Reason.UNPAID_SERVICE)
def _unpaid_service(t: Translator, d: Details) -> str:
    amount = d.money()
    if amount:
        return t.gettext(
            "You have {amount} to pay for a service you asked for (a loan from another library "
            "or copies): once it is paid, you can use every service again.",
            amount=amount,
        )
    return t.gettext(
        "You still have to pay for a service you asked for (a loan from another library or "
        "copies): once it is paid, you can use every service again."
    )


@_message(Reason.SHORT_LOAN_NOT_RETURNED)
def _short_loan_not_returned(t: Translator, d: Details) -> str:
    return t.gettext(
        "A short loan has not been returned yet: bring it back to use the library's services again."
    )


@_message(Reason.SHORT_LOAN_LATE)
def _short_loan_late(t: Translator, d: Details) -> str:
    days = d.count("days")
    if days is not None:
        return t.ngettext(
            "A short loan went more than {n} day past its due time, so short loans are no "
            "longer available to you. Ask at the library if you would like to use them again.",
            "A short loan went more than {n} days past its due time, so short loans are no "
            "longer available to you. Ask at the library if you would like to use them again.",
            days,
            n=days,
        )
    return t.gettext(
        "A short loan went well past its due time, so short loans are no longer available to "
        "you. Ask at the library if you would like to use them again."
    )


@_message(Reason.STAFF_RESTRICTION)
def _staff_restriction(t: Translator, d: Details) -> str:
    until = d.date()
    if until:
        return t.gettext(
            "The library has restricted your card until {date}. Ask at the library to find out "
            "why.",
            date=until,
        )
    return t.gettext("The library has restricted your card. Ask at the library to find out why.")


# -- checkout -----------------------------------------------------------------------------


@_message(Reason.NOT_LOANABLE)
def _not_loanable(t: Translator, d: Details) -> str:
    because = d.text("because")
    if because == "recent_release":
        available = d.date()
        if available:
            return t.gettext(
                "This is a recent release, so it cannot be borrowed yet: you can borrow it "
                "from {date}.",
                date=available,
            )
        return t.gettext("This is a recent release, so it cannot be borrowed yet.")
    if because == "section":
        return t.gettext(
            "This item belongs to a section that is not lent (such as local history or "
            "reference): you can use it in the library."
        )
    if because == "condition":
        return t.gettext("This copy is too fragile to be lent: you can use it in the library.")
    if because == "material_type":
        return t.gettext(
            "Items of this kind (such as newspapers and magazines) are not lent: you can read "
            "them in the library."
        )
    return t.gettext("This item cannot be borrowed: you can use it in the library.")


@_message(Reason.DIGITAL_ONLY)
def _digital_only(t: Translator, d: Details) -> str:
    return t.gettext("E-books are borrowed from the digital library, not at the desk.")


@_message(Reason.NOT_AVAILABLE)
def _not_available(t: Translator, d: Details) -> str:
    back = d.date()
    if back:
        return t.gettext(
            "This copy is not available right now: it should be back by {date}.", date=back
        )
    return t.gettext("This copy is not available right now.")


@_message(Reason.ON_HOLD)
def _on_hold(t: Translator, d: Details) -> str:
    due = d.date()
    if due:
        return t.gettext(
            "Another reader has reserved this title, so the loan cannot be renewed: please "
            "return it by {date}.",
            date=due,
        )
    return t.gettext("Another reader has reserved this title and is waiting for it.")


@_message(Reason.LOAN_LIMIT)
def _loan_limit(t: Translator, d: Details) -> str:
    limit = d.count("limit")
    if limit is not None:
        return t.ngettext(
            "You already have {n} item on loan, the most allowed: return it to borrow another.",
            "You already have {n} items on loan, the most allowed: return one to borrow another.",
            limit,
            n=limit,
        )
    return t.gettext(
        "You have reached the maximum number of loans: return an item to borrow another."
    )


@_message(Reason.TYPE_LIMIT)
def _type_limit(t: Translator, d: Details) -> str:
    code = d.text("kind")
    kind = material_types(t, code) if code else None
    if kind:
        return t.gettext(
            "You have reached the maximum number of loans of {kind}: return one to borrow another.",
            kind=kind,
        )
    return t.gettext(
        "You have reached the maximum number of loans of this kind: return one to borrow another."
    )


@_message(Reason.SECTION_LIMIT)
def _section_limit(t: Translator, d: Details) -> str:
    section = d.text("section")
    if section:
        return t.gettext(
            "You have reached the maximum number of loans from the {section} section: return "
            "one to borrow another.",
            section=section,
        )
    return t.gettext(
        "You have reached the maximum number of loans from this section: return one to "
        "borrow another."
    )


# -- renewal ------------------------------------------------------------------------------


@_message(Reason.NOT_RENEWABLE)
def _not_renewable(t: Translator, d: Details) -> str:
    because = d.text("because")
    if because == "short_loan":
        return t.gettext("Short loans cannot be renewed: please return the item on time.")
    kind = material_types(t, because) if because else None
    if kind:
        return t.gettext("Loans of {kind} cannot be renewed.", kind=kind)
    return t.gettext("This loan cannot be renewed.")


@_message(Reason.RENEWAL_LIMIT)
def _renewal_limit(t: Translator, d: Details) -> str:
    limit = d.count("limit")
    if limit is not None:
        return t.ngettext(
            "You have already renewed this loan {n} time, the most allowed.",
            "You have already renewed this loan {n} times, the most allowed.",
            limit,
            n=limit,
        )
    return t.gettext("This loan has already been renewed as many times as allowed.")


@_message(Reason.TOO_EARLY)
def _too_early(t: Translator, d: Details) -> str:
    opens = d.date()
    if opens:
        return t.gettext("It is too early to renew: you can renew from {date}.", date=opens)
    return t.gettext("It is too early to renew this loan: try again closer to the due date.")


@_message(Reason.TOO_LATE)
def _too_late(t: Translator, d: Details) -> str:
    closed = d.date()
    if closed:
        return t.gettext(
            "It is too late to renew this loan: the last day to ask was {date}.", date=closed
        )
    return t.gettext("It is too late to renew this loan.")


# -- holds --------------------------------------------------------------------------------


@_message(Reason.HOLD_LIMIT)
def _hold_limit(t: Translator, d: Details) -> str:
    limit = d.count("limit")
    if limit is not None:
        return t.ngettext(
            "You already have {n} reservation, the most allowed: you can reserve again once it "
            "is collected or cancelled.",
            "You already have {n} reservations, the most allowed: you can reserve again once "
            "one is collected or cancelled.",
            limit,
            n=limit,
        )
    return t.gettext(
        "You have reached the maximum number of reservations: you can reserve again once one "
        "is collected or cancelled."
    )


@_message(Reason.NOT_HOLDABLE)
def _not_holdable(t: Translator, d: Details) -> str:
    return t.gettext("There are no copies of this title that can be reserved.")


@_message(Reason.ITEM_AVAILABLE)
def _item_available(t: Translator, d: Details) -> str:
    branch = d.text("branch")
    if branch:
        return t.gettext(
            "A copy is on the shelf at {branch}, so there is no need to reserve it: come and "
            "borrow it!",
            branch=branch,
        )
    return t.gettext(
        "A copy is on the shelf right now, so there is no need to reserve it: come and borrow it!"
    )


@_message(Reason.ALREADY_HELD)
def _already_held(t: Translator, d: Details) -> str:
    return t.gettext("You have already reserved this title.")


@_message(Reason.ALREADY_ON_LOAN)
def _already_on_loan(t: Translator, d: Details) -> str:
    return t.gettext("You already have this title on loan.")


@_message(Reason.UNKNOWN_BRANCH)
def _unknown_branch(t: Translator, d: Details) -> str:
    branch = d.text("branch")
    if branch:
        return t.gettext(
            "Reservations cannot be collected at {branch}: please choose another library.",
            branch=branch,
        )
    return t.gettext("Reservations cannot be collected at that library: please choose another.")


# -- short loan ---------------------------------------------------------------------------


@_message(Reason.NOT_OFFERED)
def _not_offered(t: Translator, d: Details) -> str:
    return t.gettext("Your library does not offer this service.")


@_message(Reason.REGISTERED_TOO_RECENTLY)
def _registered_too_recently(t: Translator, d: Details) -> str:
    days = d.count("days")
    if days is not None:
        return t.ngettext(
            "Short loans are for patrons who have been registered for at least {n} day.",
            "Short loans are for patrons who have been registered for at least {n} days.",
            days,
            n=days,
        )
    return t.gettext("Short loans are for patrons who have been registered for a while.")


@_message(Reason.OVERDUE_LOANS)
def _overdue_loans(t: Translator, d: Details) -> str:
    return t.gettext(
        "Please return your late loans first: short loans are for patrons with no late loans."
    )


@_message(Reason.SHORT_LOAN_EXCLUDED)
def _short_loan_excluded(t: Translator, d: Details) -> str:
    return t.gettext(
        "Short loans are no longer available to you, because a short loan was returned very "
        "late. Ask at the library if you would like to use them again."
    )


@_message(Reason.SHORT_LOAN_LIMIT)
def _short_loan_limit(t: Translator, d: Details) -> str:
    limit = d.count("limit")
    if limit is not None:
        return t.ngettext(
            "You already have {n} item on short loan, the most allowed.",
            "You already have {n} items on short loan, the most allowed.",
            limit,
            n=limit,
        )
    return t.gettext("You have reached the maximum number of short loans.")


@_message(Reason.SHORT_LOAN_NOT_ELIGIBLE)
def _short_loan_not_eligible(t: Translator, d: Details) -> str:
    return t.gettext(
        "This item can be borrowed as a normal loan, for the full period: no short loan is needed."
    )


@_message(Reason.OUTSIDE_SHORT_LOAN_WINDOW)
def _outside_short_loan_window(t: Translator, d: Details) -> str:
    return t.gettext(
        "Short loans are only possible in the evening, at the weekend or on the day before a "
        "holiday: please try again then."
    )


# -- interlibrary loan and document delivery ----------------------------------------------


@_message(Reason.ILL_LIMIT)
def _ill_limit(t: Translator, d: Details) -> str:
    limit = d.count("limit")
    if limit is not None:
        return t.ngettext(
            "You already have {n} open request to other libraries, the most allowed: you can "
            "make another once it is closed.",
            "You already have {n} open requests to other libraries, the most allowed: you can "
            "make another once one is closed.",
            limit,
            n=limit,
        )
    return t.gettext(
        "You already have as many open requests to other libraries as allowed: you can make "
        "another once one is closed."
    )


@_message(Reason.HELD_LOCALLY)
def _held_locally(t: Translator, d: Details) -> str:
    return t.gettext(
        "The library already has this title, so it is not requested from other libraries: you "
        "can borrow or reserve it here."
    )


@_message(Reason.COPY_SHARE_EXCEEDED)
def _copy_share_exceeded(t: Translator, d: Details) -> str:
    percent = d.count("percent")
    if percent is not None:
        return t.gettext(
            "Only part of a book or an issue can be copied (at most {share}): please ask for "
            "fewer pages.",
            share=t.format_percent(percent),
        )
    return t.gettext("Only part of a book or an issue can be copied: please ask for fewer pages.")


@_message(Reason.DOCUMENT_DELIVERY_LIMIT)
def _document_delivery_limit(t: Translator, d: Details) -> str:
    limit = d.count("limit")
    if limit is not None:
        return t.ngettext(
            "You can make at most {n} request for copies a week: you can ask again next week.",
            "You can make at most {n} requests for copies a week: you can ask again next week.",
            limit,
            n=limit,
        )
    return t.gettext(
        "You have made as many requests for copies as allowed this week: you can ask again "
        "next week."
    )
