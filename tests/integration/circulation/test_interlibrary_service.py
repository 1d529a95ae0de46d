"""Interlibrary requests through the service (G18, G20), under Ginestra's regulation."""

from __future__ import annotations

from datetime import date

import pytest

from bot.circulation import IllScope
from bot.services import interlibrary, patrons
from bot.services.errors import Refusal
from tests.integration.circulation.conftest import World, at


async def test_G18_three_provincial_and_three_wider_requests_at_most(ginestra: World) -> None:
    await ginestra.patron("G1", "MON")
    for number in range(3):
        request = await interlibrary.request(
            ginestra.library,
            card="G1",
            scope=IllScope.PROVINCIAL,
            title=f"Libro {number}",
            now=at(2026, 11, 23),
        )
        assert request.state == "requested"  # free: no consent needed
    with pytest.raises(Refusal) as provincial:
        await interlibrary.request(
            ginestra.library,
            card="G1",
            scope=IllScope.PROVINCIAL,
            title="Il quarto",
            now=at(2026, 11, 23),
        )
    assert (provincial.value.code, provincial.value.rule) == ("ill_limit", "G18")
    # The other quota is separate: regional, national and international together.
    for scope in (IllScope.REGIONAL, IllScope.NATIONAL, IllScope.INTERNATIONAL):
        await interlibrary.request(
            ginestra.library,
            card="G1",
            scope=scope,
            title=f"Da {scope.value}",
            now=at(2026, 11, 23),
            cost_cents=500,
        )
    with pytest.raises(Refusal) as wider:
        await interlibrary.request(
            ginestra.library,
            card="G1",
            scope=IllScope.REGIONAL,
            title="Troppi",
            now=at(2026, 11, 23),
        )
    assert wider.value.code == "ill_limit"


async def test_G18_provincial_delivery_within_five_working_days(ginestra: World) -> None:
    await ginestra.patron("G1", "MON")
    request = await interlibrary.request(
        ginestra.library,
        card="G1",
        scope=IllScope.PROVINCIAL,
        title="Libro",
        now=at(2026, 11, 23),
    )
    # Monday 23 November + 5 opening days (Monday to Saturday): Saturday 28.
    assert request.deliver_by == date(2026, 11, 28)


async def test_G20_no_cost_without_consent_and_a_consented_cost_is_owed(ginestra: World) -> None:
    await ginestra.patron("G1", "MON")
    paid = await interlibrary.request(
        ginestra.library,
        card="G1",
        scope=IllScope.NATIONAL,
        title="Dalla Nazionale",
        now=at(2026, 11, 23),
        cost_cents=800,
    )
    assert paid.state == "awaiting_consent"
    # Withdrawn before consent: nothing owed.
    assert (
        await interlibrary.withdraw(
            ginestra.library, card="G1", request_id=paid.request_id, now=at(2026, 11, 24)
        )
        == 0
    )
    again = await interlibrary.request(
        ginestra.library,
        card="G1",
        scope=IllScope.NATIONAL,
        title="Dalla Nazionale",
        now=at(2026, 11, 25),
        cost_cents=800,
    )
    consented = await interlibrary.consent(
        ginestra.library, card="G1", request_id=again.request_id, now=at(2026, 11, 25)
    )
    assert consented.state == "requested"
    owed = await interlibrary.withdraw(
        ginestra.library, card="G1", request_id=again.request_id, now=at(2026, 11, 26)
    )
    assert owed == 800
    summary = await patrons.summary(ginestra.library, card="G1", now=at(2026, 11, 26))
    assert (summary.status, summary.fines_owed_cents) == ("excluded", 800)
    assert summary.restrictions[0].rule == "G20"


async def test_someone_elses_request_is_not_there(ginestra: World) -> None:
    await ginestra.patron("G1", "MON")
    await ginestra.patron("G2", "MON")
    request = await interlibrary.request(
        ginestra.library,
        card="G1",
        scope=IllScope.PROVINCIAL,
        title="Mio",
        now=at(2026, 11, 23),
    )
    with pytest.raises(Refusal) as refused:
        await interlibrary.withdraw(
            ginestra.library, card="G2", request_id=request.request_id, now=at(2026, 11, 23)
        )
    assert refused.value.code == "unknown_request"
