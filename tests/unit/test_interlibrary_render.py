"""The interlibrary texts and buttons: every button fits the Bot API's 64 bytes, and what
staff and patrons may press follows the request's state (G18, G20)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.handlers.interlibrary_render import (
    consent_buttons,
    patron_notice,
    staff_card_buttons,
    staff_card_text,
)
from bot.i18n import translator
from bot.services.interlibrary import OPEN_STATES, IllView

STATES = (*OPEN_STATES, "not_available", "cancelled", "returned")
SCOPES = ("provincial", "regional", "national", "international")


def request(
    request_id: int, state: str, cost: int | None, consented: bool, scope: str, title: str
) -> IllView:
    return IllView(
        request_id=request_id,
        patron_id=1,
        card="0001",
        patron_name="Anna Rossi",
        language="it",
        home_branch="MON",
        scope=scope,
        title=title,
        author=None,
        isbn=None,
        state=state,
        cost_cents=cost,
        consented=consented,
        requested_at=None,
    )


@given(
    request_id=st.integers(1, 10**11),
    state=st.sampled_from(STATES),
    cost=st.none() | st.integers(0, 10**9),
    consented=st.booleans(),
    scope=st.sampled_from(SCOPES),
    title=st.text(min_size=1, max_size=2000),
    language=st.sampled_from(["it", "en"]),
)
def test_every_button_fits_and_staff_never_order_before_consent(
    request_id: int,
    state: str,
    cost: int | None,
    consented: bool,
    scope: str,
    title: str,
    language: str,
) -> None:
    t = translator(language)
    shown = request(request_id, state, cost, consented, scope, title)
    pays = scope in ("national", "international")
    staff = staff_card_buttons(t, shown, pays)
    patron = consent_buttons(t, shown)
    for _, data in [*staff, *patron]:
        assert 1 <= len(data.encode()) <= 64
    staff_data = [data for _, data in staff]
    # G20: no "ordered" while the request waits for the patron's consent.
    if state == "awaiting_consent":
        assert f"ills:ord:{request_id}" not in staff_data
        assert bool(patron) == (cost is not None)
    else:
        assert patron == []
    if state not in OPEN_STATES:
        assert staff == []
    assert len(staff_card_text(t, shown, pays)) <= 4096
    notice = patron_notice(t, shown, "Montevarchi")
    if notice is not None:
        assert len(notice.text) <= 4096
        assert "<" not in notice.text  # what the patron typed is escaped for HTML


def test_a_notice_speaks_the_patron_s_language_and_offers_consent_at_the_price_set() -> None:
    priced = request(12, "awaiting_consent", 850, False, "national", "Ulysses & co")
    italian = patron_notice(translator("it"), priced, "Montevarchi")
    assert italian is not None
    assert "Costa 8,50" in italian.text
    assert "«Ulysses &amp; co»" in italian.text
    consent = [b.callback_data for b in italian.buttons[0]]
    assert consent == ["ill:ok:12:850", "ill:no:12"]
    assert italian.buttons[0][0].text == "✅ Accetto di pagare 8,50\xa0€"
    ordered = patron_notice(
        translator("en"), request(12, "ordered", 850, True, "regional", "X"), "Montevarchi"
    )
    assert ordered is not None
    assert "has been ordered from the regional network" in ordered.text
