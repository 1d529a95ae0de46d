"""Interlibrary requests through the service (G18, G20), under Ginestra's regulation."""

from __future__ import annotations

import json
from datetime import date

import pytest

from bot.circulation import IllScope
from bot.reminders.outgoing import OutgoingMessage
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


# -- staff steps, the cost and the patron's consent (G20) ----------------------------------------


def notice(request: interlibrary.IllView) -> OutgoingMessage:
    return OutgoingMessage(text=f"{request.request_id} {request.state} {request.cost_cents}")


async def outbox_rows(world: World) -> list[tuple[str, str, str]]:
    rows = await world.store.reader.execute_fetchall(
        "SELECT kind, dedupe_key, payload FROM outbox ORDER BY id"
    )
    return [(str(r[0]), str(r[1]), str(json.loads(r[2])["text"])) for r in rows]


async def test_G20_a_cost_set_by_staff_waits_for_consent_and_owes_nothing(ginestra: World) -> None:
    await ginestra.patron("G1", "MON")
    asked = await interlibrary.request(
        ginestra.library, card="G1", scope=IllScope.NATIONAL, title="Lontano", now=at(2026, 11, 23)
    )
    assert (asked.state, asked.cost_cents) == ("awaiting_consent", None)
    with pytest.raises(Refusal) as no_cost:
        await interlibrary.consent(
            ginestra.library, card="G1", request_id=asked.request_id, now=at(2026, 11, 23)
        )
    assert no_cost.value.code == "no_cost_yet"
    priced = await interlibrary.set_cost(
        ginestra.library,
        request_id=asked.request_id,
        cost_cents=850,
        now=at(2026, 11, 24),
        notify=notice,
    )
    assert (priced.state, priced.cost_cents, priced.consented) == ("awaiting_consent", 850, False)
    with pytest.raises(Refusal) as not_yet:
        await interlibrary.staff_step(
            ginestra.library,
            request_id=asked.request_id,
            step="ordered",
            now=at(2026, 11, 24),
            notify=notice,
        )
    assert not_yet.value.code == "awaiting_consent"
    summary = await patrons.summary(ginestra.library, card="G1", now=at(2026, 11, 24))
    assert (summary.status, summary.fines_owed_cents) == ("ok", 0)
    # Consent to an older price is not consent to this one.
    with pytest.raises(Refusal) as changed:
        await interlibrary.consent(
            ginestra.library,
            card="G1",
            request_id=asked.request_id,
            now=at(2026, 11, 24),
            cost_cents=500,
        )
    assert changed.value.code == "cost_changed"
    agreed = await interlibrary.consent(
        ginestra.library,
        card="G1",
        request_id=asked.request_id,
        now=at(2026, 11, 24),
        cost_cents=850,
    )
    assert agreed.state == "requested"
    with pytest.raises(Refusal) as too_late:
        await interlibrary.set_cost(
            ginestra.library,
            request_id=asked.request_id,
            cost_cents=2000,
            now=at(2026, 11, 24),
            notify=notice,
        )
    assert too_late.value.code == "no_cost_now"
    ordered = await interlibrary.staff_step(
        ginestra.library,
        request_id=asked.request_id,
        step="ordered",
        now=at(2026, 11, 25),
        notify=notice,
    )
    assert ordered.state == "ordered"
    texts = [text for _, _, text in await outbox_rows(ginestra)]
    assert texts == [f"{asked.request_id} awaiting_consent 850", f"{asked.request_id} ordered 850"]


async def test_G20_declining_the_cost_closes_the_request_with_nothing_owed(
    ginestra: World,
) -> None:
    await ginestra.patron("G1", "MON")
    asked = await interlibrary.request(
        ginestra.library,
        card="G1",
        scope=IllScope.INTERNATIONAL,
        title="Da Parigi",
        now=at(2026, 11, 23),
    )
    await interlibrary.set_cost(
        ginestra.library,
        request_id=asked.request_id,
        cost_cents=1500,
        now=at(2026, 11, 23),
        notify=notice,
    )
    declined = await interlibrary.decline(
        ginestra.library, card="G1", request_id=asked.request_id, now=at(2026, 11, 23)
    )
    assert declined.state == "cancelled"
    assert await interlibrary.requests(ginestra.library, card="G1") == []
    summary = await patrons.summary(ginestra.library, card="G1", now=at(2026, 11, 23))
    assert (summary.status, summary.fines_owed_cents) == ("ok", 0)
    with pytest.raises(Refusal) as twice:
        await interlibrary.consent(
            ginestra.library, card="G1", request_id=asked.request_id, now=at(2026, 11, 23)
        )
    assert twice.value.code == "no_consent_needed"


async def test_G18_staff_steps_follow_the_request_and_each_queues_a_notice(
    ginestra: World,
) -> None:
    await ginestra.patron("G1", "MON")
    asked = await interlibrary.request(
        ginestra.library,
        card="G1",
        scope=IllScope.PROVINCIAL,
        title="Vicino",
        author="Rossi, Anna",
        isbn="9788806172052",
        now=at(2026, 11, 23),
    )
    with pytest.raises(Refusal) as early:
        await interlibrary.staff_step(
            ginestra.library,
            request_id=asked.request_id,
            step="arrived",
            now=at(2026, 11, 23),
            notify=notice,
        )
    assert early.value.code == "wrong_state"
    with pytest.raises(Refusal) as free:
        await interlibrary.set_cost(
            ginestra.library,
            request_id=asked.request_id,
            cost_cents=100,
            now=at(2026, 11, 23),
            notify=notice,
        )
    assert free.value.code == "no_cost_now"
    for step in ("ordered", "arrived", "returned"):
        done = await interlibrary.staff_step(
            ginestra.library,
            request_id=asked.request_id,
            step=step,
            now=at(2026, 11, 24),
            notify=notice,
        )
        assert done.state == step
    rows = await outbox_rows(ginestra)
    assert [kind for kind, _, _ in rows] == ["ill_update"] * 3
    assert [text.split()[1] for _, _, text in rows] == ["ordered", "arrived", "returned"]
    # The same step cannot be queued twice, nor a closed request moved again.
    with pytest.raises(Refusal):
        await interlibrary.staff_step(
            ginestra.library,
            request_id=asked.request_id,
            step="not_available",
            now=at(2026, 11, 24),
            notify=notice,
        )
    assert len(await outbox_rows(ginestra)) == 3
    shown = await interlibrary.view(ginestra.library, asked.request_id)
    assert shown is not None
    assert (shown.author, shown.isbn, shown.card) == ("Rossi, Anna", "9788806172052", "G1")


async def test_G18_a_title_the_network_lends_is_not_asked_elsewhere(ginestra: World) -> None:
    await ginestra.patron("G1", "MON")
    owned = await ginestra.title_with_copies("Qui", ("Q1", "MON"))
    with pytest.raises(Refusal) as held:
        await interlibrary.request(
            ginestra.library,
            card="G1",
            scope=IllScope.PROVINCIAL,
            title="Qui",
            record_id=owned,
            now=at(2026, 11, 23),
        )
    assert held.value.code == "held_locally"
    missing = await ginestra.record("Nessuna copia")
    asked = await interlibrary.request(
        ginestra.library,
        card="G1",
        scope=IllScope.PROVINCIAL,
        title="Nessuna copia",
        record_id=missing,
        now=at(2026, 11, 23),
    )
    assert [r.request_id for r in await interlibrary.requests(ginestra.library, card="G1")] == [
        asked.request_id
    ]


async def test_one_open_request_per_work_whatever_the_network(ginestra: World) -> None:
    """A button pressed twice, or the same title asked again while its request is open: one
    request. The same words in another case or spacing are the same title; another author is
    another work; once the request is closed the title may be asked again."""
    await ginestra.patron("G1", "MON")
    library, when = ginestra.library, at(2026, 11, 23)
    first = await interlibrary.request(
        library, card="G1", scope=IllScope.REGIONAL, title="Il Gattopardo", now=when
    )
    with pytest.raises(Refusal) as again:
        await interlibrary.request(
            library, card="G1", scope=IllScope.PROVINCIAL, title=" il  GATTOPARDO", now=when
        )
    assert (again.value.code, again.value.detail) == (
        "ill_already_requested",
        str(first.request_id),
    )
    other = await interlibrary.request(
        library,
        card="G1",
        scope=IllScope.PROVINCIAL,
        title="Il Gattopardo",
        author="Tomasi di Lampedusa, Giuseppe",
        now=when,
    )
    assert len(await interlibrary.requests(library, card="G1")) == 2
    await interlibrary.withdraw(library, card="G1", request_id=other.request_id, now=when)
    renewed = await interlibrary.request(
        library,
        card="G1",
        scope=IllScope.PROVINCIAL,
        title="Il Gattopardo",
        author="Tomasi di Lampedusa, Giuseppe",
        now=when,
    )
    assert renewed.request_id != other.request_id
