"""The digests: one message whatever the number of items, within Telegram's limits."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.circulation import load_policy
from bot.i18n import translator
from bot.reminders import render
from bot.reminders.outgoing import TEXT_LIMIT
from db.notices import HoldNotice, LoanDue, Recipient, StandingChange

ANNA = Recipient(1, "0001", "it", "adult")
TODAY = date(2026, 11, 18)
CHARGED = datetime(2026, 11, 17, 10, tzinfo=UTC)


def loans(count: int, title: str = "Titolo", days: int = 0) -> list[LoanDue]:
    return [
        LoanDue(ANNA, n, f"B{n}", f"{title} {n}", TODAY + timedelta(days=days), "d0", "book")
        for n in range(1, count + 1)
    ]


def test_G15_a_digest_of_300_long_titles_is_one_message_ending_with_and_n_more() -> None:
    t = translator("it")
    message = render.due_digest(t, loans(300, "Un titolo molto lungo " * 8), TODAY)
    assert render.utf16_len(message.text) <= TEXT_LIMIT
    assert "…e altri" in message.text
    shown = message.text.count("• ")
    assert f"…e altri {300 - shown}." in message.text
    # One renew button per loan up to six, then "renew all" and "my loans".
    assert [row[0].callback_data for row in message.buttons[:-1]] == [
        f"renew:{n}" for n in range(1, 7)
    ]
    assert [b.callback_data for b in message.buttons[-1]] == ["renew:all", "loans:list"]


@settings(max_examples=40, deadline=None)
@given(
    st.integers(min_value=1, max_value=120),
    st.text(min_size=1, max_size=300).filter(lambda s: s.strip()),
    st.sampled_from(["it", "en"]),
    st.sampled_from(["cbnem", "ginestra"]),
)
def test_every_digest_fits_a_message(count: int, title: str, language: str, preset: str) -> None:
    t = translator(language)
    policy = load_policy(preset)
    items = loans(count, title, days=-1)
    changes = [
        StandingChange(ANNA, f"fine:{n}", "charged", "overdue", "C7", None, 80, title, CHARGED)
        for n in range(count // 3)
    ]
    for message in (
        render.due_digest(t, items, TODAY),
        render.overdue_digest(t, policy, items, changes, TODAY),
    ):
        assert render.utf16_len(message.text) <= TEXT_LIMIT
        assert message.text.strip()


def test_C7_C8_overdue_lines_say_what_happens_next_under_the_regulation() -> None:
    t = translator("en")
    cbnem, ginestra = load_policy("cbnem"), load_policy("ginestra")
    due = TODAY - timedelta(days=1)
    late = [LoanDue(ANNA, 1, "B1", "Late", due, "first_day", "book")]
    text = render.overdue_digest(t, cbnem, late, [], TODAY).text
    assert "No fine if you bring it back by" in text
    assert "(rule C6)" in text
    assert "(rule C7)" in text
    text = render.overdue_digest(t, ginestra, late, [], TODAY).text
    assert "your card will be suspended (rule G16)" in text
    nine_days = [LoanDue(ANNA, 1, "B1", "Late", TODAY - timedelta(days=9), "grace_end", "book")]
    assert "Fine so far: €0.90" in render.overdue_digest(t, cbnem, nine_days, [], TODAY).text


def test_G13_a_ready_hold_names_the_branch_its_hours_and_the_last_day() -> None:
    from bot.circulation import BranchSchedule, LibraryCalendar

    t = translator("en")
    week = [(day, "09:00", "12:30") for day in range(6)]
    calendar = LibraryCalendar([BranchSchedule.from_rows("MON", week)])
    hold = HoldNotice(ANNA, 4, "Ready", "MON", TODAY, TODAY + timedelta(days=4), None, "ready")
    pickup = render.pickup_of(t, calendar, "MON", "Montevarchi", TODAY, TODAY + timedelta(days=4))
    text = render.hold_ready_message(t, hold, pickup).text
    assert "Montevarchi" in text
    assert "Last day to collect it: Sunday, 22 November 2026." in text
    assert text.count("09:00–12:30") == 4  # Wednesday to Saturday; closed on Sunday


def test_C5_renew_buttons_only_while_a_late_loan_may_still_be_renewed() -> None:
    t = translator("en")
    cbnem = load_policy("cbnem")
    first = LoanDue(ANNA, 1, "B1", "One day", TODAY - timedelta(days=1), "first_day", "book")
    month = LoanDue(ANNA, 2, "B2", "A month", TODAY - timedelta(days=31), "suspension", "book")
    message = render.overdue_digest(t, cbnem, [first, month], [], TODAY)
    callbacks = [button.callback_data for row in message.buttons for button in row]
    assert callbacks == ["renew:1", "loans:list"]


def test_C5_G14_a_late_loan_is_offered_renewal_only_while_the_regulation_allows_it() -> None:
    t = translator("en")
    cbnem, ginestra = load_policy("cbnem"), load_policy("ginestra")
    first = LoanDue(ANNA, 1, "B1", "One day", TODAY - timedelta(days=1), "first_day", "book")
    text = render.overdue_digest(t, cbnem, [first], [], TODAY).text
    # C5: may be asked up to the 6th day late.
    assert "You can still ask to renew it until Monday, 23 November 2026 (rule C5)." in text
    assert "€0.10 for every day late, counted from the due date (rule C7)" in text
    # G14: on or before the due date only: no button, no promise.
    message = render.overdue_digest(t, ginestra, [first], [], TODAY)
    assert "renew" not in message.text
    assert [b.callback_data for row in message.buttons for b in row] == ["loans:list"]


def _opened(kind: str, rule: str, reason: str) -> StandingChange:
    return StandingChange(ANNA, "suspension:1", "opened", kind, rule, reason, None, None, CHARGED)


def test_C8_G16_G20_a_restriction_opened_says_what_lifts_it() -> None:
    t = translator("en")
    cbnem, ginestra = load_policy("cbnem"), load_policy("ginestra")

    def line(policy_name: str, change: StandingChange) -> str:
        policy = cbnem if policy_name == "cbnem" else ginestra
        return render.overdue_digest(t, policy, [], [change], TODAY).text

    assert "until the late items are back and what you owe is paid" in line(
        "cbnem", _opened("suspension", "C8", "overdue")
    )
    assert "in every library of the network" in line(
        "cbnem", _opened("suspension", "C8", "overdue")
    )
    assert "until what you owe is paid" in line(
        "cbnem", _opened("suspension", "C8", "unpaid_fines")
    )
    g16 = line("ginestra", _opened("suspension", "G16", "overdue"))
    assert "until the late items are back." in g16
    assert "what you owe" not in g16  # no money fines at Ginestra
    assert "excluded from loans (rule G16) until the library staff lift it" in line(
        "ginestra", _opened("exclusion", "G16", "long_overdue")
    )
    assert "until the service you ordered is paid" in line(
        "ginestra", _opened("exclusion", "G20", "unpaid_service")
    )
    assert "until the short-loan item is back" in line(
        "ginestra", _opened("exclusion", "G4", "short_loan_not_returned")
    )
