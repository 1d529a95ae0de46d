"""When something fails, the patron is told in her language and the update id is logged."""

from __future__ import annotations

import logging

import pytest

from tests.e2e.conftest import BotWorld


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
    assert "went wrong" in reply.body
    assert "Traceback" not in reply.body
    assert any(
        record.message.startswith("update ") and record.message.endswith(" failed")
        for record in caplog.records
    )
