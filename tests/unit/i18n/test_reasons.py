"""Every reason code the domain returns has a sentence, in Italian and in English."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.catalog.model import MaterialType
from bot.circulation.facts import LoanFacts
from bot.circulation.library_calendar import BranchSchedule, LibraryCalendar
from bot.circulation.loanability import Loanability
from bot.circulation.policy_loader import load_policy
from bot.circulation.reasons import Decision, Reason
from bot.circulation.renewal import renewal_decision
from bot.i18n import (
    REASON_DETAILS,
    decision_details,
    decision_message,
    reason_message,
    translator,
)

DAY = date(2026, 12, 12)
#: A usable value for every detail name REASON_DETAILS lists.
SAMPLES: dict[str, object] = {
    "date": DAY,
    "days": 30,
    "limit": 20,
    "percent": 15,
    "cents": 80,
    "kind": "audiovisual",
    "because": "recent_release",
    "branch": "Brugherio",
    "section": "Ragazzi",
}
#: Values of the wrong type or shape: each must be ignored, never raise.
JUNK: list[object] = [None, "", "soon", -1, True, 3.5, object(), ["x"], "²", "١٢"]


def test_every_reason_has_a_message_and_its_details_listed() -> None:
    assert set(REASON_DETAILS) == set(Reason)
    assert {name for names in REASON_DETAILS.values() for name in names} <= set(SAMPLES)


@pytest.mark.parametrize("reason", list(Reason))
def test_a_message_in_both_languages_without_details(reason: Reason) -> None:
    italian = reason_message(translator("it"), reason)
    english = reason_message(translator("en"), reason)
    for text in (italian, english):
        assert text.strip()
        assert "{" not in text
        assert "}" not in text
    assert italian != english  # translated, not the English source


def _samples(reason: Reason) -> dict[str, object]:
    details = {name: SAMPLES[name] for name in REASON_DETAILS[reason]}
    if reason is Reason.NOT_RENEWABLE:
        details["because"] = "book"
    return details


@pytest.mark.parametrize("reason", [reason for reason in Reason if REASON_DETAILS[reason]])
def test_a_message_in_both_languages_with_details(reason: Reason) -> None:
    details = _samples(reason)
    for language in ("it", "en"):
        t = translator(language)
        precise = reason_message(t, reason, **details)
        assert "{" not in precise
        assert "}" not in precise
        assert precise != reason_message(t, reason)  # the details change the sentence
    assert reason_message(translator("it"), reason, **details) != reason_message(
        translator("en"), reason, **details
    )


@pytest.mark.parametrize("reason", list(Reason))
@pytest.mark.parametrize("junk", JUNK, ids=repr)
def test_unusable_details_never_raise(reason: Reason, junk: object) -> None:
    for language in ("it", "en"):
        details = dict.fromkeys(REASON_DETAILS[reason] or ("date",), junk)
        text = reason_message(translator(language), reason, **details)
        assert text.strip()
        assert "{" not in text


TYPED = {"date", "days", "limit", "percent", "cents"}


@pytest.mark.parametrize(
    "reason", [reason for reason in Reason if TYPED & set(REASON_DETAILS[reason])]
)
@pytest.mark.parametrize("junk", [value for value in JUNK if value != ""], ids=repr)
def test_a_detail_of_the_wrong_type_is_left_out(reason: Reason, junk: object) -> None:
    t = translator("it")
    plain = {name: value for name, value in _samples(reason).items() if name not in TYPED}
    spoilt = {**plain, **{name: junk for name in REASON_DETAILS[reason] if name in TYPED}}
    assert reason_message(t, reason, **spoilt) == reason_message(t, reason, **plain)


def test_the_examples_of_the_issue() -> None:
    it, en = translator("it"), translator("en")
    assert reason_message(it, Reason.TOO_EARLY, date=DAY) == (
        "È ancora presto per rinnovare: potrai farlo da sabato 12 dicembre 2026."
    )
    assert reason_message(en, "too_early", date=DAY) == (
        "It is too early to renew: you can renew from Saturday, 12 December 2026."
    )
    assert reason_message(it, Reason.UNPAID_FINES, cents=80) == (
        "Hai 0,80\xa0€ da pagare per restituzioni in ritardo: una volta pagato, potrai usare di "
        "nuovo tutti i servizi."
    )
    assert reason_message(it, Reason.RENEWAL_LIMIT, limit=2) == (
        "Hai già rinnovato questo prestito 2 volte, il massimo consentito."
    )
    assert reason_message(it, Reason.RENEWAL_LIMIT, limit=1) == (
        "Hai già rinnovato questo prestito 1 volta, il massimo consentito."
    )
    assert reason_message(it, Reason.TYPE_LIMIT, kind=MaterialType.AUDIOVISUAL) == (
        "Hai raggiunto il numero massimo di prestiti di DVD e CD: restituiscine uno per "
        "prenderne un altro."
    )
    assert reason_message(en, Reason.COPY_SHARE_EXCEEDED, percent=15) == (
        "Only part of a book or an issue can be copied (at most 15%): please ask for fewer pages."
    )


def test_a_date_detail_may_be_an_instant_or_an_iso_string() -> None:
    it = translator("it")
    expected = "È ancora presto per rinnovare: potrai farlo da venerdì 1 gennaio 2027."
    assert reason_message(it, Reason.TOO_EARLY, date="2027-01-01") == expected
    new_years_eve = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # already 1 January in Rome
    assert reason_message(it, Reason.TOO_EARLY, date=new_years_eve) == expected


def test_an_unknown_reason_code_gets_a_generic_sentence() -> None:
    assert reason_message(translator("it"), "a_code_from_the_future") == (
        "Al momento non è possibile. Chiedi in biblioteca: ti aiuteremo volentieri."
    )


def test_not_loanable_says_which_clause() -> None:
    it = translator("it")
    texts = {
        because: reason_message(it, Reason.NOT_LOANABLE, because=because)
        for because in ("section", "condition", "material_type", "recent_release", "other")
    }
    assert len(set(texts.values())) == 5
    assert "da sabato 12 dicembre 2026" in reason_message(
        it, Reason.NOT_LOANABLE, because="recent_release", date=DAY
    )


def test_not_renewable_short_loan_and_material_type() -> None:
    en = translator("en")
    assert reason_message(en, Reason.NOT_RENEWABLE, because="short_loan").startswith(
        "Short loans cannot be renewed"
    )
    assert reason_message(en, Reason.NOT_RENEWABLE, because="periodical") == (
        "Loans of newspapers and magazines cannot be renewed."
    )


# -- from decisions -------------------------------------------------------------------------


def _refused(reason: Reason, detail: str | None = None) -> Decision:
    return Decision(allowed=False, reason=reason, detail=detail)


@pytest.mark.parametrize(
    ("decision", "details"),
    [
        (_refused(Reason.TOO_EARLY, "2026-12-12"), {"date": "2026-12-12"}),
        (_refused(Reason.TOO_EARLY, "would_not_extend"), {"date": "would_not_extend"}),
        (_refused(Reason.RENEWAL_LIMIT, "2"), {"limit": "2"}),
        (_refused(Reason.TYPE_LIMIT, "audiovisual"), {"kind": "audiovisual"}),
        (_refused(Reason.ILL_LIMIT, "wider"), {}),
        (_refused(Reason.ON_HOLD), {}),
        (
            Loanability(
                allowed=False,
                reason=Reason.NOT_LOANABLE,
                detail="recent_release",
                loanable_from=DAY,
            ),
            {"because": "recent_release", "date": DAY},
        ),
    ],
)
def test_decision_details(decision: Decision, details: dict[str, object]) -> None:
    assert decision_details(decision) == details


def test_a_real_renewal_refusal_reads_naturally() -> None:
    rome = ZoneInfo("Europe/Rome")
    calendar = LibraryCalendar(
        [BranchSchedule.from_rows("BRU", [(day, "09:00", "19:00") for day in range(6)])],
        zone=rome,
    )
    loan = LoanFacts(
        material_type=MaterialType.BOOK,
        due_on=date(2026, 12, 15),
        loaned_at=datetime(2026, 11, 15, 10, tzinfo=UTC),
        branch="BRU",
    )
    now = datetime(2026, 12, 1, 10, tzinfo=UTC)
    decision = renewal_decision(loan, load_policy("cbnem"), calendar, now, held_by_others=False)
    assert decision.reason is Reason.TOO_EARLY
    assert decision_message(translator("it"), decision) == (
        "È ancora presto per rinnovare: potrai farlo da sabato 12 dicembre 2026."
    )
    later = datetime(2026, 12, 13, 10, tzinfo=UTC)
    held = renewal_decision(loan, load_policy("cbnem"), calendar, later, held_by_others=True)
    assert decision_message(translator("en"), held, date=loan.due_on) == (
        "Another reader has reserved this title, so the loan cannot be renewed: please return "
        "it by Tuesday, 15 December 2026."
    )


def test_an_allowed_decision_has_nothing_to_explain() -> None:
    with pytest.raises(ValueError, match="allowed"):
        decision_message(translator("it"), Decision(allowed=True))
