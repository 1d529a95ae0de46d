"""Appointments through the real bot and the emulator: a patron books in the private chat, the
staff decide in the staff forum group, the patron hears of it.

Time is the real clock here (the handlers read it), so the service is defined relative to it:
slots at 10:00 and 15:00 every weekday the branch opens, booked a day or more ahead; the tests
take the first day and time the bot offers rather than a date written in advance.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import icalendar
import pytest
from telegram import Update

from bot.appointments import WeeklySlot
from bot.reminders.dispatcher import drain_once
from bot.sandbox.emulator import Emulator
from bot.sandbox.view import ChatMessage
from bot.sandbox.world import Chat, User
from bot.services import appointments, identity
from bot.services.context import Library
from db.sql import fetch_all
from db.timestamps import from_db
from tests.e2e.conftest import BotWorld

PIN = "2468"


@dataclass
class StaffWorld:
    bot: BotWorld
    staff_chat: Chat
    librarian: User

    @property
    def emulator(self) -> Emulator:
        return self.bot.emulator

    @property
    def library(self) -> Library:
        return self.bot.world.library


@pytest.fixture
def staff(staff_bot: BotWorld) -> StaffWorld:
    """The e2e world with the staff forum group (``staff_chat_id``); ``staff[0]`` is a
    librarian, a plain member of the group."""
    assert staff_bot.staff_chat_id is not None
    chat = staff_bot.emulator.chat(staff_bot.staff_chat_id)
    return StaffWorld(staff_bot, chat, staff_bot.staff[0])


def now() -> datetime:
    return datetime.now(UTC)


async def service(
    staff: StaffWorld,
    code: str = "CONSULT",
    *,
    capacity: int = 1,
    cutoff_hours: int = 24,
) -> int:
    row, _ = await appointments.define_service(
        staff.library,
        appointments.ServiceDefinition(
            code=code,
            branch="BRU",
            name_it="Consulenza bibliografica" if code == "CONSULT" else f"Servizio {code}",
            name_en="Bibliographic consultation" if code == "CONSULT" else f"Service {code}",
            capacity=capacity,
            cancel_cutoff_hours=cutoff_hours,
        ),
    )
    for weekday in range(6):
        for hour in (10, 15):
            await appointments.add_slot(
                staff.library, code=code, branch="BRU", slot=WeeklySlot(weekday, time(hour))
            )
    return row.service_id


async def patron(staff: StaffWorld, card: str, name: str = "Anna") -> User:
    """A patron whose Telegram account (English) is linked to ``card``."""
    await staff.bot.patron_with_pin(card, PIN)
    user = staff.emulator.add_user(name, language_code="en", started=True)
    await identity.link_with_pin(
        staff.library, telegram_user_id=user.id, chat_id=user.id, card=card, pin=PIN, now=now()
    )
    await identity.choose_language(
        staff.library, telegram_user_id=user.id, language="en", now=now()
    )
    return user


async def command(staff: StaffWorld, user: User, name: str, args: str = "") -> ChatMessage:
    emu = staff.emulator
    return await emu.wait_for_reply(user.id, after=emu.send_command(user.id, name, args))


async def press(
    staff: StaffWorld,
    user: User,
    message: ChatMessage,
    *,
    text: str | None = None,
    data: str | None = None,
) -> ChatMessage:
    """Press a button and return the pressed message once edited (or the next bot message)."""
    emu = staff.emulator
    chat = message.chat_id
    floor = emu.transcript(chat)[-1].message_id
    edits = emu.message(chat, message.message_id).edit_count
    query = emu.press_button(user.id, chat, message.message_id, text=text, data=data)
    await emu.wait_for(lambda: emu.callback_answer(query) is not None, what="an answer")

    def outcome() -> ChatMessage | None:
        pressed = emu.message(chat, message.message_id)
        if pressed.edit_count > edits:
            return pressed
        newer = [m for m in emu.bot_messages(chat) if m.message_id > floor]
        return newer[0] if newer else None

    return await emu.wait_for(outcome, what=f"the bot's answer to {text or data}")


async def up_to_confirmation(staff: StaffWorld, user: User, label: str) -> ChatMessage:
    """/appointment → the service → the first day offered → its first time: the Book screen."""
    screen = await command(staff, user, "appointment")
    days = await press(staff, user, screen, text=label)
    first_day = next(b for b in days.buttons if str(b["callback_data"]).startswith("ap:d:"))
    times = await press(staff, user, days, data=str(first_day["callback_data"]))
    first_time = next(b for b in times.buttons if str(b["callback_data"]).startswith("ap:t:"))
    return await press(staff, user, times, data=str(first_time["callback_data"]))


async def edited_after(staff: StaffWorld, chat_id: int, message: ChatMessage) -> ChatMessage:
    """``message`` once the bot has edited it (again)."""
    emu = staff.emulator

    def edited() -> ChatMessage | None:
        now_shown = emu.message(chat_id, message.message_id)
        return now_shown if now_shown.edit_count > message.edit_count else None

    return await emu.wait_for(edited, what=f"message {message.message_id} edited")


def staff_cards(staff: StaffWorld) -> list[ChatMessage]:
    return [
        m for m in staff.emulator.bot_messages(staff.staff_chat.id) if "#A" in m.body and m.buttons
    ]


async def recorded(staff: StaffWorld, kind: str, state: str) -> None:
    """Wait until the outbox row of ``kind`` is in ``state`` (the dispatcher records a send
    just after the message is in the chat)."""
    sql = f"SELECT state FROM outbox WHERE kind = '{kind}'"
    for _ in range(100):
        if await rows(staff, sql) == [(state,)]:
            return
        await asyncio.sleep(0.05)
    assert await rows(staff, sql) == [(state,)]


async def rows(staff: StaffWorld, sql: str) -> list[tuple[object, ...]]:
    return await fetch_all(staff.library.store.reader, sql)


# -- booking --------------------------------------------------------------------------------


async def test_book_and_staff_confirms(staff: StaffWorld) -> None:
    await service(staff)
    emu = staff.emulator
    anna = await patron(staff, "0001")
    screen = await command(staff, anna, "appointment")
    assert "You have no appointments booked." in screen.body
    assert "Bibliographic consultation (Brugherio)" in [b["text"] for b in screen.buttons]
    confirm = await up_to_confirmation(staff, anna, "Bibliographic consultation")
    assert "Book Bibliographic consultation" in confirm.body
    assert "at the Brugherio library (30 minutes)" in confirm.body
    booked = await press(staff, anna, confirm, text="Book")
    assert "Request sent" in booked.body
    assert "waiting for the library to confirm" in booked.body
    # The card in the staff group's "Appointments" topic (Italian: the library's language).
    card = await emu.wait_for(lambda: next(iter(staff_cards(staff)), None), what="the card")
    topics = emu.topics(staff.staff_chat.id)
    assert [topic.name for topic in topics] == ["Appuntamenti"]
    assert "Richiesta di appuntamento" in card.body
    assert card.thread_id == topics[0].thread_id
    assert "Anna 0001" in card.body
    assert "0001" in card.body
    decided = await press(staff, staff.librarian, card, data=str(card.buttons[0]["callback_data"]))
    assert str(card.buttons[0]["callback_data"]).startswith("aps:ok:")
    assert decided.message_id == card.message_id
    assert not any(str(b.get("callback_data", "")).startswith("aps:ok") for b in decided.buttons)
    state = await rows(staff, "SELECT state, decided_by FROM appointments")
    assert state == [("confirmed", staff.librarian.id)]
    queued = await rows(staff, "SELECT kind, payload FROM outbox ORDER BY id")
    assert [kind for kind, _ in queued] == ["appointment_confirmed", "appointment_reminder"]
    payload = json.loads(str(queued[0][1]))
    assert payload["document"]["mime_type"] == "text/calendar"
    # A second card for the same time is impossible: the patron's list shows it confirmed.
    again = await command(staff, anna, "appointment")
    assert "confirmed" in again.body


async def test_two_patrons_press_the_last_place_together(staff: StaffWorld) -> None:
    await service(staff)
    emu = staff.emulator
    anna, luca = await patron(staff, "0001"), await patron(staff, "0002", "Luca")
    first = await up_to_confirmation(staff, anna, "Bibliographic consultation")
    second = await up_to_confirmation(staff, luca, "Bibliographic consultation")
    assert first.body == second.body  # the same time offered to both
    floor_a = emu.message(anna.id, first.message_id).edit_count
    floor_l = emu.message(luca.id, second.message_id).edit_count
    emu.press_button(anna.id, anna.id, first.message_id, text="Book")
    emu.press_button(luca.id, luca.id, second.message_id, text="Book")

    def answered() -> tuple[ChatMessage, ChatMessage] | None:
        a = emu.message(anna.id, first.message_id)
        b = emu.message(luca.id, second.message_id)
        return (a, b) if a.edit_count > floor_a and b.edit_count > floor_l else None

    a, b = await emu.wait_for(answered, what="both answers")
    outcomes = sorted(["sent" if "Request sent" in m.body else "taken" for m in (a, b)])
    assert outcomes == ["sent", "taken"]
    loser = a if "Request sent" not in a.body else b
    assert "someone has just taken that time" in loser.body
    assert await rows(staff, "SELECT count(*) FROM appointments") == [(1,)]
    await emu.wait_for(lambda: len(staff_cards(staff)) == 1 or None, what="one card")


async def test_the_last_place_pressed_at_the_same_instant_goes_once(staff: StaffWorld) -> None:
    """The two presses handed to the application at once (``process_update``, concurrently,
    as a concurrent update processor would): the places are counted inside the booking's
    transaction, so one patron books and the other is told the time was just taken."""
    await service(staff)
    emu, app = staff.emulator, staff.bot.app
    anna, luca = await patron(staff, "0001"), await patron(staff, "0002", "Luca")
    first = await up_to_confirmation(staff, anna, "Bibliographic consultation")
    second = await up_to_confirmation(staff, luca, "Bibliographic consultation")
    assert first.body == second.body
    assert app.updater is not None
    await app.updater.stop()
    try:
        queries = [
            emu.press_button(anna.id, anna.id, first.message_id, text="Book"),
            emu.press_button(luca.id, luca.id, second.message_id, text="Book"),
        ]
        updates = [Update.de_json(data, app.bot) for data in emu.updates.take_pending()]
        assert len(updates) == 2
        await asyncio.gather(*(app.process_update(update) for update in updates))
    finally:
        await app.updater.start_polling(poll_interval=0, timeout=1)
    for query in queries:
        await emu.wait_for_callback_answer(query)
    bodies = [emu.message(anna.id, first.message_id).body]
    bodies.append(emu.message(luca.id, second.message_id).body)
    assert sorted("Request sent" in body for body in bodies) == [False, True]
    assert any("someone has just taken that time" in body for body in bodies)
    assert await rows(staff, "SELECT count(*) FROM appointments") == [(1,)]
    await emu.wait_for(lambda: len(staff_cards(staff)) == 1 or None, what="one card")


async def test_two_requests_at_the_same_instant_make_one_topic(staff: StaffWorld) -> None:
    """Two patrons book (two places) in updates handled at once: both cards land in the one
    "Appuntamenti" topic — it is created once."""
    await service(staff, capacity=2)
    emu, app = staff.emulator, staff.bot.app
    anna, luca = await patron(staff, "0001"), await patron(staff, "0002", "Luca")
    first = await up_to_confirmation(staff, anna, "Bibliographic consultation")
    second = await up_to_confirmation(staff, luca, "Bibliographic consultation")
    # A slow answer to the first createForumTopic: the second request arrives meanwhile.
    emu.inject_fault("delay", method="createForumTopic", delay=0.5)
    assert app.updater is not None
    await app.updater.stop()
    try:
        emu.press_button(anna.id, anna.id, first.message_id, text="Book")
        emu.press_button(luca.id, luca.id, second.message_id, text="Book")
        updates = [Update.de_json(data, app.bot) for data in emu.updates.take_pending()]
        await asyncio.gather(*(app.process_update(update) for update in updates))
    finally:
        await app.updater.start_polling(poll_interval=0, timeout=1)
    cards = await emu.wait_for(
        lambda: staff_cards(staff) if len(staff_cards(staff)) == 2 else None, what="two cards"
    )
    topics = emu.topics(staff.staff_chat.id)
    assert [topic.name for topic in topics] == ["Appuntamenti"]
    assert {card.thread_id for card in cards} == {topics[0].thread_id}
    assert len(emu.calls_to("createForumTopic")) == 1


async def test_a_non_member_cannot_confirm(staff: StaffWorld) -> None:
    await service(staff)
    emu = staff.emulator
    anna = await patron(staff, "0001")
    confirm = await up_to_confirmation(staff, anna, "Bibliographic consultation")
    await press(staff, anna, confirm, text="Book")
    card = await emu.wait_for(lambda: next(iter(staff_cards(staff)), None), what="the card")
    stranger = emu.add_user("Mallory", language_code="en")
    emu.set_member(staff.staff_chat.id, stranger.id, "left")
    query = emu.press_button(
        stranger.id,
        staff.staff_chat.id,
        card.message_id,
        data=str(card.buttons[0]["callback_data"]),
    )
    answer = await emu.wait_for_callback_answer(query)
    assert answer.get("show_alert") is True
    # In Mallory's language (English), not the staff group's (Italian).
    assert answer.get("text") == "Only the library's staff can do this."
    assert await rows(staff, "SELECT state FROM appointments") == [("requested",)]
    assert await rows(staff, "SELECT count(*) FROM outbox") == [(0,)]
    assert emu.message(staff.staff_chat.id, card.message_id).edit_count == card.edit_count
    # The patron, and even a librarian, forging the button in a private chat: refused there.
    data = str(card.buttons[0]["callback_data"])
    for user in (anna, staff.librarian):
        emu.world.private_chat(user).started = True
        screen = await command(staff, user, "help")
        query = emu.press_button(user.id, user.id, screen.message_id, data=data, forge=True)
        answer = await emu.wait_for_callback_answer(query)
        assert answer.get("show_alert") is True
    assert await rows(staff, "SELECT state FROM appointments") == [("requested",)]


async def test_patron_cancels_inside_the_cut_off(staff: StaffWorld) -> None:
    await service(staff, cutoff_hours=0)
    anna = await patron(staff, "0001")
    confirm = await up_to_confirmation(staff, anna, "Bibliographic consultation")
    booked = await press(staff, anna, confirm, text="Book")
    card = await staff.emulator.wait_for(
        lambda: next(iter(staff_cards(staff)), None), what="the card"
    )
    asked = await press(staff, anna, booked, text="Cancel 1")
    assert "Cancel your appointment" in asked.body
    done = await press(staff, anna, asked, text="Yes, cancel it")
    assert "is cancelled" in done.body
    assert "You have no appointments booked." in done.body
    assert await rows(staff, "SELECT state, cancelled_by FROM appointments") == [
        ("cancelled", "patron")
    ]
    # The staff card says so, and offers nothing to press any more.
    edited = await edited_after(staff, staff.staff_chat.id, card)
    assert not edited.buttons


async def test_patron_cannot_cancel_past_the_cut_off(staff: StaffWorld) -> None:
    # The cut-off (40 days) is longer than the horizon: every booking is already past it.
    await service(staff, cutoff_hours=40 * 24)
    anna = await patron(staff, "0001")
    confirm = await up_to_confirmation(staff, anna, "Bibliographic consultation")
    booked = await press(staff, anna, confirm, text="Book")
    refused = await press(staff, anna, booked, text="Cancel 1")
    assert "too late to cancel" in refused.body
    assert "phone or write to the Brugherio library" in refused.body
    assert await rows(staff, "SELECT state FROM appointments") == [("requested",)]
    # A forged "yes" is refused the same way.
    emu = staff.emulator
    appointment_id = (await rows(staff, "SELECT id FROM appointments"))[0][0]
    query = emu.press_button(
        anna.id, anna.id, refused.message_id, data=f"ap:cy:{appointment_id}", forge=True
    )
    await emu.wait_for_callback_answer(query)
    await emu.wait_for(
        lambda: "too late to cancel" in emu.bot_messages(anna.id)[-1].body or None,
        what="the refusal",
    )
    assert await rows(staff, "SELECT state FROM appointments") == [("requested",)]


async def test_someone_elses_appointment_cannot_be_touched(staff: StaffWorld) -> None:
    await service(staff, cutoff_hours=0)
    emu = staff.emulator
    anna, luca = await patron(staff, "0001"), await patron(staff, "0002", "Luca")
    confirm = await up_to_confirmation(staff, anna, "Bibliographic consultation")
    await press(staff, anna, confirm, text="Book")
    appointment_id = (await rows(staff, "SELECT id FROM appointments"))[0][0]
    screen = await command(staff, luca, "appointment")
    query = emu.press_button(
        luca.id, luca.id, screen.message_id, data=f"ap:cy:{appointment_id}", forge=True
    )
    await emu.wait_for_callback_answer(query)
    answer = await edited_after(staff, luca.id, screen)
    assert "no longer available" in answer.body
    assert await rows(staff, "SELECT state FROM appointments") == [("requested",)]


async def test_staff_cancels_with_a_message(staff: StaffWorld) -> None:
    await service(staff)
    emu = staff.emulator
    anna = await patron(staff, "0001")
    confirm = await up_to_confirmation(staff, anna, "Bibliographic consultation")
    await press(staff, anna, confirm, text="Book")
    card = await emu.wait_for(lambda: next(iter(staff_cards(staff)), None), what="the card")
    card = await press(staff, staff.librarian, card, data=str(card.buttons[0]["callback_data"]))
    question = await press(staff, staff.librarian, card, data=str(card.buttons[0]["callback_data"]))
    assert "#A" in question.body
    assert question.thread_id == card.thread_id
    reply = emu.send_text(
        staff.librarian.id,
        "La sala consultazione è chiusa per un guasto.",
        chat_id=staff.staff_chat.id,
        thread_id=card.thread_id,
        reply_to=question.message_id,
    )
    done = await emu.wait_for_reply(staff.staff_chat.id, after=reply, thread_id=card.thread_id)
    assert "#A" in done.body
    assert await rows(staff, "SELECT state, cancelled_by, cancel_reason FROM appointments") == [
        ("cancelled", "staff", "La sala consultazione è chiusa per un guasto.")
    ]
    # The staff handlers nudge the dispatcher: both notices go out; the reminder never does.
    expected = [
        ("appointment_confirmed", "sent"),
        ("appointment_reminder", "expired"),
        ("appointment_cancelled", "sent"),
    ]
    for _ in range(100):
        kinds = await rows(staff, "SELECT kind, state FROM outbox ORDER BY id")
        if kinds == expected:
            break
        await asyncio.sleep(0.05)
    assert kinds == expected


async def test_staff_cancel_command_and_its_usage(staff: StaffWorld) -> None:
    await service(staff)
    emu = staff.emulator
    anna = await patron(staff, "0001")
    confirm = await up_to_confirmation(staff, anna, "Bibliographic consultation")
    await press(staff, anna, confirm, text="Book")
    appointment_id = (await rows(staff, "SELECT id FROM appointments"))[0][0]
    group = staff.staff_chat.id
    usage = emu.send_command(staff.librarian.id, "appointment_cancel", "abc", chat_id=group)
    answer = await emu.wait_for_reply(group, after=usage)
    assert "/appointment_cancel 12" in answer.body
    assert await rows(staff, "SELECT state FROM appointments") == [("requested",)]
    sent = emu.send_command(
        staff.librarian.id,
        "appointment_cancel",
        f"{appointment_id} Biblioteca chiusa",
        chat_id=group,
    )
    answer = await emu.wait_for_reply(group, after=sent)
    assert f"#A{appointment_id}" in answer.body
    assert await rows(staff, "SELECT state, cancel_reason FROM appointments") == [
        ("cancelled", "Biblioteca chiusa")
    ]


async def test_the_reminder_is_queued_at_the_configured_time(staff: StaffWorld) -> None:
    await service(staff)
    await appointments.set_reminder_hours(staff.library, 6, now())
    emu = staff.emulator
    anna = await patron(staff, "0001")
    confirm = await up_to_confirmation(staff, anna, "Bibliographic consultation")
    await press(staff, anna, confirm, text="Book")
    card = await emu.wait_for(lambda: next(iter(staff_cards(staff)), None), what="the card")
    await press(staff, staff.librarian, card, data=str(card.buttons[0]["callback_data"]))
    starts = from_db(str((await rows(staff, "SELECT starts_at FROM appointments"))[0][0]))
    reminder = await rows(
        staff, "SELECT not_before, expires_at FROM outbox WHERE kind = 'appointment_reminder'"
    )
    expected = starts - timedelta(hours=6)
    local = starts.astimezone(staff.library.zone)
    if local.hour == 10:  # 04:00 falls in the quiet hours (21:00-08:00): the morning's 08:00
        expected = local.replace(hour=8).astimezone(expected.tzinfo)
    assert [(from_db(str(a)), from_db(str(b))) for a, b in reminder] == [(expected, starts)]


async def test_outside_a_private_chat_and_without_a_card(staff: StaffWorld) -> None:
    await service(staff)
    emu = staff.emulator
    luca = emu.add_user("Luca", language_code="en", started=True)
    answer = await command(staff, luca, "appointment")
    assert "link your library card first" in answer.body
    assert await rows(staff, "SELECT count(*) FROM appointments") == [(0,)]


async def test_a_topic_deleted_by_hand_is_made_again(staff: StaffWorld) -> None:
    await service(staff, capacity=2)
    emu = staff.emulator
    anna, luca = await patron(staff, "0001"), await patron(staff, "0002", "Luca")
    await press(staff, anna, await up_to_confirmation(staff, anna, "Bibliographic"), text="Book")
    first = await emu.wait_for(lambda: next(iter(staff_cards(staff)), None), what="a card")
    assert first.thread_id is not None
    emu.delete_topic(staff.staff_chat.id, first.thread_id)
    await press(staff, luca, await up_to_confirmation(staff, luca, "Bibliographic"), text="Book")
    second = await emu.wait_for(lambda: next(iter(staff_cards(staff)), None), what="a card")
    assert second.thread_id not in (None, first.thread_id)
    assert [topic.name for topic in emu.topics(staff.staff_chat.id)] == ["Appuntamenti"]


async def test_a_card_telegram_refuses_now_goes_out_through_the_outbox(staff: StaffWorld) -> None:
    """The staff card cannot be posted at the moment of the request (Telegram fails): it is
    queued in the outbox, the dispatcher posts it in the topic, and staff act on it as on any
    card — the request is never lost to staff."""
    await service(staff)
    emu = staff.emulator
    anna = await patron(staff, "0001")
    confirm = await up_to_confirmation(staff, anna, "Bibliographic consultation")
    emu.inject_fault("server_error", method="sendMessage", chat_id=staff.staff_chat.id)
    booked = await press(staff, anna, confirm, text="Book")
    assert "Request sent" in booked.body  # the patron's request is taken all the same
    [(chat_id, payload)] = await rows(
        staff, "SELECT chat_id, payload FROM outbox WHERE kind = 'appointment_staff_card'"
    )
    topics = emu.topics(staff.staff_chat.id)
    assert [topic.name for topic in topics] == ["Appuntamenti"]
    assert chat_id == staff.staff_chat.id
    assert json.loads(str(payload))["thread_id"] == topics[0].thread_id
    card = await emu.wait_for(lambda: next(iter(staff_cards(staff)), None), what="the card")
    assert card.thread_id == topics[0].thread_id
    assert "Anna 0001" in card.body
    await recorded(staff, "appointment_staff_card", "sent")
    decided = await press(staff, staff.librarian, card, data=str(card.buttons[0]["callback_data"]))
    assert decided.message_id == card.message_id  # the queued card is edited like any other
    assert not any(str(b.get("callback_data", "")).startswith("aps:ok") for b in decided.buttons)
    assert await rows(staff, "SELECT state FROM appointments") == [("confirmed",)]
    await emu.wait_for(
        lambda: next((m for m in emu.bot_messages(anna.id) if "is confirmed" in m.body), None),
        what="the confirmation",
    )


async def test_a_queued_card_goes_out_as_the_request_now_stands(staff: StaffWorld) -> None:
    """Telegram stays down while the patron cancels: the card waiting in the outbox is
    rewritten, so staff never get Confirm and Decline for a request that is gone."""
    await service(staff, cutoff_hours=0)
    emu = staff.emulator
    anna = await patron(staff, "0001")
    confirm = await up_to_confirmation(staff, anna, "Bibliographic consultation")
    emu.inject_fault("server_error", method="sendMessage", chat_id=staff.staff_chat.id, times=None)
    booked = await press(staff, anna, confirm, text="Book")
    asked = await press(staff, anna, booked, text="Cancel 1")
    done = await press(staff, anna, asked, text="Yes, cancel it")
    assert "is cancelled" in done.body
    [(state, payload)] = await rows(
        staff, "SELECT state, payload FROM outbox WHERE kind = 'appointment_staff_card'"
    )
    assert state in ("pending", "sending")
    rewritten = json.loads(str(payload))
    assert rewritten["buttons"] == []
    assert "🗑 Annullato dall'utente" in rewritten["text"]
    emu.clear_faults()
    await drain_once(staff.bot.app.bot, staff.library.store, now() + timedelta(hours=1))
    [card] = [m for m in emu.bot_messages(staff.staff_chat.id) if "#A" in m.body]
    assert not card.buttons
    assert "🗑" in card.body


async def test_queued_cards_whose_topic_was_deleted_go_to_the_topic_made_again(
    staff: StaffWorld,
) -> None:
    """Telegram is down while two patrons book: both cards wait in the outbox, addressed to
    "Appuntamenti", and a librarian deletes that topic meanwhile. When the dispatcher sends
    them (later, Telegram back), the topic is made again — once, not once per card — and both
    cards go there; staff act on them as on any card. Never recorded undeliverable."""
    await service(staff, capacity=2)
    emu = staff.emulator
    chat = staff.staff_chat.id
    anna, luca = await patron(staff, "0001"), await patron(staff, "0002", "Luca")
    emu.inject_fault("server_error", method="sendMessage", chat_id=chat, times=None)
    for user in (anna, luca):
        confirm = await up_to_confirmation(staff, user, "Bibliographic consultation")
        assert "Request sent" in (await press(staff, user, confirm, text="Book")).body
    [old] = emu.topics(chat)
    sql = (
        "SELECT state, attempts > 0, json_extract(payload, '$.thread_id') FROM outbox"
        " WHERE kind = 'appointment_staff_card' ORDER BY id"
    )
    tried = [("pending", 1, old.thread_id)] * 2
    for _ in range(100):  # the running dispatcher tried both (and will again in a while)
        if await rows(staff, sql) == tried:
            break
        await asyncio.sleep(0.05)
    assert await rows(staff, sql) == tried
    emu.delete_topic(chat, old.thread_id)
    emu.clear_faults()

    app = staff.bot.app
    assert app.bot_data.dispatcher is not None
    report = await drain_once(
        app.bot,
        staff.library.store,
        now() + timedelta(hours=1),
        rethread=app.bot_data.dispatcher.rethread,  # the running bot's, as its own drains use
    )
    assert (report.sent, report.undeliverable) == (2, 0)
    [new] = emu.topics(chat)
    assert new.name == "Appuntamenti"
    assert new.thread_id != old.thread_id
    assert len(emu.calls_to("createForumTopic")) == 2
    cards = staff_cards(staff)
    assert [card.thread_id for card in cards] == [new.thread_id] * 2
    assert "Anna 0001" in cards[0].body
    assert "Anna 0002" in cards[1].body
    assert await rows(staff, sql) == [("sent", 1, new.thread_id)] * 2
    decided = await press(
        staff, staff.librarian, cards[1], data=str(cards[1].buttons[0]["callback_data"])
    )
    assert decided.message_id == cards[1].message_id
    assert not any(str(b.get("callback_data", "")).startswith("aps:ok") for b in decided.buttons)


# -- what the patron receives (the outbox, sent by the running bot's dispatcher) -------------


async def confirmed_booking(staff: StaffWorld, anna: User) -> datetime:
    """Anna books the first time offered and the librarian confirms it; its start."""
    emu = staff.emulator
    confirm = await up_to_confirmation(staff, anna, "Bibliographic consultation")
    await press(staff, anna, confirm, text="Book")
    card = await emu.wait_for(lambda: next(iter(staff_cards(staff)), None), what="the card")
    await press(staff, staff.librarian, card, data=str(card.buttons[0]["callback_data"]))
    return from_db(str((await rows(staff, "SELECT starts_at FROM appointments"))[0][0]))


async def test_the_patron_receives_the_calendar_file(staff: StaffWorld) -> None:
    await service(staff)
    emu = staff.emulator
    anna = await patron(staff, "0001")
    floor = emu.transcript(anna.id)[-1].message_id if emu.transcript(anna.id) else 0
    starts = await confirmed_booking(staff, anna)

    def document() -> ChatMessage | None:
        found = [m for m in emu.bot_messages(anna.id) if m.file_id and m.message_id > floor]
        return found[0] if found else None

    sent = await emu.wait_for(document, what="the .ics document")
    text = [m for m in emu.bot_messages(anna.id) if m.message_id > floor and not m.file_id]
    assert any("Your appointment is confirmed" in m.body for m in text)
    assert sent.file_id is not None
    stored = emu.world.files.get(sent.file_id)
    assert stored is not None
    assert stored.file_name.endswith(".ics")
    event = icalendar.Calendar.from_ical(stored.data).walk("VEVENT")[0]
    start = event.decoded("dtstart")
    assert start == starts
    assert event["dtstart"].params["TZID"] == "Europe/Rome"
    assert str(start.tzinfo) == "Europe/Rome"
    assert start.hour in (10, 15)  # the slots' wall-clock hours
    assert str(event["location"]) == "Brugherio"
    assert str(event["summary"]) == "Bibliographic consultation"
    await recorded(staff, "appointment_confirmed", "sent")


async def test_an_italian_patron_gets_the_file_named_in_italian(staff: StaffWorld) -> None:
    await service(staff)
    emu = staff.emulator
    anna = await patron(staff, "0001")
    await identity.choose_language(
        staff.library, telegram_user_id=anna.id, language="it", now=now()
    )
    floor = emu.transcript(anna.id)[-1].message_id if emu.transcript(anna.id) else 0
    confirm = await up_to_confirmation(staff, anna, "Consulenza bibliografica")
    await press(staff, anna, confirm, text="Prenota")
    card = await emu.wait_for(lambda: next(iter(staff_cards(staff)), None), what="the card")
    await press(staff, staff.librarian, card, data=str(card.buttons[0]["callback_data"]))
    appointment_id = (await rows(staff, "SELECT id FROM appointments"))[0][0]

    def document() -> ChatMessage | None:
        found = [m for m in emu.bot_messages(anna.id) if m.file_id and m.message_id > floor]
        return found[0] if found else None

    sent = await emu.wait_for(document, what="the .ics document")
    assert sent.file_id is not None
    stored = emu.world.files.get(sent.file_id)
    assert stored is not None
    assert stored.file_name == f"appuntamento-{appointment_id}.ics"


async def test_a_declined_request_is_explained(staff: StaffWorld) -> None:
    await service(staff)
    emu = staff.emulator
    anna = await patron(staff, "0001")
    confirm = await up_to_confirmation(staff, anna, "Bibliographic consultation")
    booked = await press(staff, anna, confirm, text="Book")
    card = await emu.wait_for(lambda: next(iter(staff_cards(staff)), None), what="the card")
    await press(staff, staff.librarian, card, data=str(card.buttons[1]["callback_data"]))
    told = await emu.wait_for_reply(anna.id, after=booked)
    assert "cannot give you the appointment you asked for" in told.body
    assert await rows(staff, "SELECT kind FROM outbox") == [("appointment_declined",)]


async def test_the_reminder_goes_out_at_its_time(staff: StaffWorld) -> None:
    await service(staff)
    emu = staff.emulator
    anna = await patron(staff, "0001")
    starts = await confirmed_booking(staff, anna)
    [(not_before,)] = await rows(
        staff, "SELECT not_before FROM outbox WHERE kind = 'appointment_reminder'"
    )
    due = from_db(str(not_before))
    assert due == starts - timedelta(hours=24)
    # Before its time the dispatcher leaves it; at its time it is sent.
    await drain_once(staff.bot.app.bot, staff.library.store, due - timedelta(minutes=1))
    assert await rows(staff, "SELECT state FROM outbox WHERE kind = 'appointment_reminder'") == [
        ("pending",)
    ]
    await drain_once(staff.bot.app.bot, staff.library.store, due + timedelta(minutes=1))
    reminder = await emu.wait_for(
        lambda: next((m for m in emu.bot_messages(anna.id) if "A reminder" in m.body), None),
        what="the reminder",
    )
    assert "Bibliographic consultation" in reminder.body
    assert await rows(staff, "SELECT state FROM outbox WHERE kind = 'appointment_reminder'") == [
        ("sent",)
    ]


async def test_help_and_the_command_menu_offer_appointments(staff: StaffWorld) -> None:
    luca = staff.emulator.add_user("Luca", language_code="it", started=True)
    helped = await command(staff, luca, "help")
    assert "/appointment: prenota un appuntamento con un bibliotecario" in helped.body
    menu = staff.emulator.commands_for(luca.id, luca.id, language_code="en")
    assert {"command": "appointment", "description": "Book an appointment with a librarian"} in menu


# -- forged buttons with digits that are not ASCII -------------------------------------------


SOMETHING_WENT_WRONG = "Something went wrong"


async def test_a_forged_button_with_other_digits_answers_the_current_state(
    staff: StaffWorld,
) -> None:
    """ "²" and "١٢" are digits to ``str.isdigit``; ``int("²")`` raises. A forged press with
    them answers with her appointments as they stand, and books or cancels nothing."""
    service_id = await service(staff, cutoff_hours=0)
    emu = staff.emulator
    anna = await patron(staff, "0001")
    confirm = await up_to_confirmation(staff, anna, "Bibliographic consultation")
    await press(staff, anna, confirm, text="Book")
    appointment_id = (await rows(staff, "SELECT id FROM appointments"))[0][0]
    forged = [
        "ap:s:²:0",
        f"ap:s:{service_id}:²",
        "ap:d:²:20300101",
        f"ap:d:{service_id}:2030010²",
        f"ap:t:{service_id}:20300101100²",
        f"ap:ok:{service_id}:20300101100²",
        "ap:ok:١:203001011000",
        "ap:cx:²",
        "ap:cy:²",
        f"ap:cy:{appointment_id}²",
    ]
    for data in forged:
        screen = await command(staff, anna, "appointment")
        days = await press(staff, anna, screen, text="Bibliographic consultation")
        assert "Which day suits you?" in days.body
        query = emu.press_button(anna.id, anna.id, days.message_id, data=data, forge=True)
        await emu.wait_for_callback_answer(query)
        answer = await edited_after(staff, anna.id, days)
        assert "📅 Your appointment:" in answer.body, (data, answer.body)
        assert f"ap:cx:{appointment_id}" in [b.get("callback_data") for b in answer.buttons]
    assert not [m for m in emu.bot_messages(anna.id) if SOMETHING_WENT_WRONG in m.body]
    assert await rows(staff, "SELECT state FROM appointments") == [("requested",)]


async def test_staff_buttons_and_commands_with_other_digits_change_nothing(
    staff: StaffWorld,
) -> None:
    await service(staff)
    emu = staff.emulator
    anna = await patron(staff, "0001")
    confirm = await up_to_confirmation(staff, anna, "Bibliographic consultation")
    await press(staff, anna, confirm, text="Book")
    card = await emu.wait_for(lambda: next(iter(staff_cards(staff)), None), what="the card")
    group = staff.staff_chat.id
    for data in ("aps:ok:²", "aps:no:١", "aps:cx:²"):
        query = emu.press_button(staff.librarian.id, group, card.message_id, data=data, forge=True)
        await emu.wait_for_callback_answer(query)
    usage = emu.send_command(staff.librarian.id, "appointment_cancel", "#A² chiusa", chat_id=group)
    answer = await emu.wait_for_reply(group, after=usage)
    assert "/appointment_cancel 12" in answer.body
    assert not [m for m in emu.bot_messages(group) if "storto" in m.body]
    assert emu.message(group, card.message_id).edit_count == card.edit_count
    assert await rows(staff, "SELECT state FROM appointments") == [("requested",)]
