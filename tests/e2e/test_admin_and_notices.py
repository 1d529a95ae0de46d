"""``/admin`` and the reminder timing through the real bot; a cycle's notice for a patron.

The administrator is the emulator user whose id the configuration lists
(``[telegram] admin_user_ids``); anybody else is refused and changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.reminders import timing
from bot.reminders.cycles import run_cycle
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
