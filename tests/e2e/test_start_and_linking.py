"""Welcome, language and linking a card, through the real bot and the emulator."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.services import patrons
from tests.e2e.conftest import BotWorld


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
