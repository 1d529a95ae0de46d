"""Loans, renewals, the account, privacy and forgetting, through the real bot and the emulator.

The bot acts at the real current time, so loans are lent with a back-dated ``now`` (CBNEM: 30
days for a book, C5 renewals from 3 days before the due date to the 6th day late). Lent 31 days
ago a book was due about a day ago (later if a closed day moved it): renewable on any date of
the year. Lent today it is too early to renew; lent 40 days ago it is overdue and too late.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.circulation import load_policy
from bot.handlers.loan_render import MESSAGE_LIMIT, renew_all_text, utf16_len
from bot.i18n import translator
from bot.sandbox.view import ChatMessage
from bot.sandbox.world import User
from bot.services import holds, identity, loans, patrons
from bot.services.errors import Refusal
from bot.services.loans import LoanReceipt, RenewalOutcome
from bot.services.patrons import PatronSummary
from db import circulation as repo
from tests.e2e.conftest import BotWorld

PIN = "2468"


def days_ago(days: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


async def linked(bot: BotWorld, card: str, *, language: str = "en", name: str = "Anna") -> User:
    """A patron whose Telegram account is linked to ``card``, speaking ``language``."""
    await bot.patron_with_pin(card, PIN)
    user = bot.emulator.add_user(name, language_code=language, started=True)
    now = datetime.now(UTC)
    library = bot.world.library
    await identity.link_with_pin(
        library, telegram_user_id=user.id, chat_id=user.id, card=card, pin=PIN, now=now
    )
    await identity.choose_language(library, telegram_user_id=user.id, language=language, now=now)
    return user


async def lend(bot: BotWorld, card: str, title: str, barcode: str, *, days: int) -> int:
    """A copy of a new title, lent to ``card`` ``days`` ago; returns the loan id."""
    await bot.world.title_with_copies(title, (barcode, "BRU"))
    receipt = await loans.checkout(
        bot.world.library, card=card, barcode=barcode, now=days_ago(days)
    )
    return receipt.loan_id


async def loan_row(bot: BotWorld, loan_id: int) -> tuple[str, int, str | None]:
    """A loan's due date, renewals and return time, straight from the store."""
    rows = await bot.world.store.reader.execute_fetchall(
        "SELECT due_on, renewals, returned_at FROM loans WHERE id = ?", (loan_id,)
    )
    due_on, renewals, returned = next(iter(rows))
    return str(due_on), int(renewals), returned


async def due_of(bot: BotWorld, card: str, barcode: str) -> date:
    summary = await patrons.summary(bot.world.library, card=card, now=datetime.now(UTC))
    return next(loan.due_on for loan in summary.loans if loan.barcode == barcode)


async def ask(bot: BotWorld, user: User, command: str) -> ChatMessage:
    emu = bot.emulator
    return await emu.wait_for_reply(user.id, after=emu.send_command(user.id, command))


async def press(bot: BotWorld, user: User, message: ChatMessage, label: str) -> ChatMessage:
    """Press the button labelled ``label`` and return the bot's next new message."""
    emu = bot.emulator
    floor = emu.transcript(user.id)[-1]
    query = emu.press_button(user.id, user.id, message.message_id, text=label)
    await answered(bot, query)
    return await emu.wait_for_reply(user.id, after=floor)


async def answered(bot: BotWorld, query: str) -> dict[str, Any]:
    """The callback query's answer. (``wait_for_callback_answer`` waits for a truthy answer,
    and an answer without text is recorded as ``{}``.)"""
    emu = bot.emulator

    def ready() -> list[dict[str, Any]] | None:
        answer = emu.callback_answer(query)
        return [answer] if answer is not None else None

    found = await emu.wait_for(ready, what=f"answerCallbackQuery for {query}")
    return found[0]


async def edited(bot: BotWorld, user: User, message: ChatMessage, expected: str) -> ChatMessage:
    """The message once an edit has put ``expected`` in it."""
    emu = bot.emulator

    def ready() -> ChatMessage | None:
        now = emu.message(user.id, message.message_id)
        return now if expected in now.body else None

    return await emu.wait_for(ready, what=f"message {message.message_id} to say {expected!r}")


# -- /loans ---------------------------------------------------------------------------------


async def test_loans_are_listed_nearest_due_first_with_overdue_marked(bot: BotWorld) -> None:
    anna = await linked(bot, "0001")
    await lend(bot, "0001", "Alpha far away", "A1", days=0)
    await lend(bot, "0001", "Beta overdue", "B1", days=40)
    await lend(bot, "0001", "Gamma due soon", "C1", days=29)
    reply = await ask(bot, anna, "loans")
    body = reply.body
    assert "You have 3 loans." in body
    assert body.index("Beta overdue") < body.index("Gamma due soon") < body.index("Alpha far away")
    assert re.search(r"⚠️ overdue by \d+ days", body)
    assert "⚠️ 1 of them is overdue." in body
    en = translator("en")
    assert f"Due: {en.format_date(await due_of(bot, '0001', 'A1'))}" in body
    assert "Renewals used: 0 of 2" in body
    labels = [button["text"] for button in reply.buttons]
    assert any("Beta overdue" in label for label in labels)
    assert "🔄 Renew all" in labels


async def test_not_linked_loans_explain_how_to_link(bot: BotWorld) -> None:
    emu = bot.emulator
    luca = emu.add_user("Luca", language_code="en", started=True)
    reply = await ask(bot, luca, "loans")
    assert "link your library card" in reply.body
    assert any(button["callback_data"] == "link:start" for button in reply.buttons)


async def test_no_loans_says_so_and_offers_search(bot: BotWorld) -> None:
    anna = await linked(bot, "0001")
    reply = await ask(bot, anna, "loans")
    assert "You have no loans right now" in reply.body
    assert any(button["callback_data"] == "search:help" for button in reply.buttons)


async def test_renewal_answers_with_a_receipt_kept_in_the_store(bot: BotWorld) -> None:
    anna = await linked(bot, "0001")
    loan_id = await lend(bot, "0001", "Il nome della rosa", "R1", days=31)
    before = await due_of(bot, "0001", "R1")
    listing = await ask(bot, anna, "loans")
    receipt = await press(bot, anna, listing, "Il nome della rosa")
    after = await due_of(bot, "0001", "R1")
    assert after > before
    assert "✅ Renewed: Il nome della rosa" in receipt.body
    assert f"New due date: {translator('en').format_date(after)}" in receipt.body
    assert "this confirmation is what counts" in receipt.body
    rows = await bot.world.store.reader.execute_fetchall(
        "SELECT receipt, channel FROM renewals WHERE loan_id = ?", (loan_id,)
    )
    [(reference, channel)] = list(rows)
    assert channel == "telegram"
    assert f"Reference: {reference}" in receipt.body
    assert "loans:list" in [button["callback_data"] for button in receipt.buttons]  # a way on
    # The list it was pressed on shows the loan as it is now.
    await edited(bot, anna, listing, "Renewals used: 1 of 2")


async def test_renewal_too_early_says_from_when(bot: BotWorld) -> None:
    anna = await linked(bot, "0001")
    loan_id = await lend(bot, "0001", "Too soon", "E1", days=0)
    stored = await loan_row(bot, loan_id)
    listing = await ask(bot, anna, "loans")
    answer = await press(bot, anna, listing, "Too soon")
    opens = await due_of(bot, "0001", "E1") - timedelta(days=3)
    assert "❌ Not renewed: Too soon" in answer.body
    assert "too early to renew" in answer.body
    assert translator("en").format_date(opens, "full") in answer.body
    assert await loan_row(bot, loan_id) == stored


async def test_renewal_refused_at_the_limit(bot: BotWorld) -> None:
    anna = await linked(bot, "0001")
    loan_id = await lend(bot, "0001", "Twice renewed", "T1", days=31)
    async with bot.world.store.transaction() as conn:
        await conn.execute("UPDATE loans SET renewals = 2 WHERE id = ?", (loan_id,))
    stored = await loan_row(bot, loan_id)
    listing = await ask(bot, anna, "loans")
    assert "Renewals used: 2 of 2" in listing.body
    answer = await press(bot, anna, listing, "Twice renewed")
    assert "You have already renewed this loan 2 times, the most allowed." in answer.body
    assert await loan_row(bot, loan_id) == stored


async def test_renewal_refused_when_another_patron_holds_the_title(bot: BotWorld) -> None:
    anna = await linked(bot, "0001")
    await bot.patron_with_pin("0002", PIN)
    record = await bot.world.title_with_copies("Wanted", ("W1", "BRU"))
    loan = await loans.checkout(bot.world.library, card="0001", barcode="W1", now=days_ago(31))
    await holds.place_hold(
        bot.world.library, card="0002", record_id=record, pickup="BRU", now=datetime.now(UTC)
    )
    stored = await loan_row(bot, loan.loan_id)
    listing = await ask(bot, anna, "loans")
    answer = await press(bot, anna, listing, "Wanted")
    assert "Another reader has reserved this title" in answer.body
    assert await loan_row(bot, loan.loan_id) == stored


async def test_renew_all_reports_every_outcome_in_one_message(bot: BotWorld) -> None:
    anna = await linked(bot, "0001")
    ok = await lend(bot, "0001", "Renewable", "M1", days=31)
    await lend(bot, "0001", "Early", "M2", days=0)
    await lend(bot, "0001", "Late", "M3", days=40)
    listing = await ask(bot, anna, "loans")
    report = await press(bot, anna, listing, "Renew all")
    body = report.body
    assert "Renew all: 1 loan renewed, 2 not renewed." in body
    assert "Renewable · New due date:" in body
    assert "Early · First day to renew:" in body
    assert "Late · Last day to renew was:" in body
    assert "too early to renew" in body
    assert "too late to renew" in body
    _, renewals, _ = await loan_row(bot, ok)
    assert renewals == 1
    assert len(bot.emulator.bot_messages(anna.id)) == 2  # the list (edited) and the report


# -- security -------------------------------------------------------------------------------


async def test_a_forged_renew_for_another_patrons_loan_changes_nothing(bot: BotWorld) -> None:
    emu = bot.emulator
    eve = await linked(bot, "0001", name="Eve")
    await lend(bot, "0001", "Eve's book", "F1", days=31)
    await bot.patron_with_pin("0002", PIN)
    victim = await lend(bot, "0002", "Someone else's book", "F2", days=31)
    stored = await loan_row(bot, victim)
    listing = await ask(bot, eve, "loans")
    query = emu.press_button(
        eve.id, eve.id, listing.message_id, data=f"renew:{victim}:0", forge=True
    )
    answer = await emu.wait_for_callback_answer(query)
    assert "not on your card" in answer.get("text", "")
    assert await loan_row(bot, victim) == stored
    rows = await bot.world.store.reader.execute_fetchall("SELECT COUNT(*) FROM renewals")
    assert next(iter(rows))[0] == 0
    assert "Someone else's book" not in emu.message(eve.id, listing.message_id).body


async def test_an_old_renew_button_answers_with_the_current_state(bot: BotWorld) -> None:
    emu = bot.emulator
    anna = await linked(bot, "0001")
    await lend(bot, "0001", "Brought back", "G1", days=31)
    listing = await ask(bot, anna, "loans")
    await loans.checkin(bot.world.library, barcode="G1", now=datetime.now(UTC))
    query = emu.press_button(anna.id, anna.id, listing.message_id, text="Brought back")
    answer = await emu.wait_for_callback_answer(query)
    assert "not on your card any more" in answer.get("text", "")
    await edited(bot, anna, listing, "You have no loans right now")


async def test_personal_data_stays_out_of_groups(bot: BotWorld) -> None:
    emu = bot.emulator
    anna = await linked(bot, "0001")
    await lend(bot, "0001", "Private reading", "H1", days=3)
    group = emu.add_group("Book club", members={anna.id: "member"})
    commands = ("loans", "account", "forget", "privacy", "holds", "help", "link")
    for command in (*commands, "appointment", "librarian"):
        sent = emu.send_command(anna.id, command, chat_id=group.id)
        reply = await emu.wait_for_reply(group.id, after=sent)
        urls = [reply.body, *(str(button.get("url")) for button in reply.buttons)]
        assert any("https://t.me/bibliobot_sandbox_bot" in url for url in urls), command
        assert "Private reading" not in reply.body
        assert "0001" not in reply.body
        assert not [b for b in reply.buttons if "callback_data" in b], command
    assert (await identity.account(bot.world.library, anna.id)).linked


# -- /account -------------------------------------------------------------------------------


async def test_account_shows_a_fine_with_its_rule_and_the_suspension(bot: BotWorld) -> None:
    anna = await linked(bot, "0001")
    await lend(bot, "0001", "Returned late", "K1", days=45)
    await lend(bot, "0001", "Still out", "K2", days=42)
    checked_in = await loans.checkin(bot.world.library, barcode="K1", now=datetime.now(UTC))
    assert checked_in.fine_cents > 0
    summary = await patrons.summary(bot.world.library, card="0001", now=datetime.now(UTC))
    en = translator("en")
    reply = await ask(bot, anna, "account")
    body = reply.body
    assert "Card: 0001" in body
    assert "Home library: Brugherio" in body
    assert "Status: ⛔ suspended" in body
    owed = en.format_money(summary.fines_owed_cents)
    assert f"Fines to pay: {owed} (late returns, rule C7)" in body
    assert f"You have {owed} to pay for late returns" in body  # why suspended (C8)
    assert "Rule C8: until the late items are returned and what is owed is paid." in body
    accruing = en.format_money(summary.fines_accruing_cents)
    assert f"Building up on late loans: {accruing} (rule C7" in body
    assert "Language: English" in body
    assert "Overdue notices and notices that a hold is ready are always sent." in body


async def test_account_in_good_standing(bot: BotWorld) -> None:
    anna = await linked(bot, "0001")
    reply = await ask(bot, anna, "account")
    assert "Status: ✅ in good standing" in reply.body
    assert "Fines to pay: none" in reply.body


async def test_due_date_reminders_toggle(bot: BotWorld) -> None:
    emu = bot.emulator
    anna = await linked(bot, "0001")
    screen = await ask(bot, anna, "account")
    assert "Due-date reminders: on" in screen.body
    query = emu.press_button(anna.id, anna.id, screen.message_id, text="Turn off")
    assert "off" in (await emu.wait_for_callback_answer(query)).get("text", "")
    screen = await edited(bot, anna, screen, "Due-date reminders: off")
    assert not (await identity.account(bot.world.library, anna.id)).due_reminders
    emu.press_button(anna.id, anna.id, screen.message_id, text="Turn on")
    await edited(bot, anna, screen, "Due-date reminders: on")
    assert (await identity.account(bot.world.library, anna.id)).due_reminders


async def test_the_account_offers_the_languages(bot: BotWorld) -> None:
    anna = await linked(bot, "0001")
    screen = await ask(bot, anna, "account")
    choose = await press(bot, anna, screen, "Change language")
    assert "Choose your language:" in choose.body
    assert [button["callback_data"] for button in choose.buttons] == ["lang:it", "lang:en"]


async def test_unlink_asks_to_confirm(bot: BotWorld) -> None:
    emu = bot.emulator
    anna = await linked(bot, "0001")
    screen = await ask(bot, anna, "account")
    emu.press_button(anna.id, anna.id, screen.message_id, text="Unlink my card")
    screen = await edited(bot, anna, screen, "Unlink card 0001")
    emu.press_button(anna.id, anna.id, screen.message_id, text="No, keep it")
    screen = await edited(bot, anna, screen, "Card: 0001")
    assert (await identity.account(bot.world.library, anna.id)).linked
    emu.press_button(anna.id, anna.id, screen.message_id, text="Unlink my card")
    screen = await edited(bot, anna, screen, "Unlink card 0001")
    emu.press_button(anna.id, anna.id, screen.message_id, text="Yes, unlink")
    await edited(bot, anna, screen, "no longer linked")
    assert not (await identity.account(bot.world.library, anna.id)).linked
    # The same confirmation pressed again answers with the state now.
    query = emu.press_button(anna.id, anna.id, screen.message_id, data="acc:unlinkok", forge=True)
    answer = await emu.wait_for_callback_answer(query)
    assert "not linked" in answer.get("text", "")


# -- /privacy and /forget -------------------------------------------------------------------


async def test_privacy_says_what_is_kept_and_how_to_delete_it(bot: BotWorld) -> None:
    emu = bot.emulator
    anna = await linked(bot, "0001")
    reply = await ask(bot, anna, "privacy")
    assert "Telegram user id and chat id" in reply.body
    assert "circulation records" in reply.body
    assert "/forget" in reply.body
    assert "linked to card 0001" in reply.body
    luca = emu.add_user("Luca", language_code="en", started=True)
    reply = await ask(bot, luca, "privacy")
    assert "not linked to a library card" in reply.body


async def test_forget_deletes_the_link_and_the_next_start_asks_the_language(
    bot: BotWorld,
) -> None:
    emu = bot.emulator
    anna = await linked(bot, "0001")
    await lend(bot, "0001", "Kept by the library", "L1", days=3)
    question = await ask(bot, anna, "forget")
    assert "The library keeps only what it must" in question.body
    emu.press_button(anna.id, anna.id, question.message_id, text="Yes, delete")
    await edited(bot, anna, question, "I no longer know you")
    account = await identity.account(bot.world.library, anna.id)
    assert not account.linked
    assert account.language is None
    summary = await patrons.summary(bot.world.library, card="0001", now=datetime.now(UTC))
    assert [loan.barcode for loan in summary.loans] == ["L1"]  # circulation records stay
    again = await ask(bot, anna, "start")
    assert "Which language do you prefer?" in again.body


async def test_forget_can_be_declined(bot: BotWorld) -> None:
    emu = bot.emulator
    anna = await linked(bot, "0001")
    question = await ask(bot, anna, "forget")
    emu.press_button(anna.id, anna.id, question.message_id, text="No, keep it")
    await edited(bot, anna, question, "nothing deleted")
    assert (await identity.account(bot.world.library, anna.id)).linked


# -- language -------------------------------------------------------------------------------


async def test_switching_language_changes_the_following_messages(bot: BotWorld) -> None:
    emu = bot.emulator
    marta = await linked(bot, "0001", language="it", name="Marta")
    await lend(bot, "0001", "Presto", "P1", days=0)
    due = await due_of(bot, "0001", "P1")
    it, en = translator("it"), translator("en")
    listing = await ask(bot, marta, "loans")
    assert it.format_date(due) in listing.body
    refusal = await press(bot, marta, listing, "Presto")
    assert "È ancora presto per rinnovare" in refusal.body
    assert it.format_date(due - timedelta(days=3), "full") in refusal.body

    choose = await ask(bot, marta, "language")
    welcome = await press(bot, marta, choose, "English")
    assert "Welcome back" in welcome.body
    listing = await ask(bot, marta, "loans")
    assert en.format_date(due) in listing.body
    refusal = await press(bot, marta, listing, "Presto")
    assert "It is too early to renew" in refusal.body
    assert en.format_date(due - timedelta(days=3), "full") in refusal.body
    account = await ask(bot, marta, "account")
    assert "Language: English" in account.body
    assert emu.bot_messages(marta.id)[-1].body == account.body
    # Her phone speaks Italian; the command menu of her chat follows her choice.
    menu = {c["command"]: c["description"] for c in emu.commands_for(marta.id)}
    assert menu["loans"] == "My loans and renewals"
    # /forget takes the choice away, and the menu goes back to her phone's language.
    question = await ask(bot, marta, "forget")
    emu.press_button(marta.id, marta.id, question.message_id, text="Yes, delete")
    await edited(bot, marta, question, "I no longer know you")
    menu = {c["command"]: c["description"] for c in emu.commands_for(marta.id)}
    assert menu["loans"] == it.gettext("My loans and renewals") != "My loans and renewals"


# -- the worst case -------------------------------------------------------------------------


async def test_forty_loans_fit_every_message(bot: BotWorld) -> None:
    emu = bot.emulator
    anna = await linked(bot, "0001")
    long_title = "Storia della letteratura italiana dalle origini al Novecento " * 6
    await _forty_loans(bot, "0001", long_title)
    listing = await ask(bot, anna, "loans")
    assert "You have 40 loans." in listing.body
    assert "Page 1 of 5." in listing.body
    for page in range(2, 6):
        emu.press_button(anna.id, anna.id, listing.message_id, text="Next ›")
        listing = await edited(bot, anna, listing, f"Page {page} of 5.")
    assert "40. " in listing.body
    report = await press(bot, anna, listing, "Renew all")
    assert "Renew all: 0 loans renewed, 40 not renewed." in report.body
    assert "Rule C8:" in report.body  # why the card is suspended, and until when
    account = await ask(bot, anna, "account")
    assert "Status: ⛔ suspended" in account.body  # loans more than 30 days late (C8)
    for call in emu.calls_to("sendMessage") + emu.calls_to("editMessageText"):
        assert call.status == 200, call
        assert utf16_len(str(call.params["text"])) <= MESSAGE_LIMIT
        assert _button_count(call.params.get("reply_markup")) <= 100
    for message in emu.bot_messages(anna.id):
        assert utf16_len(message.body) <= MESSAGE_LIMIT
        assert len(message.buttons) <= 100


async def _forty_loans(bot: BotWorld, card: str, title: str) -> None:
    """40 loans (past C2's limit of 20, as a desk override would leave them), due from 40
    days ago to 40 days ahead: overdue, renewable and too early ones."""
    library = bot.world.library
    for number in range(40):
        barcode = f"X{number:03d}"
        await bot.world.title_with_copies(f"{title} vol. {number + 1}", (barcode, "BRU"))
    async with library.store.transaction() as conn:
        patron = await repo.patron_by_card(conn, card)
        assert patron is not None
        branch = bot.world.branches["BRU"]
        today = datetime.now(UTC).date()
        for number in range(40):
            copy = await repo.copy_by_barcode(conn, f"X{number:03d}")
            assert copy is not None
            await repo.add_loan(
                conn,
                item_id=copy.item_id,
                patron_id=patron.patron_id,
                branch_id=branch,
                now=days_ago(70),
                due_on=today + timedelta(days=2 * number - 40),
                due_at=None,
                short_loan=False,
            )
            await repo.move_copy(
                conn,
                copy.item_id,
                status=copy.status.ON_LOAN,
                location_id=branch,
                arrives_on=None,
                now=days_ago(70),
            )


def _button_count(markup: Any) -> int:
    if markup is None:
        return 0
    if isinstance(markup, str):
        markup = json.loads(markup)
    return sum(len(row) for row in markup.get("inline_keyboard", []))


def test_renew_all_report_of_forty_long_titles_fits_one_message() -> None:
    """The report's own worst case, without the bot: 40 renewals (the longest lines, with a
    date and a reference each) and 40 refusals each with its own date."""
    en = translator("en")
    title = "Storia della letteratura italiana dalle origini al Novecento " * 6
    renewed = [
        RenewalOutcome(
            f"X{n}",
            f"{title} {n}",
            LoanReceipt(n, f"X{n}", title, date(2026, 12, 12), 1, f"R-2026-{n:06d}", "C5"),
            None,
        )
        for n in range(40)
    ]
    refused = [
        RenewalOutcome(
            f"Y{n}",
            f"{title} {n}",
            None,
            Refusal("too_early", "renewal refused", detail=f"2027-01-{n % 28 + 1:02d}"),
        )
        for n in range(40)
    ]
    summary = PatronSummary(
        card="0001",
        name="Anna",
        category="adult",
        home_branch="BRU",
        home_branch_name="Brugherio",
        language="en",
        status="ok",
        restrictions=(),
        loans=(),
        holds=(),
        fines_owed_cents=0,
        fines_accruing_cents=0,
        telegram_linked=True,
    )
    policy = load_policy("cbnem")
    for outcomes in (renewed, refused, renewed[:20] + refused[:20]):
        text = renew_all_text(en, outcomes, summary, policy)
        assert utf16_len(text) <= MESSAGE_LIMIT
        assert text.count("\n• ") == len(outcomes)
    assert "R-2026-000039" in renew_all_text(en, renewed, summary, policy)


async def test_an_old_unlink_confirmation_never_unlinks_a_card_linked_since(
    bot: BotWorld,
) -> None:
    emu = bot.emulator
    anna = await linked(bot, "0001")
    screen = await ask(bot, anna, "account")
    emu.press_button(anna.id, anna.id, screen.message_id, text="Unlink my card")
    question = await edited(bot, anna, screen, "Unlink card 0001")
    # Meanwhile she unlinks 0001 elsewhere and links her other card.
    library = bot.world.library
    await identity.unlink(library, telegram_user_id=anna.id)
    await bot.patron_with_pin("0002", PIN)
    await identity.link_with_pin(
        library,
        telegram_user_id=anna.id,
        chat_id=anna.id,
        card="0002",
        pin=PIN,
        now=datetime.now(UTC),
    )
    emu.press_button(anna.id, anna.id, question.message_id, text="Yes, unlink")
    asked = await edited(bot, anna, question, "Unlink card 0002")
    account = await identity.account(library, anna.id)
    assert account.patron is not None
    assert account.patron.card == "0002"
    emu.press_button(anna.id, anna.id, asked.message_id, text="Yes, unlink")
    await edited(bot, anna, asked, "Card 0002 is no longer linked")
    assert not (await identity.account(library, anna.id)).linked


async def test_after_forget_an_old_result_page_knows_nothing(bot: BotWorld) -> None:
    emu = bot.emulator
    anna = await linked(bot, "0001")
    for number in range(7):
        await bot.world.title_with_copies(f"Diario segreto {number}", (f"D{number}", "BRU"))
    results = await ask_text(bot, anna, "diario segreto")
    assert "Next ›" in [button["text"] for button in results.buttons]
    question = await ask(bot, anna, "forget")
    emu.press_button(anna.id, anna.id, question.message_id, text="Yes, delete")
    done = await edited(bot, anna, question, "I no longer know you")
    assert "link:start" in [button.get("callback_data") for button in done.buttons]
    # The words she searched for went with the rest: the old list cannot turn its page.
    emu.press_button(anna.id, anna.id, results.message_id, text="Next ›")
    again = await emu.wait_for_reply(anna.id, after=done)
    assert "too old" in again.body


async def ask_text(bot: BotWorld, user: User, text: str) -> ChatMessage:
    emu = bot.emulator
    return await emu.wait_for_reply(user.id, after=emu.send_text(user.id, text))


async def test_a_suspended_card_is_told_why_it_cannot_renew(bot: BotWorld) -> None:
    anna = await linked(bot, "0001")
    await lend(bot, "0001", "Returned late", "S1", days=45)
    loan_id = await lend(bot, "0001", "Renewable otherwise", "S2", days=31)
    await loans.checkin(bot.world.library, barcode="S1", now=datetime.now(UTC))  # a fine: C8
    summary = await patrons.summary(bot.world.library, card="0001", now=datetime.now(UTC))
    assert summary.status == "suspended"
    stored = await loan_row(bot, loan_id)
    listing = await ask(bot, anna, "loans")
    answer = await press(bot, anna, listing, "Renewable otherwise")
    owed = translator("en").format_money(summary.fines_owed_cents)
    assert "❌ Not renewed: Renewable otherwise" in answer.body
    assert f"You have {owed} to pay for late returns" in answer.body
    assert "Rule C8: until the late items are returned and what is owed is paid." in answer.body
    assert await loan_row(bot, loan_id) == stored


async def test_odd_digits_in_a_forged_button_are_not_an_error(bot: BotWorld) -> None:
    """``"²".isdigit()`` is true and ``int("²")`` raises: ids are read as ASCII digits only."""
    emu = bot.emulator
    anna = await linked(bot, "0001")
    loan_id = await lend(bot, "0001", "Unchanged", "O1", days=31)
    stored = await loan_row(bot, loan_id)
    listing = await ask(bot, anna, "loans")
    for data in ("renew:²:0", "renew:١:0", "loans:page:²", "rec:²", "hold:cx:²", "sr:²:ab"):
        query = emu.press_button(anna.id, anna.id, listing.message_id, data=data, forge=True)
        await answered(bot, query)
    floor = emu.transcript(anna.id)[-1]
    emu.send_command(anna.id, "start", "rec-²")
    await emu.wait_for_reply(anna.id, after=floor)
    bodies = [message.body for message in emu.bot_messages(anna.id)]
    assert not [body for body in bodies if "went wrong" in body]
    assert await loan_row(bot, loan_id) == stored
