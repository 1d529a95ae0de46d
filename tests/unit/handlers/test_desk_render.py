"""A refusal at the desk, worded for the librarian: whose card, why, what lifts it."""

from __future__ import annotations

from datetime import date

from bot.circulation.policy_loader import load_policy
from bot.handlers.desk_render import LATE_SHOWN, standing_text
from bot.i18n import translator
from bot.services.patrons import LoanLine, PatronSummary, RestrictionLine


def summary(
    status: str, restrictions: tuple[RestrictionLine, ...], late_days: tuple[int, ...] = ()
) -> PatronSummary:
    return PatronSummary(
        card="0007",
        name="Anna Rossi",
        category="adult",
        home_branch="BRU",
        home_branch_name="Brugherio",
        language="it",
        status=status,
        restrictions=restrictions,
        loans=tuple(
            LoanLine(n, f"B{n}", f"Titolo {n}", date(2026, 1, 1), 0, days, False)
            for n, days in enumerate(late_days, start=1)
        ),
        holds=(),
        fines_owed_cents=950,
        fines_accruing_cents=0,
        telegram_linked=True,
        owed_by_source=(("overdue", "C7", 150), ("service", "G20", 800)),
    )


def test_an_exclusion_only_staff_lift_with_a_late_copy() -> None:
    ginestra = load_policy("ginestra").standing
    text = standing_text(
        translator("en"),
        summary(
            "excluded",
            (RestrictionLine("exclusion", "G16", "long_overdue", "staff"),),
            late_days=(95,),
        ),
        ginestra,
    )
    assert text.splitlines() == [
        "Card 0007 is excluded: no loans, renewals or holds.",
        f"• A loan more than {ginestra.exclude_after_days_late} days late (rule G16): until an "
        "administrator lifts it (bibliobot patron lift).",
        "Late copies to check in (/checkin): B1 (95 days late).",
    ]


def test_fines_and_services_are_told_apart_and_many_late_copies_are_counted() -> None:
    cbnem = load_policy("cbnem").standing
    late = tuple(range(10, 10 + LATE_SHOWN + 2))
    text = standing_text(
        translator("it"),
        summary(
            "suspended",
            (
                RestrictionLine("suspension", "C8", "unpaid_fines", "regular"),
                RestrictionLine("suspension", "G20", "unpaid_service", "payment"),
            ),
            late_days=late,
        ),
        cbnem,
    )
    lines = text.splitlines()
    assert lines[0] == "La tessera 0007 è sospesa: niente prestiti, rinnovi o prenotazioni."
    assert lines[1].startswith("• Multe da pagare: 1,50\xa0€ (regola C8): fino alla registrazione")
    assert lines[2] == "• Servizi da pagare: 8,00\xa0€ (regola G20): fino al pagamento."
    # The latest first; two more counted, not named.
    assert lines[3].startswith("Copie in ritardo da far rientrare (/checkin): B7 (16 giorni")
    assert lines[3].endswith("e altre 2.")
    assert "tua" not in text
