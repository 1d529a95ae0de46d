"""Welcome, language and linking a card, through the real bot and the emulator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from telegram.ext import ConversationHandler

from bot.app import register_commands
from bot.handlers import context as handler_context
from bot.handlers.start import LINKING
from bot.services import identity, patrons
from tests.e2e.conftest import ADMIN_ID, BotWorld


async def test_first_start_asks_the_language_then_explains(bot: BotWorld) -> None:
    emu = bot.emulator
    anna = emu.add_user("Anna", language_code="it")
    reply = await emu.wait_for_reply(anna.id, after=emu.send_command(anna.id, "start"))
    assert "lingua" in reply.body
    assert {button["text"] for button in reply.buttons} >= {"Italiano", "English"}
    emu.press_button(anna.id, anna.id, reply.message_id, text="English")
    welcome = await emu.wait_for_reply(anna.id, after=reply)
    assert "search the library's catalog" in welcome.body
    assert any("Link my library card" in button["text"] for button in welcome.buttons)


async def test_commands_are_registered_in_every_language(bot: BotWorld) -> None:
    user = bot.emulator.add_user("Anna")
    italian = {
        c["command"]: c["description"]
        for c in bot.emulator.commands_for(user.id, user.id, language_code="it")
    }
    english = {
        c["command"]: c["description"]
        for c in bot.emulator.commands_for(user.id, user.id, language_code="en")
    }
    assert set(italian) == set(english) >= {"start", "search", "loans", "holds", "account"}
    assert italian["loans"] != english["loans"]


async def _start_english(bot: BotWorld, user_id: int) -> None:
    emu = bot.emulator
    reply = await emu.wait_for_reply(user_id, after=emu.send_command(user_id, "start"))
    emu.press_button(user_id, user_id, reply.message_id, text="English")
    await emu.wait_for_reply(user_id, after=reply)


async def test_link_a_card_with_its_pin(bot: BotWorld) -> None:
    await bot.patron_with_pin("0001", "2468")
    emu = bot.emulator
    anna = emu.add_user("Anna", language_code="en")
    await _start_english(bot, anna.id)
    last = emu.bot_messages(anna.id)[-1]
    emu.press_button(anna.id, anna.id, last.message_id, text="🪪 Link my library card")
    ask_card = await emu.wait_for_reply(anna.id, after=last)
    assert "card number" in ask_card.body
    ask_pin = await emu.wait_for_reply(anna.id, after=emu.send_text(anna.id, "0001"))
    assert "PIN" in ask_pin.body
    pin = emu.send_text(anna.id, "2468")
    done = await emu.wait_for_reply(anna.id, after=ask_pin)
    assert "0001 is now linked" in done.body
    # The PIN does not stay in the chat.
    assert pin.message_id not in [message.message_id for message in emu.transcript(anna.id)]
    assert {button["text"] for button in done.buttons} >= {"📚 My loans", "📌 My holds"}


async def test_five_wrong_pins_lock_the_card_for_15_minutes(bot: BotWorld) -> None:
    await bot.patron_with_pin("0001", "2468")
    emu = bot.emulator
    eve = emu.add_user("Eve", language_code="en")
    await _start_english(bot, eve.id)
    answer = await emu.wait_for_reply(eve.id, after=emu.send_command(eve.id, "link"))
    for attempt in range(5):
        answer = await emu.wait_for_reply(eve.id, after=emu.send_text(eve.id, "0001"))
        answer = await emu.wait_for_reply(eve.id, after=emu.send_text(eve.id, f"000{attempt}"))
    assert "paused for 15 minutes" in answer.body
    # Even the right PIN is refused while the card is locked.
    answer = await emu.wait_for_reply(eve.id, after=emu.send_command(eve.id, "link"))
    answer = await emu.wait_for_reply(eve.id, after=emu.send_text(eve.id, "0001"))
    answer = await emu.wait_for_reply(eve.id, after=emu.send_text(eve.id, "2468"))
    assert "paused for 15 minutes" in answer.body


async def test_a_desk_code_links_without_the_pin_once(bot: BotWorld) -> None:
    await bot.patron_with_pin("0002", "1357")
    code, _ = await patrons.link_code(bot.world.library, card="0002", now=datetime.now(UTC))
    emu = bot.emulator
    luca = emu.add_user("Luca", language_code="it")
    linked = await emu.wait_for_reply(
        luca.id, after=emu.send_command(luca.id, "start", f"link-{code}")
    )
    assert "0002" in linked.body
    other = emu.add_user("Marta", language_code="it")
    again = await emu.wait_for_reply(
        other.id, after=emu.send_command(other.id, "start", f"link-{code}")
    )
    assert "non è più valido" in again.body or "not valid" in again.body


async def test_a_card_is_linked_from_one_account_only(bot: BotWorld) -> None:
    await bot.patron_with_pin("0003", "9753")
    emu = bot.emulator
    first = emu.add_user("Anna", language_code="en")
    second = emu.add_user("Anna's phone", language_code="en")
    for user in (first, second):
        await _start_english(bot, user.id)
        await emu.wait_for_reply(user.id, after=emu.send_command(user.id, "link"))
        await emu.wait_for_reply(user.id, after=emu.send_text(user.id, "0003"))
        await emu.wait_for_reply(user.id, after=emu.send_text(user.id, "9753"))
    assert "now linked" in emu.bot_messages(first.id)[-1].body
    assert "already linked to another Telegram account" in emu.bot_messages(second.id)[-1].body


class Clock:
    """The handlers' clock (``bot.handlers.context.clock``), moved by the test."""

    def __init__(self, start: datetime) -> None:
        self.instant = start

    def __call__(self) -> datetime:
        return self.instant

    def advance(self, **delta: float) -> None:
        self.instant += timedelta(**delta)


async def _attempt(bot: BotWorld, user_id: int, card: str, pin: str) -> str:
    emu = bot.emulator
    await emu.wait_for_reply(user_id, after=emu.send_command(user_id, "link"))
    await emu.wait_for_reply(user_id, after=emu.send_text(user_id, card))
    floor = emu.transcript(user_id)[-1]
    emu.send_text(user_id, pin)
    return (await emu.wait_for_reply(user_id, after=floor)).body


async def test_the_lock_ends_after_15_minutes(
    bot: BotWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(datetime(2026, 3, 10, 9, 0, tzinfo=UTC))  # 10:00 in Rome
    monkeypatch.setattr(handler_context, "clock", clock)
    await bot.patron_with_pin("0001", "2468")
    emu = bot.emulator
    eve = emu.add_user("Eve", language_code="en", started=True)
    for attempt in range(4):
        answer = await _attempt(bot, eve.id, "0001", f"111{attempt}")
        assert f"You can try {4 - attempt} more time" in answer
    answer = await _attempt(bot, eve.id, "0001", "1114")
    assert "linking is paused for 15 minutes, until 10:15" in answer
    clock.advance(minutes=14)
    answer = await _attempt(bot, eve.id, "0001", "2468")  # the right PIN, a minute early
    assert "linking is paused for 1 minute, until 10:15" in answer
    assert not (await identity.account(bot.world.library, eve.id)).linked
    clock.advance(minutes=1)
    answer = await _attempt(bot, eve.id, "0001", "2468")
    assert "0001 is now linked" in answer
    # The lock is the card's too: the owner could not link it from her own phone meanwhile.


async def test_the_card_is_locked_for_every_account(
    bot: BotWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    monkeypatch.setattr(handler_context, "clock", clock)
    await bot.patron_with_pin("0001", "2468")
    emu = bot.emulator
    eve = emu.add_user("Eve", language_code="en", started=True)
    for attempt in range(5):
        await _attempt(bot, eve.id, "0001", f"000{attempt}")
    anna = emu.add_user("Anna", language_code="it", started=True)
    clock.advance(minutes=5)
    answer = await _attempt(bot, anna.id, "0001", "2468")
    assert "per 10 minuti non puoi collegare la tessera, fino alle 10:15" in answer
    clock.advance(minutes=10)
    assert "0001 ora è collegata" in await _attempt(bot, anna.id, "0001", "2468")


async def test_a_pin_with_letters_is_a_slip_not_a_guess(bot: BotWorld) -> None:
    await bot.patron_with_pin("0001", "2468")
    emu = bot.emulator
    anna = emu.add_user("Anna", language_code="en", started=True)
    await emu.wait_for_reply(anna.id, after=emu.send_command(anna.id, "link"))
    await emu.wait_for_reply(anna.id, after=emu.send_text(anna.id, "0001"))
    floor = emu.transcript(anna.id)[-1]
    typo = emu.send_text(anna.id, "24a8")
    answer = await emu.wait_for_reply(anna.id, after=floor)
    assert "A PIN is 4 to 8 digits. Please send it again" in answer.body
    assert typo.message_id not in [m.message_id for m in emu.transcript(anna.id)]
    # Still waiting for the PIN of the same card; the slip was not counted as a wrong PIN.
    emu.send_text(anna.id, "1357")
    answer = await emu.wait_for_reply(anna.id, after=answer)
    assert "You can try 4 more times" in answer.body
    assert "0001 is now linked" in await _attempt(bot, anna.id, "0001", "2468")


async def test_a_card_that_does_not_exist_is_a_wrong_card_or_pin(bot: BotWorld) -> None:
    emu = bot.emulator
    eve = emu.add_user("Eve", language_code="it", started=True)
    answer = await _attempt(bot, eve.id, "9999", "1234")
    # The same words as a wrong PIN: the chat does not tell which cards exist.
    assert "Il numero della tessera o il PIN non è corretto." in answer
    assert not (await identity.account(bot.world.library, eve.id)).linked


async def test_another_command_while_linking_stops_linking(bot: BotWorld) -> None:
    await bot.world.title_with_copies("Il barone rampante", ("B1", "BRU"))
    emu = bot.emulator
    luca = emu.add_user("Luca", language_code="en", started=True)
    await emu.wait_for_reply(luca.id, after=emu.send_command(luca.id, "link"))
    found = await emu.wait_for_reply(luca.id, after=emu.send_command(luca.id, "search", "barone"))
    assert "1 result for «barone»" in found.body  # the command did what it always does
    # What she types next is a search again, not a card number (nor, later, a PIN).
    again = await emu.wait_for_reply(luca.id, after=emu.send_text(luca.id, "rampante"))
    assert "1 result for «rampante»" in again.body
    # A button pressed while linking stops it too.
    menu = await emu.wait_for_reply(luca.id, after=emu.send_command(luca.id, "loans"))
    ask = await emu.wait_for_reply(luca.id, after=emu.send_command(luca.id, "link"))
    assert "card number" in ask.body
    emu.press_button(luca.id, luca.id, menu.message_id, data="search:help")
    prompt = await emu.wait_for_reply(luca.id, after=ask)
    assert "What are you looking for?" in prompt.body
    found = await emu.wait_for_reply(luca.id, after=emu.send_text(luca.id, "barone"))
    assert "1 result for «barone»" in found.body
    # /cancel still ends linking with its own answer.
    await emu.wait_for_reply(luca.id, after=emu.send_command(luca.id, "link"))
    stopped = await emu.wait_for_reply(luca.id, after=emu.send_command(luca.id, "cancel"))
    assert "stopped" in stopped.body


async def test_a_bogus_or_empty_link_code_changes_nothing(bot: BotWorld) -> None:
    emu = bot.emulator
    marta = emu.add_user("Marta", language_code="it", started=True)
    for payload in ("link-BOGUS12345", "link-", "link-" + "x" * 50):
        reply = await emu.wait_for_reply(
            marta.id, after=emu.send_command(marta.id, "start", payload)
        )
        assert "Questo codice di collegamento non è più valido" in reply.body
        assert any(button.get("callback_data") == "link:start" for button in reply.buttons)
    assert not (await identity.account(bot.world.library, marta.id)).linked


async def test_group_menus_and_the_administrators_menu(bot: BotWorld) -> None:
    emu = bot.emulator
    luca = emu.add_user("Luca", language_code="en")
    group = emu.add_group("Lettori", members={luca.id: "member"})
    english = emu.commands_for(group.id, luca.id, language_code="en")
    italian = emu.commands_for(group.id, luca.id, language_code="it")
    other = emu.commands_for(group.id, luca.id, language_code="de")
    assert [c["command"] for c in english] == [c["command"] for c in italian] == ["search"]
    assert english[0]["description"] == "Search the catalog"
    assert italian[0]["description"] == other[0]["description"] != "Search the catalog"
    # The administrator's private chat lists /admin once Telegram knows that chat.
    admin = emu.add_user("Direttrice", user_id=ADMIN_ID, language_code="en", started=True)
    i18n = bot.app.bot_data.i18n
    assert i18n is not None
    await register_commands(bot.app, i18n)
    mine = [c["command"] for c in emu.commands_for(admin.id, admin.id, language_code="en")]
    assert mine[-1] == "admin"
    assert "admin" not in [c["command"] for c in emu.commands_for(luca.id, luca.id)]


async def test_help_in_a_group_offers_search_only(bot: BotWorld) -> None:
    emu = bot.emulator
    luca = emu.add_user("Luca", language_code="en", started=True)
    group = emu.add_group("Lettori", members={luca.id: "member"})
    for command in ("help", "link"):
        reply = await emu.wait_for_reply(
            group.id, after=emu.send_command(luca.id, command, chat_id=group.id)
        )
        assert "/loans" not in reply.body
        assert [button.get("url") for button in reply.buttons] == [
            "https://t.me/bibliobot_sandbox_bot"
        ]
    # /start in a group: the group's way to search (free text in a group is not for the bot).
    reply = await emu.wait_for_reply(
        group.id, after=emu.send_command(luca.id, "start", chat_id=group.id)
    )
    assert reply.body == "Send /search followed by a title, an author or an ISBN."


async def test_an_unknown_command_or_a_sticker_still_gets_an_answer(bot: BotWorld) -> None:
    emu = bot.emulator
    marta = emu.add_user("Marta", language_code="it", started=True)
    reply = await emu.wait_for_reply(marta.id, after=emu.send_command(marta.id, "prestiti"))
    assert reply.body.startswith("Non conosco il comando /prestiti.")
    assert "/loans" in reply.body
    assert "link:start" in [button.get("callback_data") for button in reply.buttons]
    sticker = emu.send_sticker(marta.id, b"RIFF....WEBP", emoji="📚")
    reply = await emu.wait_for_reply(marta.id, after=sticker)
    assert "So leggere solo i messaggi di testo" in reply.body
    assert "search:help" in [button.get("callback_data") for button in reply.buttons]
    # In a group the bot does not answer what is not for it.
    group = emu.add_group("Lettori", members={marta.id: "member"})
    emu.send_command(marta.id, "prestiti", chat_id=group.id)
    emu.send_sticker(marta.id, b"RIFF....WEBP", emoji="📚", chat_id=group.id)
    asked = emu.send_command(marta.id, "search", chat_id=group.id)
    reply = await emu.wait_for_reply(group.id, after=asked)
    assert [m.body for m in emu.bot_messages(group.id)] == [reply.body]
    assert "/search" in reply.body


async def test_one_card_per_telegram_account(bot: BotWorld) -> None:
    await bot.patron_with_pin("0001", "2468")
    await bot.patron_with_pin("0002", "1357")
    emu = bot.emulator
    anna = emu.add_user("Anna", language_code="en", started=True)
    assert "0001 is now linked" in await _attempt(bot, anna.id, "0001", "2468")
    # She never chose a language: linking keeps the one she was reading, not the card's (it).
    again = await emu.wait_for_reply(anna.id, after=emu.send_command(anna.id, "link"))
    assert "This chat is already linked to a card: see /account." in again.body
    code, _ = await patrons.link_code(bot.world.library, card="0002", now=datetime.now(UTC))
    refused = await emu.wait_for_reply(
        anna.id, after=emu.send_command(anna.id, "start", f"link-{code}")
    )
    assert "This chat is already linked to a card: see /account." in refused.body
    account = await identity.account(bot.world.library, anna.id)
    assert account.patron is not None
    assert account.patron.card == "0001"
    # The code was not used up: card 0002's owner can still link with it.
    luca = emu.add_user("Luca", language_code="en", started=True)
    linked = await emu.wait_for_reply(
        luca.id, after=emu.send_command(luca.id, "start", f"link-{code}")
    )
    assert "0002 is now linked" in linked.body
    assert (await identity.account(bot.world.library, luca.id)).language == "en"


async def test_linking_left_waiting_says_it_stopped(bot: BotWorld) -> None:
    """After ten minutes without an answer the dialogue ends and says so: a PIN sent later is
    not taken in silence for a search. (The timeout is shortened here: PTB's job queue runs
    on the real clock.)"""
    [linking] = [
        handler
        for handler in bot.app.handlers[0]
        if isinstance(handler, ConversationHandler) and handler.name == LINKING
    ]
    linking._conversation_timeout = 0.5  # PTB has no public setter
    await bot.patron_with_pin("0001", "2468")
    emu = bot.emulator
    marta = emu.add_user("Marta", language_code="it", started=True)
    await emu.wait_for_reply(marta.id, after=emu.send_command(marta.id, "link"))
    asked = await emu.wait_for_reply(marta.id, after=emu.send_text(marta.id, "0001"))
    stopped = await emu.wait_for_reply(marta.id, after=asked)
    assert "Ho smesso di aspettare il numero della tessera e il PIN" in stopped.body
    assert [b.get("callback_data") for b in stopped.buttons] == ["link:start"]
    assert not (await identity.account(bot.world.library, marta.id)).linked


async def forget(bot: BotWorld, user_id: int) -> None:
    """/forget, and "Yes, delete"."""
    emu = bot.emulator
    question = await emu.wait_for_reply(user_id, after=emu.send_command(user_id, "forget"))
    emu.press_button(user_id, user_id, question.message_id, text="🗑")
    await emu.wait_for(
        lambda: emu.message(user_id, question.message_id).edit_count > 0 or None,
        what="the account forgotten",
    )


async def test_forget_does_not_reset_the_count_of_wrong_pins(
    bot: BotWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/forget deletes what the account left, not the count of its wrong PINs: otherwise
    four guesses, /forget, four more… would never lock. (Cards that do not exist: only the
    account's count grows, not a card's.)"""
    clock = Clock(datetime(2026, 3, 10, 9, 0, tzinfo=UTC))  # 10:00 in Rome
    monkeypatch.setattr(handler_context, "clock", clock)
    emu = bot.emulator
    eve = emu.add_user("Eve", language_code="en", started=True)
    for attempt in range(4):
        answer = await _attempt(bot, eve.id, f"999{attempt}", "1234")
        assert f"You can try {4 - attempt} more time" in answer
    await forget(bot, eve.id)
    assert (await identity.account(bot.world.library, eve.id)).language is None  # forgotten
    answer = await _attempt(bot, eve.id, "9994", "1234")
    assert "linking is paused for 15 minutes, until 10:15" in answer
    await forget(bot, eve.id)
    answer = await _attempt(bot, eve.id, "9995", "1234")  # the lock outlives /forget too
    assert "linking is paused for 15 minutes, until 10:15" in answer
    # It ends as any lock does; then she starts from five tries again.
    clock.advance(minutes=15)
    answer = await _attempt(bot, eve.id, "9996", "1234")
    assert "You can try 4 more times" in answer


async def test_nothing_with_her_id_is_kept_after_forget(bot: BotWorld) -> None:
    """What stays is a count under a hash of the account, not the account's id."""
    await bot.patron_with_pin("0001", "2468")
    emu = bot.emulator
    eve = emu.add_user("Eve", language_code="en", started=True)
    await _attempt(bot, eve.id, "0001", "1111")
    await forget(bot, eve.id)
    store = bot.world.store.reader
    users = await store.execute_fetchall(
        "SELECT count(*) FROM telegram_users WHERE telegram_user_id = ?", (eve.id,)
    )
    assert list(users) == [(0,)]
    kept = [tuple(row) for row in await store.execute_fetchall("SELECT * FROM pin_attempts")]
    assert len(kept) == 1
    assert str(eve.id) not in repr(kept)
    # /privacy says so.
    privacy = await emu.wait_for_reply(eve.id, after=emu.send_command(eve.id, "privacy"))
    assert "/forget does not delete this count" in privacy.body
    # A right PIN links, and the count is gone.
    assert "0001 is now linked" in await _attempt(bot, eve.id, "0001", "2468")
    assert list(await store.execute_fetchall("SELECT count(*) FROM pin_attempts")) == [(0,)]
