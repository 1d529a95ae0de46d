"""The staff group's desk: who may use ``/checkout`` and ``/checkin``, and what they do.

Staff powers come from membership of the staff forum group only (``[telegram]
staff_chat_id``): checked with getChatMember, cached for a minute.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.i18n import translator
from bot.sandbox.view import ChatMessage
from bot.services import identity, loans, patrons
from tests.e2e.conftest import ADMIN_ID, BotWorld


async def command(bot: BotWorld, user_id: int, text: str, chat_id: int) -> ChatMessage:
    emu = bot.emulator
    sent = emu.send_text(user_id, text, chat_id=chat_id)
    return await emu.wait_for_reply(chat_id, after=sent)


async def test_checkout_from_the_staff_group_makes_a_loan(staff_bot: BotWorld) -> None:
    assert staff_bot.staff_chat_id is not None
    await staff_bot.patron_with_pin("0001234", "2468")
    await staff_bot.world.title_with_copies("Il nome della rosa", ("BRU0001", "BRU"))
    librarian = staff_bot.staff[0]  # a plain member of the group

    reply = await command(
        staff_bot, librarian.id, "/checkout 0001234 BRU0001", staff_bot.staff_chat_id
    )

    assert "0001234" in reply.body, reply.body
    assert "Il nome della rosa" in reply.body
    summary = await patrons.summary(staff_bot.world.library, card="0001234", now=datetime.now(UTC))
    assert [loan.barcode for loan in summary.loans] == ["BRU0001"]

    again = await command(
        staff_bot, librarian.id, "/checkout 0001234 BRU0001", staff_bot.staff_chat_id
    )
    assert again.body.startswith("⛔"), again.body  # already on loan: refused, in words

    back = await command(staff_bot, librarian.id, "/checkin BRU0001", staff_bot.staff_chat_id)
    assert "BRU0001" in back.body, back.body
    assert "0001234" in back.body
    summary = await patrons.summary(staff_bot.world.library, card="0001234", now=datetime.now(UTC))
    assert summary.loans == ()


async def test_unknown_card_and_bad_usage_are_explained(staff_bot: BotWorld) -> None:
    assert staff_bot.staff_chat_id is not None
    head = staff_bot.staff[1]
    unknown = await command(staff_bot, head.id, "/checkout 9999999 NOPE", staff_bot.staff_chat_id)
    assert "9999999" in unknown.body
    assert "[unknown_card]" in unknown.body
    usage = await command(staff_bot, head.id, "/checkout 0001234", staff_bot.staff_chat_id)
    assert "/checkout" in usage.body


async def test_a_non_member_cannot_use_staff_commands(staff_bot: BotWorld) -> None:
    assert staff_bot.staff_chat_id is not None
    emu = staff_bot.emulator
    await staff_bot.patron_with_pin("0001234", "2468")
    await staff_bot.world.title_with_copies("Il nome della rosa", ("BRU0001", "BRU"))
    stranger = emu.add_user("Mallory", language_code="en", started=True)

    # In a private chat with the bot: not a member of the staff group. The refusal is in her
    # Telegram app's language (English), not the staff group's (Italian).
    refused = await command(staff_bot, stranger.id, "/checkout 0001234 BRU0001", stranger.id)
    assert refused.body == "This command is for the library's staff, in the staff group."

    # In the group, but restricted: present, yet not staff.
    emu.set_member(staff_bot.staff_chat_id, stranger.id, "restricted")
    refused = await command(
        staff_bot, stranger.id, "/checkout 0001234 BRU0001", staff_bot.staff_chat_id
    )
    assert "staff" in refused.body or "personale" in refused.body

    # Even a librarian: only in the staff group, not in her private chat.
    librarian = staff_bot.staff[0]
    emu.world.private_chat(librarian).started = True
    refused = await command(staff_bot, librarian.id, "/checkin BRU0001", librarian.id)
    assert refused.from_bot
    summary = await patrons.summary(staff_bot.world.library, card="0001234", now=datetime.now(UTC))
    assert summary.loans == ()  # nothing was lent


async def test_a_refusal_is_in_the_language_the_patron_chose(staff_bot: BotWorld) -> None:
    """Her app says Italian, but she chose English in the bot: the refusal is in English."""
    assert staff_bot.staff_chat_id is not None
    emu = staff_bot.emulator
    await staff_bot.patron_with_pin("0001234", "2468")
    anna = emu.add_user("Anna", language_code="it", started=True)
    library = staff_bot.world.library
    when = datetime.now(UTC)
    await identity.link_with_pin(
        library, telegram_user_id=anna.id, chat_id=anna.id, card="0001234", pin="2468", now=when
    )
    await identity.choose_language(library, telegram_user_id=anna.id, language="en", now=when)
    refused = await command(staff_bot, anna.id, "/checkin BRU0001", anna.id)
    assert refused.body == "This command is for the library's staff, in the staff group."
    emu.set_member(staff_bot.staff_chat_id, anna.id, "restricted")  # in the group, not staff
    refused = await command(staff_bot, anna.id, "/close", staff_bot.staff_chat_id)
    assert refused.body == "This command is for the library's staff, in the staff group."


async def test_staff_powers_come_only_from_the_group_not_from_being_an_administrator(
    staff_bot: BotWorld,
) -> None:
    """An administrator of the bot (``admin_user_ids``: ``/admin``) who is in the group but
    restricted is not staff; made a member, she is."""
    assert staff_bot.staff_chat_id is not None
    emu = staff_bot.emulator
    await staff_bot.patron_with_pin("0001234", "2468")
    await staff_bot.world.title_with_copies("Il nome della rosa", ("BRU0001", "BRU"))
    admin = emu.add_user("Admin", user_id=ADMIN_ID, language_code="en", started=True)
    emu.set_member(staff_bot.staff_chat_id, admin.id, "restricted")
    refused = await command(
        staff_bot, admin.id, "/checkout 0001234 BRU0001", staff_bot.staff_chat_id
    )
    assert refused.body == "This command is for the library's staff, in the staff group."
    summary = await patrons.summary(staff_bot.world.library, card="0001234", now=datetime.now(UTC))
    assert summary.loans == ()
    emu.set_member(staff_bot.staff_chat_id, admin.id, "member")
    staff_bot.app.bot_data.staff.forget(admin.id)  # as when the minute of the cache has passed
    lent = await command(staff_bot, admin.id, "/checkout 0001234 BRU0001", staff_bot.staff_chat_id)
    assert "0001234" in lent.body
    assert not lent.body.startswith("⛔")


async def test_staff_menu_is_registered_for_the_staff_chat(staff_bot: BotWorld) -> None:
    assert staff_bot.staff_chat_id is not None
    menu = staff_bot.emulator.commands_for(staff_bot.staff_chat_id, staff_bot.staff[0].id)
    assert {entry["command"] for entry in menu} == {
        "close",
        "canned",
        "ban",
        "unban",
        "checkout",
        "checkin",
        "appointment_cancel",
    }
    english = staff_bot.emulator.commands_for(
        staff_bot.staff_chat_id, staff_bot.staff[0].id, language_code="en"
    )
    assert {
        "command": "appointment_cancel",
        "description": "Cancel an appointment: /appointment_cancel ID REASON",
    } in english


async def test_the_membership_answer_is_cached_briefly(staff_bot: BotWorld) -> None:
    assert staff_bot.staff_chat_id is not None
    emu = staff_bot.emulator
    librarian = staff_bot.staff[0]
    before = len(emu.calls_to("getChatMember"))
    for _ in range(3):
        await command(staff_bot, librarian.id, "/checkin NOPE", staff_bot.staff_chat_id)
    assert len(emu.calls_to("getChatMember")) - before == 1


async def test_help_in_the_staff_group_lists_the_staff_commands(staff_bot: BotWorld) -> None:
    """Not the patron's help and its buttons ("Link my card", "Talk to a librarian"): the
    librarians' own commands, briefly, in the group's language (the library's: Italian)."""
    assert staff_bot.staff_chat_id is not None
    emu = staff_bot.emulator
    librarian = staff_bot.staff[0]
    reply = await command(staff_bot, librarian.id, "/help", staff_bot.staff_chat_id)
    assert reply.body.startswith("Comandi per il personale della biblioteca"), reply.body
    for name in (
        "/close",
        "/canned",
        "/ban",
        "/unban",
        "/checkout",
        "/checkin",
        "/appointment_cancel",
        "#note",
    ):
        assert name in reply.body, name
    assert "/loans" not in reply.body
    assert reply.buttons == []
    # In a patron's topic too (a forum thread): the answer stays in that topic.
    topic = emu.create_topic(staff_bot.staff_chat_id, "Turni", user_id=staff_bot.staff[1].id)
    sent = emu.send_text(
        librarian.id, "/help", chat_id=staff_bot.staff_chat_id, thread_id=topic.thread_id
    )
    there = await emu.wait_for_reply(staff_bot.staff_chat_id, after=sent, thread_id=topic.thread_id)
    assert there.body == reply.body
    # A patron's private chat still gets the patron's help.
    anna = emu.add_user("Anna", language_code="en", started=True)
    own = await command(staff_bot, anna.id, "/help", anna.id)
    assert own.body.startswith("Here is what I can do")


# -- refusals in the desk's words ----------------------------------------------------------

# What the patron reads ("la tua tessera", "chiedi in biblioteca"), never the librarian.
PATRON_WORDS = ("tua ", "tuo ", "tuoi ", "Hai ", "hai già", "Chiedi in biblioteca", "restituiscilo")


def in_staff_words(body: str) -> bool:
    return not any(words in body for words in PATRON_WORDS)


async def test_a_suspended_card_is_explained_to_the_desk(staff_bot: BotWorld) -> None:
    """Third person, the rule, the amount owed, what lifts it and the late copy to check in
    (the patron reads "your card is suspended … ask at the library")."""
    assert staff_bot.staff_chat_id is not None
    library = staff_bot.world.library
    await staff_bot.patron_with_pin("0003", "2468")
    await staff_bot.world.title_with_copies("Tornato tardi", ("LATE1", "BRU"))
    await staff_bot.world.title_with_copies("Ancora fuori", ("LATE2", "BRU"))
    await staff_bot.world.title_with_copies("Il nome della rosa", ("BRU0001", "BRU"))
    now = datetime.now(UTC)
    await loans.checkout(library, card="0003", barcode="LATE1", now=now - timedelta(days=45))
    await loans.checkout(library, card="0003", barcode="LATE2", now=now - timedelta(days=42))
    returned = await loans.checkin(library, barcode="LATE1", now=now)  # a fine: C8
    summary = await patrons.summary(library, card="0003", now=now)
    assert summary.status == "suspended"
    owed = translator("it").format_money(summary.fines_owed_cents)
    assert returned.fine_cents > 0

    reply = await command(
        staff_bot, staff_bot.staff[0].id, "/checkout 0003 BRU0001", staff_bot.staff_chat_id
    )

    body = reply.body
    assert body.startswith("⛔ La tessera 0003 è sospesa"), body
    assert f"• Multe da pagare: {owed} (regola C8)" in body
    assert "fino alla registrazione del rientro dei documenti in ritardo" in body
    assert "LATE2 (12 giorni di ritardo)" in body
    assert body.endswith("[suspended]")
    assert in_staff_words(body), body
    summary = await patrons.summary(library, card="0003", now=now)
    assert [loan.barcode for loan in summary.loans] == ["LATE2"]  # nothing lent


async def test_every_checkout_refusal_is_in_the_desks_words(staff_bot: BotWorld) -> None:
    assert staff_bot.staff_chat_id is not None
    library = staff_bot.world.library
    world = staff_bot.world
    librarian = staff_bot.staff[0].id
    group = staff_bot.staff_chat_id
    await staff_bot.patron_with_pin("0001", "2468")
    await staff_bot.patron_with_pin("0002", "2468")
    await world.title_with_copies("Lettura digitale", ("EB1", "BRU"), kind="ebook")
    await world.title_with_copies("Il nome della rosa", ("R1", "BRU"))
    now = datetime.now(UTC)
    await loans.checkout(library, card="0002", barcode="R1", now=now)
    for number in range(10):  # C2: at most 10 audiovisual
        await world.title_with_copies(f"Film {number}", (f"AV{number}", "BRU"), kind="audiovisual")
        await loans.checkout(library, card="0001", barcode=f"AV{number}", now=now)
    await world.title_with_copies("Film in più", ("AV10", "BRU"), kind="audiovisual")

    cases = {
        "/checkout 0001 EB1": ("La copia EB1 è un e-book", "[digital_only]"),
        "/checkout 0001 R1": ("La copia R1 è già in prestito", "/checkin R1"),
        "/checkout 0001 AV10": ("La tessera 0001 ha già il massimo di prestiti di DVD e CD", "C2"),
    }
    for text, expected in cases.items():
        reply = await command(staff_bot, librarian, text, group)
        assert reply.body.startswith("⛔"), (text, reply.body)
        for part in expected:
            assert part in reply.body, (text, reply.body)
        assert in_staff_words(reply.body), (text, reply.body)
    summary = await patrons.summary(library, card="0001", now=now)
    assert len(summary.loans) == 10
