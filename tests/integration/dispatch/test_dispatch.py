"""The dispatcher against the emulator: what it sends, and where each notice ends when Telegram
refuses (429, 5xx, time-outs, 403, 400), never silently dropped."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.reminders.dispatcher import Dispatcher, DispatchPolicy, drain_once
from bot.reminders.outgoing import Button, OutgoingMessage
from db.sql import fetch_one
from tests.integration.dispatch.conftest import Outbox
from tests.integration.dispatch.support import (
    add_patrons,
    numbers_received,
    queue_notices,
    queue_one,
    rows,
    with_document,
)

# PTB itself reads the deprecated int form of retry_after when it builds a RetryAfter.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

FAST = DispatchPolicy(
    backoff_base=timedelta(seconds=0.1), backoff_cap=timedelta(seconds=0.4), timeout=0.5
)


def now() -> datetime:
    return datetime.now(UTC)


async def drain(box: Outbox, policy: DispatchPolicy = FAST, settle: float = 3.0) -> None:
    await Dispatcher(box.bot, box.store, now=now, policy=policy).drain(settle=settle)


async def test_a_notice_is_sent_as_rendered(outbox: Outbox) -> None:
    emu = outbox.emulator
    (anna,) = await add_patrons(outbox.store, 1, emulator=emu)
    message = OutgoingMessage(
        text="<b>Il prestito</b> scade <i>domani</i>",
        buttons=(
            (Button(text="Rinnova", callback_data="renew:7"),),
            (Button(text="Catalogo", url="https://example.org/opac"),),
        ),
    )
    row_id = await queue_one(outbox.store, anna.id, message, key="k1", now=now())
    report = await drain_once(outbox.bot, outbox.store, now)
    assert report.sent == 1
    (sent,) = emu.bot_messages(anna.user_id)
    assert sent.text == "Il prestito scade domani"
    assert [e["type"] for e in sent.api["entities"]] == ["bold", "italic"]
    assert sent.button("Rinnova")["callback_data"] == "renew:7"
    assert sent.button("Catalogo")["url"] == "https://example.org/opac"
    row = (await rows(outbox.store))[row_id]
    assert row.state == "sent"
    assert row.telegram_message_id == sent.message_id
    assert row.sent_at is not None


async def test_a_document_follows_its_text_a_second_later(outbox: Outbox) -> None:
    emu = outbox.emulator
    (anna,) = await add_patrons(outbox.store, 1, emulator=emu)
    await queue_one(outbox.store, anna.id, with_document("Appuntamento confermato"), key="k")
    await drain_once(outbox.bot, outbox.store, now)
    text, document = emu.bot_messages(anna.user_id)
    assert text.text == "Appuntamento confermato"
    assert document.api["document"]["file_name"] == "appuntamento.ics"
    message_calls = emu.calls_to("sendMessage") + emu.calls_to("sendDocument")
    assert message_calls[1].at - message_calls[0].at >= 1.0


async def test_a_staff_notice_goes_to_its_forum_topic(outbox: Outbox) -> None:
    emu = outbox.emulator
    staff = emu.add_user("Bibliotecaria")
    group = emu.add_group("Staff", forum=True, admins=[staff.id])
    topic = emu.create_topic(group.id, "Prestiti interbibliotecari", user_id=staff.id)
    message = OutgoingMessage(text="Richiesta ILL <b>#12</b> arrivata", thread_id=topic.thread_id)
    row_id = await queue_one(outbox.store, None, message, key="staff", chat_id=group.id)
    await drain_once(outbox.bot, outbox.store, now)
    (sent,) = emu.bot_messages(group.id, topic.thread_id)
    assert sent.text == "Richiesta ILL #12 arrivata"
    assert (await rows(outbox.store))[row_id].state == "sent"


async def test_no_linked_chat_is_undeliverable_without_a_call(outbox: Outbox) -> None:
    (nobody,) = await add_patrons(outbox.store, 1, linked=False)
    row_id = await queue_one(outbox.store, nobody.id, OutgoingMessage(text="x"), key="k")
    await drain_once(outbox.bot, outbox.store, now)
    row = (await rows(outbox.store))[row_id]
    assert (row.state, row.last_error) == ("undeliverable", "not linked")
    assert outbox.emulator.calls_to("sendMessage") == []


async def test_an_expired_notice_is_never_sent(outbox: Outbox) -> None:
    emu = outbox.emulator
    (anna,) = await add_patrons(outbox.store, 1, emulator=emu)
    queued = now() - timedelta(days=8)
    row_id = await queue_one(
        outbox.store,
        anna.id,
        OutgoingMessage(text="vecchio"),
        key="old",
        now=queued,
        expires_at=queued + timedelta(days=7),
    )
    report = await drain_once(outbox.bot, outbox.store, now)
    assert report.expired == 1
    row = (await rows(outbox.store))[row_id]
    assert (row.state, row.last_error) == ("expired", "expired")
    assert emu.calls_to("sendMessage") == []


async def test_the_chat_is_read_when_sending_not_when_queueing(outbox: Outbox) -> None:
    emu = outbox.emulator
    (anna,) = await add_patrons(outbox.store, 1, emulator=emu)
    await queue_one(outbox.store, anna.id, OutgoingMessage(text="dove?"), key="k")
    new_phone = emu.add_user("Anna, nuovo telefono", started=True)
    async with outbox.store.transaction() as conn:
        await conn.execute(
            "UPDATE telegram_links SET telegram_user_id = ?, chat_id = ? WHERE patron_id = ?",
            (new_phone.id, new_phone.id, anna.id),
        )
    await drain_once(outbox.bot, outbox.store, now)
    assert [m.text for m in emu.bot_messages(new_phone.id)] == ["dove?"]
    assert emu.bot_messages(anna.user_id) == []


# -- Telegram's bad days -------------------------------------------------------------------------


async def test_a_flood_wait_pauses_everything_then_all_are_delivered(outbox: Outbox) -> None:
    emu = outbox.emulator
    patrons = await add_patrons(outbox.store, 6, emulator=emu)
    ids = await queue_notices(outbox.store, patrons, 1, now=now())
    emu.inject_fault("retry_after", method="sendMessage", chat_id=patrons[1].user_id, retry_after=1)
    await drain(outbox)
    found = await rows(outbox.store)
    assert {found[i].state for i in ids} == {"sent"}
    assert found[ids[1]].attempts == 1  # a flood wait is not a failed attempt
    calls = emu.calls_to("sendMessage")
    refused = next(c for c in calls if c.status == 429)
    after = [c for c in calls if c.at > refused.at]
    assert after, "the other notices went out after the pause"
    assert min(c.at for c in after) - refused.at >= 0.95  # nothing sent during the wait
    assert sorted(numbers_received(emu, [p.user_id for p in patrons]).values()) == [1] * 6


async def test_server_errors_are_retried_with_back_off(outbox: Outbox) -> None:
    emu = outbox.emulator
    (anna,) = await add_patrons(outbox.store, 1, emulator=emu)
    row_id = await queue_one(outbox.store, anna.id, OutgoingMessage(text="riprova"), key="k")
    emu.inject_fault("server_error", method="sendMessage", times=2)
    # Back-off 0.6 s, then 1.2 s (a chat takes one message a second whatever the back-off).
    slower = replace(FAST, backoff_base=timedelta(seconds=0.6), backoff_cap=timedelta(seconds=5))
    await drain(outbox, slower)
    row = (await rows(outbox.store))[row_id]
    assert (row.state, row.attempts) == ("sent", 3)
    calls = [c.at for c in emu.calls_to("sendMessage")]
    assert len(calls) == 3
    assert calls[1] - calls[0] >= 1.0
    assert calls[2] - calls[1] >= 1.2
    assert [m.text for m in emu.bot_messages(anna.user_id)] == ["riprova"]


async def test_a_notice_that_keeps_failing_is_recorded_undeliverable(outbox: Outbox) -> None:
    emu = outbox.emulator
    (anna,) = await add_patrons(outbox.store, 1, emulator=emu)
    row_id = await queue_one(outbox.store, anna.id, OutgoingMessage(text="mai"), key="k")
    emu.inject_fault("server_error", method="sendMessage", times=None, status=502)
    await drain(outbox, replace(FAST, max_attempts=3))
    row = (await rows(outbox.store))[row_id]
    assert row.state == "undeliverable"
    assert row.attempts == 3
    assert row.last_error is not None
    assert row.last_error.startswith("gave up after 3 attempts: NetworkError")


async def test_a_time_out_is_retried_and_the_notice_delivered(outbox: Outbox) -> None:
    emu = outbox.emulator
    (anna,) = await add_patrons(outbox.store, 1, emulator=emu)
    row_id = await queue_one(outbox.store, anna.id, OutgoingMessage(text="lento"), key="k")
    emu.inject_fault("delay", method="sendMessage", delay=1.0)  # > the 0.5 s time-out
    await drain(outbox)
    row = (await rows(outbox.store))[row_id]
    assert (row.state, row.attempts) == ("sent", 2)
    # Telegram may carry out a request whose answer timed out: at least once, never lost.
    assert 1 <= len(emu.bot_messages(anna.user_id)) <= 2


async def test_a_time_out_past_expiry_is_recorded_expired(outbox: Outbox) -> None:
    emu = outbox.emulator
    (anna,) = await add_patrons(outbox.store, 1, emulator=emu)
    row_id = await queue_one(
        outbox.store,
        anna.id,
        OutgoingMessage(text="quasi scaduto"),
        key="k",
        expires_at=now() + timedelta(seconds=0.05),
    )
    emu.inject_fault("server_error", method="sendMessage")
    await drain(outbox)
    row = (await rows(outbox.store))[row_id]
    assert row.state == "expired"
    assert row.last_error is not None
    assert row.last_error.startswith("expired; last error: NetworkError")


async def test_a_blocked_chat_takes_no_more_notices(outbox: Outbox) -> None:
    emu = outbox.emulator
    anna, bruno = await add_patrons(outbox.store, 2, emulator=emu)
    first = await queue_one(outbox.store, anna.id, OutgoingMessage(text="uno"), key="k1")
    await queue_one(outbox.store, bruno.id, OutgoingMessage(text="per Bruno"), key="k2")
    emu.block_bot(anna.user_id)
    await drain_once(outbox.bot, outbox.store, now)
    row = (await rows(outbox.store))[first]
    assert row.state == "undeliverable"
    assert row.last_error == "Forbidden: bot was blocked by the user"
    link = await fetch_one(
        outbox.store.reader,
        "SELECT undeliverable_at, undeliverable_why FROM telegram_links WHERE patron_id = ?",
        (anna.id,),
    )
    assert link is not None
    assert link[0] is not None
    assert link[1] == "Forbidden: bot was blocked by the user"
    assert [m.text for m in emu.bot_messages(bruno.user_id)] == ["per Bruno"]

    calls_before = len(emu.calls_to("sendMessage"))
    second = await queue_one(outbox.store, anna.id, OutgoingMessage(text="due"), key="k3")
    await drain_once(outbox.bot, outbox.store, now)
    row = (await rows(outbox.store))[second]
    assert row.state == "undeliverable"
    assert row.last_error == "blocked: Forbidden: bot was blocked by the user"
    assert len(emu.calls_to("sendMessage")) == calls_before  # Telegram was not asked


async def test_a_bad_request_is_undeliverable_with_telegrams_words(outbox: Outbox) -> None:
    emu = outbox.emulator
    (anna,) = await add_patrons(outbox.store, 1, emulator=emu)
    row_id = await queue_one(outbox.store, anna.id, OutgoingMessage(text="x"), key="k")
    emu.inject_fault("bad_request", method="sendMessage", description="chat not found")
    await drain_once(outbox.bot, outbox.store, now)
    row = (await rows(outbox.store))[row_id]
    assert (row.state, row.last_error) == ("undeliverable", "bad request: Chat not found")


async def test_a_failed_document_is_retried_without_its_text(outbox: Outbox) -> None:
    emu = outbox.emulator
    (anna,) = await add_patrons(outbox.store, 1, emulator=emu)
    row_id = await queue_one(outbox.store, anna.id, with_document("Con allegato"), key="k")
    emu.inject_fault("server_error", method="sendDocument")
    await drain(outbox)
    assert (await rows(outbox.store))[row_id].state == "sent"
    messages = emu.bot_messages(anna.user_id)
    assert [m.text for m in messages] == ["Con allegato", None]
    assert messages[1].api["document"]["file_name"] == "appuntamento.ics"


# -- Telegram's limits, as the emulator saw the calls arrive ---------------------------------------


def most_in_window(instants: list[float], window: float) -> int:
    instants = sorted(instants)
    best, start = 0, 0
    for end, at in enumerate(instants):
        while at - instants[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_never_more_than_30_a_second_nor_1_a_second_per_chat(outbox: Outbox) -> None:
    emu = outbox.emulator
    patrons = await add_patrons(outbox.store, 60, emulator=emu)
    ids = await queue_notices(outbox.store, patrons, 3, now=now())
    report = await drain_once(outbox.bot, outbox.store, now)
    assert report.sent == len(ids) == 180
    calls = emu.calls_to("sendMessage")
    assert len(calls) == 180
    instants = [c.at for c in calls]
    assert most_in_window(instants, 1.0) <= 30
    # Near the ceiling (bench/dispatch.py measures how near; a busy test machine lags a little).
    assert (len(instants) - 1) / (max(instants) - min(instants)) > 20
    for patron in patrons:
        times = [c.at for c in calls if str(c.params["chat_id"]) == str(patron.user_id)]
        assert len(times) == 3
        assert min(b - a for a, b in itertools.pairwise(times)) >= 1.0


async def test_a_payload_that_is_not_a_message_is_undeliverable_and_blocks_nothing(
    outbox: Outbox,
) -> None:
    emu = outbox.emulator
    (anna,) = await add_patrons(outbox.store, 1, emulator=emu)
    broken = await queue_one(outbox.store, anna.id, OutgoingMessage(text="x"), key="k1")
    async with outbox.store.transaction() as conn:
        await conn.execute("UPDATE outbox SET payload = '{\"txt\": 1}' WHERE id = ?", (broken,))
    fine = await queue_one(outbox.store, anna.id, OutgoingMessage(text="dopo"), key="k2")
    await drain(outbox)
    found = await rows(outbox.store)
    assert found[broken].state == "undeliverable"
    reason = found[broken].last_error
    assert reason is not None
    assert reason.startswith("invalid payload")
    assert found[fine].state == "sent"
    assert [m.text for m in emu.bot_messages(anna.user_id)] == ["dopo"]
