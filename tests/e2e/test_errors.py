"""When something fails, the patron is told in her language and the update id is logged."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

import pytest

from bot.i18n import something_went_wrong, translator
from bot.services import identity
from tests.e2e.conftest import BotWorld

FAILED = re.compile(r"^update (\d+) failed$")


def failed_updates(caplog: pytest.LogCaptureFixture) -> list[int]:
    return [
        int(found.group(1))
        for record in caplog.records
        if record.name == "bibliobot" and (found := FAILED.match(record.getMessage()))
    ]


async def test_a_failure_is_a_kind_message_and_a_log_line(
    bot: BotWorld, caplog: pytest.LogCaptureFixture
) -> None:
    emu = bot.emulator
    anna = emu.add_user("Anna", language_code="en")
    library = bot.app.bot_data.library
    assert library is not None
    await library.store.close()  # the store goes away under the running bot
    with caplog.at_level(logging.ERROR, logger="bibliobot"):
        reply = await emu.wait_for_reply(anna.id, after=emu.send_command(anna.id, "help"))
    assert reply.body == something_went_wrong(translator("en"))
    assert "Traceback" not in reply.body
    assert len(failed_updates(caplog)) == 1


async def test_the_failure_is_told_in_the_language_she_chose(
    bot: BotWorld, caplog: pytest.LogCaptureFixture
) -> None:
    """Her Telegram speaks Italian, she chose English in the bot: the store is fine, the
    Bot API refuses the answer once, and the apology comes in English."""
    emu = bot.emulator
    marta = emu.add_user("Marta", language_code="it", started=True)
    await identity.choose_language(
        bot.world.library, telegram_user_id=marta.id, language="en", now=datetime.now(UTC)
    )
    emu.inject_fault("bad_request", method="sendMessage", chat_id=marta.id, description="boom")
    with caplog.at_level(logging.ERROR, logger="bibliobot"):
        reply = await emu.wait_for_reply(marta.id, after=emu.send_command(marta.id, "help"))
        first = failed_updates(caplog)
        # A second failure is logged with its own update id.
        emu.inject_fault("bad_request", method="sendMessage", chat_id=marta.id, description="boom")
        again = await emu.wait_for_reply(marta.id, after=emu.send_command(marta.id, "privacy"))
    assert reply.body == again.body == something_went_wrong(translator("en"))
    ids = failed_updates(caplog)
    assert len(first) == 1
    assert len(ids) == 2
    assert ids[1] > ids[0]


async def test_the_apology_offers_the_menu_in_her_language(
    bot: BotWorld, caplog: pytest.LogCaptureFixture
) -> None:
    """Not a dead end: the menu comes with the apology, as after any other answer (linked
    or not), in the language she chose."""
    emu = bot.emulator
    marta = emu.add_user("Marta", language_code="en", started=True)
    await identity.choose_language(
        bot.world.library, telegram_user_id=marta.id, language="it", now=datetime.now(UTC)
    )
    emu.inject_fault("bad_request", method="sendMessage", chat_id=marta.id, description="boom")
    with caplog.at_level(logging.ERROR, logger="bibliobot"):
        reply = await emu.wait_for_reply(marta.id, after=emu.send_command(marta.id, "privacy"))
    assert reply.body == something_went_wrong(translator("it"))
    assert [b.get("callback_data") for b in reply.buttons] == ["search:help", "link:start"]
    assert "🪪 Collega la mia tessera" in [b.get("text") for b in reply.buttons]
    # Linked, she gets the linked menu.
    await bot.patron_with_pin("0001", "2468")
    await identity.link_with_pin(
        bot.world.library,
        telegram_user_id=marta.id,
        chat_id=marta.id,
        card="0001",
        pin="2468",
        now=datetime.now(UTC),
    )
    emu.inject_fault("bad_request", method="sendMessage", chat_id=marta.id, description="boom")
    with caplog.at_level(logging.ERROR, logger="bibliobot"):
        again = await emu.wait_for_reply(marta.id, after=emu.send_command(marta.id, "privacy"))
    assert again.body == something_went_wrong(translator("it"))
    assert "loans:list" in [b.get("callback_data") for b in again.buttons]


async def test_with_the_store_gone_the_apology_still_offers_a_way_on(
    bot: BotWorld, caplog: pytest.LogCaptureFixture
) -> None:
    emu = bot.emulator
    anna = emu.add_user("Anna", language_code="en")
    library = bot.app.bot_data.library
    assert library is not None
    await library.store.close()
    with caplog.at_level(logging.ERROR, logger="bibliobot"):
        reply = await emu.wait_for_reply(anna.id, after=emu.send_command(anna.id, "loans"))
    assert reply.body == something_went_wrong(translator("en"))
    assert "search:help" in [b.get("callback_data") for b in reply.buttons]


async def test_in_a_group_the_apology_has_no_personal_buttons(
    bot: BotWorld, caplog: pytest.LogCaptureFixture
) -> None:
    emu = bot.emulator
    anna = emu.add_user("Anna", language_code="en", started=True)
    group = emu.add_group("Lettori", members={anna.id: "member"})
    emu.inject_fault("bad_request", method="sendMessage", chat_id=group.id, description="boom")
    with caplog.at_level(logging.ERROR, logger="bibliobot"):
        sent = emu.send_command(anna.id, "search", "rosa", chat_id=group.id)
        reply = await emu.wait_for_reply(group.id, after=sent)
    assert reply.body == something_went_wrong(translator("en"))
    assert reply.buttons == []
