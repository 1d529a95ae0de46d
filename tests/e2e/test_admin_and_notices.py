"""``/admin`` and the reminder timing through the real bot; a cycle's notice for a patron.

The administrator is the emulator user whose id the configuration lists
(``[telegram] admin_user_ids``); anybody else is refused and changes nothing.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.reminders import timing
from bot.reminders.cycles import run_cycle
from bot.reminders.dispatch_job import nudge
from bot.sandbox.view import ChatMessage
from bot.sandbox.world import User
from tests.e2e.conftest import ADMIN_ID, BotWorld
from tests.e2e.test_loans_and_account import answered, ask, lend, linked


async def press(bot: BotWorld, user: User, message: ChatMessage, label: str) -> ChatMessage:
    emu = bot.emulator
    floor = emu.transcript(user.id)[-1]
    query = emu.press_button(user.id, user.id, message.message_id, text=label)
    await answered(bot, query)
    return await emu.wait_for_reply(user.id, after=floor)


async def say(bot: BotWorld, user: User, text: str) -> ChatMessage:
    emu = bot.emulator
    return await emu.wait_for_reply(user.id, after=emu.send_text(user.id, text))


async def outbox_states(bot: BotWorld, settled: float = 5.0) -> list[str]:
    """The outbox rows' states once no row is being sent (the dispatcher marks a row sent
    right after Telegram's answer, which the emulator shows a moment earlier)."""
    deadline = asyncio.get_running_loop().time() + settled
    while True:
        rows = await bot.world.store.reader.execute_fetchall("SELECT state FROM outbox")
        states = [str(row[0]) for row in rows]
        if "sending" not in states or asyncio.get_running_loop().time() > deadline:
            return states
        await asyncio.sleep(0.05)


async def test_an_administrator_changes_the_reminder_offsets_and_the_next_cycle_follows(
    bot: BotWorld,
) -> None:
    admin = bot.emulator.add_user("Admin", user_id=ADMIN_ID, language_code="en", started=True)
    overview = await ask(bot, admin, "admin")
    assert "📊 Statistics" in overview.body
    assert "Regulation: cbnem" in overview.body
    assert "Fines: 0.10 € a day after 7 days of grace (rules C6, C7)" in overview.body
    assert "Due-date reminders, days before the due date: 3,0 (default)" in overview.body
    listing = await press(bot, admin, overview, "⏰ Change the reminder timing")
    assert "Which one do you want to change?" in listing.body
    prompt = await press(bot, admin, listing, "Due-date reminders, days before the due date")
    assert "Now: 3,0" in prompt.body
    wrong = await say(bot, admin, "40")
    assert "That value was not saved: Days before the due date go from 0 to 30." in wrong.body
    assert (await timing.load_for(bot.world.library)).due_offsets_days == (3, 0)
    saved = await say(bot, admin, "5, 1")
    assert "✅ Saved. It takes effect at the next cycle." in saved.body
    assert "Due-date reminders, days before the due date: 5,1" in saved.body
    assert (await timing.load_for(bot.world.library)).due_offsets_days == (5, 1)

    # A quiet-hours value that would silence a cycle's hour is refused, with the reason.
    listing = await press(bot, admin, saved, "⏰ Change something else")
    await press(bot, admin, listing, "Quiet hours (nothing is sent)")
    refused = await say(bot, admin, "08:00-10:00")
    assert "inside the quiet hours (08:00-10:00)" in refused.body
    cancelled = await ask(bot, admin, "cancel")
    assert "nothing changed" in cancelled.body

    # The next cycle uses the new offsets: a loan due in 5 days is reminded today.
    patron = await linked(bot, "0001")
    loan_id = await lend(bot, "0001", "Five days to go", "F1", days=25)
    rows = await bot.world.store.reader.execute_fetchall(
        "SELECT due_on FROM loans WHERE id = ?", (loan_id,)
    )
    due = datetime.fromisoformat(str(next(iter(rows))[0])).date()
    zone = bot.world.library.zone
    at = datetime.combine(due - timedelta(days=5), datetime.min.time(), tzinfo=zone).replace(hour=9)
    report = await run_cycle(bot.world.library, "reminders", at=at.astimezone(UTC))
    assert [(n.card, n.kind) for n in report.notices] == [("0001", "due_reminder")]
    rows = await bot.world.store.reader.execute_fetchall(
        "SELECT patron_id, kind, state, payload FROM outbox"
    )
    (row,) = list(rows)
    assert row[1:3] == ("due_reminder", "pending")
    assert "Five days to go" in str(row[3])
    assert patron.id != ADMIN_ID


async def test_anybody_else_is_refused(bot: BotWorld) -> None:
    intruder = bot.emulator.add_user("Mallory", language_code="en", started=True)
    reply = await ask(bot, intruder, "admin")
    assert reply.body == "This command is for the library's administrators."
    assert reply.buttons == []
    assert (await timing.load_for(bot.world.library)).overridden == frozenset()


async def test_a_forged_button_or_a_group_chat_changes_nothing(bot: BotWorld) -> None:
    """admin_user_ids is checked on every press and every message, and only in a private
    chat."""
    emu = bot.emulator
    intruder = emu.add_user("Mallory", language_code="en", started=True)
    refusal = await ask(bot, intruder, "admin")
    for data in ("adm:rem", "adm:set:quiet_hours"):
        query = emu.press_button(
            intruder.id, intruder.id, refusal.message_id, data=data, forge=True
        )
        answer = await answered(bot, query)
        assert answer.get("text") == "This command is for the library's administrators."
    await say(bot, intruder, "off")  # not taken as a value: she is in no dialogue
    assert (await timing.load_for(bot.world.library)).overridden == frozenset()
    admin = emu.add_user("Admin", user_id=ADMIN_ID, language_code="en", started=True)
    group = emu.add_group("Book club", members={admin.id: "member"})
    sent = emu.send_command(admin.id, "admin", chat_id=group.id)
    reply = await emu.wait_for_reply(group.id, after=sent)
    assert reply.body == "This command is for the library's administrators."
    assert reply.buttons == []


async def test_a_cycle_digest_reaches_the_patron_and_its_renew_button_works(
    bot: BotWorld,
) -> None:
    """Decided by the cycle, sent by the running bot's dispatcher, acted on by the patron."""
    anna = await linked(bot, "0002")
    first = await lend(bot, "0002", "Lettera a una professoressa", "L1", days=27)
    await lend(bot, "0002", "Il giorno della civetta", "L2", days=27)
    library = bot.world.library
    now = datetime.now(UTC)
    rows = await bot.world.store.reader.execute_fetchall(
        "SELECT due_on FROM loans WHERE id = ?", (first,)
    )
    due = datetime.fromisoformat(str(next(iter(rows))[0])).date()
    days_left = (due - now.astimezone(library.zone).date()).days
    # Remind exactly today, whatever the real time (no quiet hours in this test).
    await timing.change_for(
        library,
        {"due_offsets": str(days_left), "quiet_hours": "off"},
        now=now,
        by="test",
    )
    report = await run_cycle(library, "reminders", at=now)
    assert [(n.card, len(n.items)) for n in report.notices] == [("0002", 2)]
    nudge(bot.app)
    (digest,) = await bot.emulator.wait_for_bot_messages(anna.id, 1, within=10)
    assert "Lettera a una professoressa" in digest.body
    assert "Il giorno della civetta" in digest.body  # one message for both loans
    callbacks = [button["callback_data"] for button in digest.buttons]
    assert f"renew:{first}" in callbacks
    assert "renew:all" in callbacks
    assert await outbox_states(bot) == ["sent"]
    # The button is the /loans screen's: the renewal is decided and answered there.
    reply = await press(bot, anna, digest, "🔄 Renew Lettera a una professo")
    assert "Lettera a una professoressa" in reply.body
