"""Search, a record's page, inline mode and holds, through the real bot and the emulator.

Users speak English (``language_code="en"``: the bot negotiates it without asking), and
patrons are linked through the identity service directly, as the linking tests already prove
the conversation. The consortium's policy (CBNEM) holds copies on the shelf too (C4), so a
request for a copy at another library sends it travelling to the pickup library.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.catalog.model import MaterialType, RecordData
from bot.handlers.render import MESSAGE_LIMIT, short_date, utf16_len
from bot.i18n import translator
from bot.sandbox.view import ChatMessage
from bot.sandbox.world import User
from bot.services import holds, identity, loans, patrons
from db.catalog import upsert_records
from db.items import add_item
from tests.e2e.conftest import BotWorld

PIN = "2468"
BOT_URL = "https://t.me/bibliobot_sandbox_bot"


# -- setting up ---------------------------------------------------------------------------------


def now() -> datetime:
    return datetime.now(UTC)


def weekday_before(days: int) -> datetime:
    """An instant ``days`` or more ago on a weekday, when every branch is open (lending)."""
    moment = now() - timedelta(days=days)
    while moment.weekday() >= 5:
        moment -= timedelta(days=1)
    return moment.replace(hour=10)


async def record(
    bot: BotWorld,
    title: str,
    *,
    authors: tuple[str, ...] = (),
    year: int | None = None,
    subtitle: str | None = None,
    publisher: str | None = None,
    isbns: tuple[str, ...] = (),
) -> int:
    async with bot.world.store.transaction() as conn:
        result = await upsert_records(
            conn,
            [
                RecordData(
                    source_key=f"e2e:{title}:{year}",
                    marc_format="manual",
                    title=title,
                    title_sort=title.lower(),
                    subtitle=subtitle,
                    authors=authors,
                    publisher=publisher,
                    year=year,
                    isbns=isbns,
                )
            ],
            now=now(),
        )
    return result.outcomes[0].record_id


async def copy(
    bot: BotWorld, record_id: int, barcode: str, branch: str, shelf_mark: str | None = None
) -> None:
    async with bot.world.store.transaction() as conn:
        await add_item(
            conn,
            record_id=record_id,
            barcode=barcode,
            branch_code=branch,
            material_type=MaterialType.BOOK,
            shelf_mark=shelf_mark,
            now=now(),
        )


async def linked(bot: BotWorld, card: str, name: str = "Anna", branch: str = "BRU") -> User:
    """A patron whose Telegram account (English) is linked to ``card``."""
    await bot.patron_with_pin(card, PIN, branch=branch)
    user = bot.emulator.add_user(name, language_code="en", started=True)
    await identity.link_with_pin(
        bot.world.library,
        telegram_user_id=user.id,
        chat_id=user.id,
        card=card,
        pin=PIN,
        now=now(),
    )
    # A linked account reads the card's language (Italian) until she chooses another.
    await identity.choose_language(
        bot.world.library, telegram_user_id=user.id, language="en", now=now()
    )
    return user


def reader(bot: BotWorld, name: str = "Luca") -> User:
    """An English-speaking user without a card."""
    return bot.emulator.add_user(name, language_code="en", started=True)


async def lend(bot: BotWorld, card: str, barcode: str) -> None:
    await loans.checkout(bot.world.library, card=card, barcode=barcode, now=weekday_before(2))


async def hold_state(bot: BotWorld, hold_id: int) -> str:
    rows = await bot.world.store.reader.execute_fetchall(
        "SELECT state FROM holds WHERE id = ?", (hold_id,)
    )
    return str(next(iter(rows))[0])


# -- acting -------------------------------------------------------------------------------------


async def say(bot: BotWorld, user: User, text: str, chat_id: int | None = None) -> ChatMessage:
    emu = bot.emulator
    chat = user.id if chat_id is None else chat_id
    return await emu.wait_for_reply(chat, after=emu.send_text(user.id, text, chat_id=chat_id))


async def command(bot: BotWorld, user: User, name: str, args: str = "") -> ChatMessage:
    emu = bot.emulator
    return await emu.wait_for_reply(user.id, after=emu.send_command(user.id, name, args))


async def press(
    bot: BotWorld,
    user: User,
    message: ChatMessage,
    *,
    text: str | None = None,
    data: str | None = None,
    forge: bool = False,
) -> ChatMessage:
    """Press a button; return the pressed message once edited, or the bot's next message.

    Also checks that the callback query was answered (the client's spinner stops).
    """
    emu = bot.emulator
    chat = message.chat_id
    floor = emu.transcript(chat)[-1].message_id
    edits = emu.message(chat, message.message_id).edit_count
    query = emu.press_button(user.id, chat, message.message_id, text=text, data=data, forge=forge)
    # An answer without text is recorded as {}: wait for it to be there, not to be truthy.
    await emu.wait_for(lambda: emu.callback_answer(query) is not None, what=f"an answer to {query}")

    def outcome() -> ChatMessage | None:
        pressed = emu.message(chat, message.message_id)
        if pressed.edit_count > edits:
            return pressed
        newer = [m for m in emu.bot_messages(chat) if m.message_id > floor]
        return newer[0] if newer else None

    return await emu.wait_for(outcome, what=f"the bot's answer to {text or data}")


def labels(message: ChatMessage) -> list[str]:
    return [str(button.get("text")) for button in message.buttons]


def data_of(message: ChatMessage) -> list[str]:
    return [str(button.get("callback_data", "")) for button in message.buttons]


# -- search -------------------------------------------------------------------------------------


async def test_a_search_without_accents_finds_the_accented_title(bot: BotWorld) -> None:
    rid = await record(bot, "Le città invisibili", authors=("Calvino, Italo",), year=1972)
    await copy(bot, rid, "C1", "BRU")
    await copy(bot, rid, "C2", "VIM")
    reply = await say(bot, reader(bot), "citta invisibili")
    assert "1 result for «citta invisibili»" in reply.body
    assert "1. Le città invisibili — Calvino, Italo (1972)" in reply.body
    assert "✅ 2 on the shelf: Brugherio and Vimodrone" in reply.body
    assert f"rec:{rid}" in data_of(reply)


async def test_search_command_and_an_empty_one(bot: BotWorld) -> None:
    rid = await record(bot, "Il barone rampante", authors=("Calvino, Italo",), year=1957)
    await copy(bot, rid, "B1", "CAR")
    luca = reader(bot)
    asked = await command(bot, luca, "search")
    assert "What are you looking for?" in asked.body
    found = await command(bot, luca, "search", "calvino barone")
    assert "Il barone rampante" in found.body
    assert "1 on the shelf: Carugate" in found.body


async def test_hostile_text_is_just_a_search(bot: BotWorld) -> None:
    rid = await record(bot, "Il nome della rosa", authors=("Eco, Umberto",), year=1980)
    await copy(bot, rid, "R1", "BRU")
    luca = reader(bot)
    quoted = await say(bot, luca, '"nome" AND rosa* NEAR(x) -- OR 1=1; DROP TABLE records')
    assert "result" in quoted.body or "found nothing" in quoted.body
    assert "Something went wrong" not in quoted.body
    # "²" and "١" are digits to str.isdigit: ten of them once looked like an ISBN to int().
    digits = ["²" * 10, "١٢٣٤٥٦٧٨٩٠", "978²²²²²²²²²²"]
    for text in ["*", '"', "📚🌹", "rosa " * 1000, "AND OR NOT", "x" * 5000, *digits]:
        answer = await say(bot, luca, text)
        assert answer.body.startswith("🔎"), (text[:20], answer.body)
        assert utf16_len(answer.body) <= MESSAGE_LIMIT
    still = await say(bot, luca, "nome rosa")
    assert "Il nome della rosa" in still.body


async def test_nothing_found_suggests_what_to_try(bot: BotWorld) -> None:
    reply = await say(bot, reader(bot), "qwzxv plorb")
    assert "I found nothing for «qwzxv plorb»" in reply.body
    assert "fewer words" in reply.body
    assert "surname" in reply.body
    assert "ISBN" in reply.body
    assert "search:help" in data_of(reply)


async def test_paging_through_twelve_results_edits_the_same_message(bot: BotWorld) -> None:
    for number in range(1, 13):
        rid = await record(bot, f"Storia di Milano volume {number}", year=1900 + number)
        await copy(bot, rid, f"M{number}", "COL")
    luca = reader(bot)
    first = await say(bot, luca, "storia milano")
    assert "12 results for «storia milano»" in first.body
    assert "Page 1 of 3" in first.body
    assert sum(1 for d in data_of(first) if d.startswith("rec:")) == 5
    assert "Next ›" in labels(first)
    assert not any("Previous" in label for label in labels(first))
    second = await press(bot, luca, first, text="Next ›")
    assert second.message_id == first.message_id
    assert "Page 2 of 3" in second.body
    assert "6. " in second.body
    assert "10. " in second.body
    assert "11. " not in second.body
    third = await press(bot, luca, second, text="Next ›")
    assert "Page 3 of 3" in third.body
    assert "11. " in third.body
    assert "12. " in third.body
    assert "Next ›" not in labels(third)
    back = await press(bot, luca, third, text="‹ Previous")
    assert "Page 2 of 3" in back.body
    assert back.message_id == first.message_id


async def test_a_page_button_of_a_forgotten_search_asks_again(bot: BotWorld) -> None:
    rid = await record(bot, "Lessico famigliare", year=1963)
    await copy(bot, rid, "L1", "BUS")
    luca = reader(bot)
    results = await say(bot, luca, "lessico")
    answer = await press(bot, luca, results, data="sr:2:deadbeef", forge=True)
    assert "too old" in answer.body
    garbage = await press(bot, luca, results, data="sr:x:y:z", forge=True)
    assert "too old" in garbage.body


# -- a record's page ------------------------------------------------------------------------------


async def test_record_page_lists_every_branch_with_shelf_marks(bot: BotWorld) -> None:
    rid = await record(
        bot,
        "Se una notte d'inverno un viaggiatore",
        authors=("Calvino, Italo",),
        year=1979,
        subtitle="romanzo",
        publisher="Einaudi",
        isbns=("9788806172052",),
    )
    await copy(bot, rid, "V1", "BRU", "853.914 CAL")
    await copy(bot, rid, "V2", "BRU", "853.914 CAL 2")
    await copy(bot, rid, "V3", "VIM", "N CAL")
    await bot.patron_with_pin("0009", PIN)
    await lend(bot, "0009", "V2")
    luca = reader(bot)
    results = await say(bot, luca, "notte inverno viaggiatore")
    page = await press(bot, luca, results, data=f"rec:{rid}")
    body = page.body
    assert "📖 Se una notte d'inverno un viaggiatore" in body
    assert "romanzo" in body
    assert "Author: Calvino, Italo" in body
    assert "Publisher: Einaudi" in body
    assert "Year: 1979" in body
    assert "ISBN: 9788806172052" in body
    assert "📚 3 copies:" in body
    assert "Brugherio\n• 853.914 CAL — on the shelf" in body
    assert "• 853.914 CAL 2 — on loan, due back: " in body
    assert "Vimodrone\n• N CAL — on the shelf" in body
    # Not linked: the button explains how to reserve.
    assert "link:start" in data_of(page)
    assert "Link your card to reserve" in " ".join(labels(page))


async def test_a_record_with_sixty_copies_fits_in_one_message(bot: BotWorld) -> None:
    rid = await record(bot, "Il Gattopardo", authors=("Tomasi di Lampedusa, Giuseppe",))
    branches = ["BRU", "BUS", "CAR", "CAS", "CER", "COL", "VIM"]
    for number in range(60):
        mark = f"853.914 TOM GAT esemplare {number:02d} collezione locale"
        await copy(bot, rid, f"G{number}", branches[number % 7], mark)
    await bot.patron_with_pin("0009", PIN)
    for number in range(0, 60, 3):
        await lend(bot, "0009", f"G{number}")
    luca = reader(bot)
    results = await say(bot, luca, "gattopardo")
    page = await press(bot, luca, results, data=f"rec:{rid}")
    assert utf16_len(page.body) <= MESSAGE_LIMIT
    assert "📚 60 copies:" in page.body
    for name in ["Brugherio", "Bussero", "Carugate", "Cassina de' Pecchi", "Vimodrone"]:
        assert name in page.body
    # Copy by copy it would not fit: one line per library, with the counts.
    assert "• Brugherio (853.914 TOM GAT esemplare 00…): 6 on the shelf, 3 on loan" in page.body
    assert "(first back: " in page.body


async def test_search_and_record_pages_work_in_a_group(bot: BotWorld) -> None:
    rid = await record(bot, "La coscienza di Zeno", authors=("Svevo, Italo",), year=1923)
    await copy(bot, rid, "Z1", "CER", "853 SVE")
    emu = bot.emulator
    luca = reader(bot)
    group = emu.add_group("Lettori", members={luca.id: "member"})
    results = await emu.wait_for_reply(
        group.id, after=emu.send_command(luca.id, "search", "coscienza zeno", chat_id=group.id)
    )
    assert "La coscienza di Zeno" in results.body
    page = await press(bot, luca, results, data=f"rec:{rid}")
    assert "853 SVE — on the shelf" in page.body
    reserve = [b for b in page.buttons if "url" in b]
    assert reserve
    assert str(reserve[0]["url"]).startswith(BOT_URL)


# -- inline mode -----------------------------------------------------------------------------------


async def test_inline_query_answers_shareable_results(bot: BotWorld) -> None:
    for number in range(12):
        rid = await record(bot, f"Città e memoria {number}", authors=("Rossi, Anna",), year=2000)
        await copy(bot, rid, f"I{number}", "VIM")
    emu = bot.emulator
    luca = reader(bot)
    query = emu.inline_query(luca.id, "citta memoria")
    answer = await emu.wait_for_inline_answer(query)
    results = answer["results"]
    assert 1 <= len(results) <= 10
    for result in results:
        assert result["type"] == "article"
        assert 1 <= len(result["id"].encode()) <= 64
        assert result["title"].startswith("Città e memoria")
        assert "Rossi, Anna · 2000" in result["description"]
        assert "on the shelf: Vimodrone" in result["description"]
        assert "Città e memoria" in result["input_message_content"]["message_text"]
    group = emu.add_group("Amici", members={luca.id: "member"})
    shared = emu.choose_inline_result(luca.id, query, results[0]["id"], chat_id=group.id)
    assert shared is not None
    assert "📖 Città e memoria" in shared.body


async def test_an_empty_inline_query_gets_a_hint(bot: BotWorld) -> None:
    emu = bot.emulator
    query = emu.inline_query(reader(bot).id, "")
    answer = await emu.wait_for_inline_answer(query)
    assert answer["results"] == []
    assert "title" in answer["button"]["text"]


async def test_a_result_shared_into_the_bots_own_chat_is_not_taken_for_a_search(
    bot: BotWorld,
) -> None:
    rid = await record(bot, "Città e memoria", authors=("Rossi, Anna",), year=2000)
    await copy(bot, rid, "I1", "VIM")
    emu = bot.emulator
    luca = reader(bot)
    query = emu.inline_query(luca.id, "citta memoria")
    answer = await emu.wait_for_inline_answer(query)
    shared = emu.choose_inline_result(luca.id, query, answer["results"][0]["id"], chat_id=luca.id)
    assert shared is not None
    # Updates are handled in order: once /help is answered, the shared record was handled too,
    # and it got no answer of its own.
    asked = emu.send_command(luca.id, "help")
    await emu.wait_for(
        lambda: any("/loans" in m.body for m in emu.bot_messages(luca.id)), what="/help's answer"
    )
    answers = [m for m in emu.bot_messages(luca.id) if m.message_id > shared.message_id]
    assert [m.message_id > asked.message_id and "/loans" in m.body for m in answers] == [True]


# -- holds ----------------------------------------------------------------------------------------


async def reserve(
    bot: BotWorld, user: User, rid: int, search: str, branch_label: str = "🏠 Brugherio"
) -> ChatMessage:
    """Search, open the record, Reserve, choose the pickup library, confirm."""
    results = await say(bot, user, search)
    page = await press(bot, user, results, data=f"rec:{rid}")
    where = await press(bot, user, page, text="📌 Reserve")
    assert "Where would you like to collect" in where.body
    assert labels(where)[0] == "🏠 Brugherio"  # the home branch first
    confirm = await press(bot, user, where, text=branch_label)
    assert "Pickup: " in confirm.body
    return await press(bot, user, confirm, text="✅ Confirm")


async def reserve_refused(
    bot: BotWorld, user: User, rid: int, search: str
) -> tuple[ChatMessage, ChatMessage]:
    """Search, open the record, Reserve: refused at once, before any library is offered, with
    the way back to the title and to her holds. Returns the record's page and the refusal."""
    results = await say(bot, user, search)
    page = await press(bot, user, results, data=f"rec:{rid}")
    refused = await press(bot, user, page, text="📌 Reserve")
    assert "Where would you like to collect" not in refused.body, refused.body
    assert not [d for d in data_of(refused) if d.startswith("hold:pick:")], refused.buttons
    assert f"rec:{rid}" in data_of(refused)
    assert "holds:list" in data_of(refused)
    return page, refused


async def test_a_hold_says_the_queue_position(bot: BotWorld) -> None:
    rid = await record(bot, "Il sentiero dei nidi di ragno", year=1947)
    await copy(bot, rid, "N1", "BRU")
    await bot.patron_with_pin("0009", PIN)
    await lend(bot, "0009", "N1")
    anna = await linked(bot, "0001", "Anna")
    first = await reserve(bot, anna, rid, "sentiero nidi ragno")
    assert "You are number 1 in the queue" in first.body
    assert "Pickup: Brugherio" in first.body
    marco = await linked(bot, "0002", "Marco")
    second = await reserve(bot, marco, rid, "sentiero nidi ragno")
    assert "You are number 2 in the queue" in second.body
    # The record's page now says so, instead of offering to reserve again.
    results = await say(bot, marco, "sentiero nidi ragno")
    page = await press(bot, marco, results, data=f"rec:{rid}")
    assert "You have reserved this title." in page.body
    assert "number 2 in the queue" in page.body
    assert "📌 Reserve" not in labels(page)


async def test_a_copy_on_the_shelf_elsewhere_travels_to_the_pickup_library(
    bot: BotWorld,
) -> None:
    rid = await record(bot, "Marcovaldo", authors=("Calvino, Italo",), year=1963)
    await copy(bot, rid, "K1", "VIM")
    anna = await linked(bot, "0001")
    done = await reserve(bot, anna, rid, "marcovaldo")
    assert "A copy of «Marcovaldo» is on its way to Brugherio" in done.body
    assert await bot.world.status("K1") == ("in_transit", "BRU")
    listing = await command(bot, anna, "holds")
    assert "🚚 On its way to Brugherio" in listing.body


async def test_a_title_on_loan_to_her_is_refused_at_reserve_and_at_a_forged_confirm(
    bot: BotWorld,
) -> None:
    """She has the title in hand: "Reserve" says so at once, in plain words (the hold
    decision's own reason, C4), instead of the pickup libraries; a "Confirm" forged past it is
    refused the same way, and nothing is placed."""
    library = bot.world.library
    rid = await record(bot, "Palomar", year=1983)
    await copy(bot, rid, "P1", "BRU")
    await copy(bot, rid, "P2", "BRU")
    await bot.patron_with_pin("0009", PIN)
    anna = await linked(bot, "0001")
    await lend(bot, "0001", "P1")
    await lend(bot, "0009", "P2")
    page, refused = await reserve_refused(bot, anna, rid, "palomar")
    assert "You already have this title on loan." in refused.body
    confirmed = await press(bot, anna, page, data=f"hold:ok:{rid}:BRU", forge=True)
    assert "You already have this title on loan." in confirmed.body
    assert (await patrons.summary(library, card="0001", now=now())).holds == ()


async def test_at_the_hold_limit_she_is_told_at_reserve_and_a_forged_confirm_is_refused(
    bot: BotWorld,
) -> None:
    """C4: at most 20 holds. The 21st title is refused at "Reserve" with the limit, not after
    choosing a library; a forged "Confirm" is refused too, and once a hold is cancelled she
    can reserve again."""
    library = bot.world.library
    anna = await linked(bot, "0001")
    await bot.patron_with_pin("0009", PIN)
    placed = []
    for number in range(20):
        rid = await record(bot, f"Racconto numero {number:02d}")
        await copy(bot, rid, f"T{number}", "CER")
        await lend(bot, "0009", f"T{number}")
        placed.append(
            await holds.place_hold(library, card="0001", record_id=rid, pickup="CER", now=now())
        )
    rid = await record(bot, "Il cavaliere inesistente")
    await copy(bot, rid, "Q1", "BRU")
    await bot.patron_with_pin("0008", PIN)  # 0009 has the most loans allowed (C2)
    await lend(bot, "0008", "Q1")
    page, refused = await reserve_refused(bot, anna, rid, "cavaliere inesistente")
    assert "You already have 20 reservations, the most allowed" in refused.body, refused.body
    confirmed = await press(bot, anna, page, data=f"hold:ok:{rid}:BRU", forge=True)
    assert "You already have 20 reservations, the most allowed" in confirmed.body
    summary = await patrons.summary(library, card="0001", now=now())
    assert len(summary.holds) == 20
    assert rid not in [hold.record_id for hold in summary.holds]
    # One hold cancelled: the same button now offers the libraries, and the hold is placed.
    await holds.cancel_hold(library, card="0001", hold_id=placed[0].hold_id, now=now())
    done = await reserve(bot, anna, rid, "cavaliere inesistente")
    assert "You are number 1 in the queue" in done.body


async def test_confirm_still_decides_when_things_change_after_reserve(bot: BotWorld) -> None:
    """ "Reserve" offered the libraries; before she confirms, the title is lent to her at the
    desk. "Confirm" decides again, and refuses in the same plain words."""
    library = bot.world.library
    rid = await record(bot, "Marcovaldo", year=1963)
    await copy(bot, rid, "M1", "BRU")
    await copy(bot, rid, "M2", "BRU")
    await bot.patron_with_pin("0009", PIN)
    anna = await linked(bot, "0001")
    await lend(bot, "0009", "M2")
    await lend(bot, "0009", "M1")
    results = await say(bot, anna, "marcovaldo")
    page = await press(bot, anna, results, data=f"rec:{rid}")
    where = await press(bot, anna, page, text="📌 Reserve")
    assert "Where would you like to collect" in where.body
    confirm = await press(bot, anna, where, text="🏠 Brugherio")
    assert "Pickup: Brugherio" in confirm.body
    await loans.checkin(library, barcode="M1", now=now())
    await lend(bot, "0001", "M1")
    refused = await press(bot, anna, confirm, text="✅ Confirm")
    assert "You already have this title on loan." in refused.body
    assert f"rec:{rid}" in data_of(refused)
    assert "holds:list" in data_of(refused)
    assert (await patrons.summary(library, card="0001", now=now())).holds == ()


async def test_holds_list_cancel_suspend_and_resume(bot: BotWorld) -> None:
    library = bot.world.library
    anna = await linked(bot, "0001")
    await bot.patron_with_pin("0009", PIN)
    ids = []
    for number, title in enumerate(["Fiabe italiane", "Lezioni americane"]):
        rid = await record(bot, title)
        await copy(bot, rid, f"H{number}", "CAR")
        await lend(bot, "0009", f"H{number}")
        placed = await holds.place_hold(
            library, card="0001", record_id=rid, pickup="BRU", now=now()
        )
        ids.append(placed.hold_id)
    listing = await command(bot, anna, "holds")
    assert "📌 Your 2 holds:" in listing.body
    assert "1. Fiabe italiane\n    ⏳ Waiting · number 1 in the queue · Pickup: Brugherio" in (
        listing.body
    )
    assert "2. Lezioni americane" in listing.body
    # Suspend the first for two weeks.
    ask = await press(bot, anna, listing, text="⏸ Suspend 1")
    assert "For how long should your hold on «Fiabe italiane» wait?" in ask.body
    suspended = await press(bot, anna, ask, text="2 weeks")
    assert "is suspended until: " in suspended.body
    assert "⏸ Suspended until: " in suspended.body
    assert await hold_state(bot, ids[0]) == "suspended"
    # Resume it.
    resumed = await press(bot, anna, suspended, text="▶ Resume")
    assert "Your hold on «Fiabe italiane» is active again." in resumed.body
    assert await hold_state(bot, ids[0]) == "waiting"
    # Cancel the second, after confirming.
    confirm = await press(bot, anna, resumed, text="✖ Cancel 2")
    assert "Cancel your hold on «Lezioni americane»?" in confirm.body
    kept = await press(bot, anna, confirm, text="No, keep it")
    assert "📌 Your 2 holds:" in kept.body
    assert await hold_state(bot, ids[1]) == "waiting"
    confirm = await press(bot, anna, kept, text="✖ Cancel 2")
    cancelled = await press(bot, anna, confirm, text="Yes, cancel it")
    assert "🗑 Your hold on «Lezioni americane» is cancelled." in cancelled.body
    assert "📌 Your hold:" in cancelled.body
    assert await hold_state(bot, ids[1]) == "cancelled"


async def test_twenty_holds_with_long_titles_fit_in_one_message(bot: BotWorld) -> None:
    library = bot.world.library
    anna = await linked(bot, "0001")
    await bot.patron_with_pin("0009", PIN)
    for number in range(20):  # C4: at most 20
        title = f"Volume {number:02d} " + "della grande storia illustrata d'Italia " * 6
        rid = await record(bot, title.strip())
        await copy(bot, rid, f"T{number}", "CER")
        await lend(bot, "0009", f"T{number}")
        await holds.place_hold(library, card="0001", record_id=rid, pickup="CER", now=now())
    listing = await command(bot, anna, "holds")
    assert utf16_len(listing.body) <= MESSAGE_LIMIT
    assert "📌 Your 20 holds:" in listing.body
    assert "20. Volume 19" in listing.body
    assert sum(1 for d in data_of(listing) if d.startswith("hold:cx:")) == 20


async def test_a_forged_cancel_of_someone_elses_hold_changes_nothing(bot: BotWorld) -> None:
    library = bot.world.library
    rid = await record(bot, "Il visconte dimezzato")
    await copy(bot, rid, "D1", "BRU")
    await bot.patron_with_pin("0009", PIN)
    await lend(bot, "0009", "D1")
    anna = await linked(bot, "0001")
    await bot.patron_with_pin("0002", PIN)
    theirs = await holds.place_hold(library, card="0002", record_id=rid, pickup="BRU", now=now())
    forged = [f"hold:{action}:{theirs.hold_id}" for action in ("cxok", "cx", "su", "res")]
    for data in [*forged, f"hold:sus:{theirs.hold_id}:14"]:
        listing = await command(bot, anna, "holds")  # a fresh list: each answer is an edit
        answer = await press(bot, anna, listing, data=data, forge=True)
        assert "not among your active holds" in answer.body, data
    listing = await command(bot, anna, "holds")
    data = f"hold:sus:{theirs.hold_id}:9999"
    answer = await press(bot, anna, listing, data=data, forge=True)
    assert "That button does not work any more." in answer.body
    assert await hold_state(bot, theirs.hold_id) == "waiting"
    summary = await patrons.summary(library, card="0002", now=now())
    assert [hold.state for hold in summary.holds] == ["waiting"]
    assert summary.holds[0].suspended_until is None


async def test_a_button_on_an_old_message_answers_the_current_state(bot: BotWorld) -> None:
    library = bot.world.library
    rid = await record(bot, "Il cavaliere inesistente")
    await copy(bot, rid, "Q1", "BRU")
    await bot.patron_with_pin("0009", PIN)
    await lend(bot, "0009", "Q1")
    anna = await linked(bot, "0001")
    placed = await holds.place_hold(library, card="0001", record_id=rid, pickup="BRU", now=now())
    old = await command(bot, anna, "holds")
    new = await command(bot, anna, "holds")
    confirm = await press(bot, anna, new, text="✖ Cancel 1")
    await press(bot, anna, confirm, text="Yes, cancel it")
    assert await hold_state(bot, placed.hold_id) == "cancelled"
    again = await press(bot, anna, old, text="✖ Cancel 1")
    assert "not among your active holds any more" in again.body
    assert "You have no holds at the moment." in again.body
    # A "Reserve" on a page shown before reserving answers with the hold as it stands.
    results = await say(bot, anna, "cavaliere inesistente")
    page = await press(bot, anna, results, data=f"rec:{rid}")
    await holds.place_hold(library, card="0001", record_id=rid, pickup="BRU", now=now())
    late = await press(bot, anna, page, text="📌 Reserve")
    assert "You have already reserved this title." in late.body
    assert "number 1 in the queue" in late.body


async def test_holds_without_a_card_or_without_holds(bot: BotWorld) -> None:
    luca = reader(bot)
    answer = await command(bot, luca, "holds")
    assert "link your library card" in answer.body
    assert "link:start" in data_of(answer)
    anna = await linked(bot, "0001")
    empty = await command(bot, anna, "holds")
    assert "You have no holds at the moment." in empty.body
    assert "search:help" in data_of(empty)


async def test_holds_in_a_group_point_to_a_private_chat(bot: BotWorld) -> None:
    emu = bot.emulator
    anna = await linked(bot, "0001")
    group = emu.add_group("Lettori", members={anna.id: "member"})
    answer = await emu.wait_for_reply(
        group.id, after=emu.send_command(anna.id, "holds", chat_id=group.id)
    )
    assert "only in a private chat" in answer.body
    assert [b.get("url") for b in answer.buttons] == [BOT_URL]
    # A hold button pressed in the group gets the same answer, and nothing personal.
    rid = await record(bot, "Le cosmicomiche")
    await copy(bot, rid, "W1", "BRU")
    pressed = await press(bot, anna, answer, data=f"hold:new:{rid}", forge=True)
    assert "only in a private chat" in pressed.body


async def test_a_title_without_copies_says_so_in_italian(bot: BotWorld) -> None:
    # The sentence is built next to an f-string: this proves it is extracted and translated.
    rid = await record(bot, "Il barone rampante", authors=("Calvino, Italo",), year=1957)
    anna = bot.emulator.add_user("Anna", language_code="it", started=True)
    page = await command(bot, anna, "start", f"rec-{rid}")
    assert "📖 Il barone rampante" in page.body
    assert "Nessuna copia nelle biblioteche della rete." in page.body


async def test_a_title_on_loan_says_when_it_is_back(bot: BotWorld) -> None:
    rid = await record(bot, "Ultimo viene il corvo", authors=("Calvino, Italo",), year=1949)
    await copy(bot, rid, "U1", "CAS", "853 CAL ULT")
    await bot.patron_with_pin("0009", PIN)
    await lend(bot, "0009", "U1")
    summary = await patrons.summary(bot.world.library, card="0009", now=now())
    due = summary.loans[0].due_on
    en = translator("en")
    back = short_date(en, due, en.local_date(now()))
    luca = reader(bot)
    results = await say(bot, luca, "corvo")
    assert f"📕 On loan, back by {back}" in results.body
    page = await press(bot, luca, results, data=f"rec:{rid}")
    assert f"Cassina de' Pecchi\n• 853 CAL ULT — on loan, due back: {back}" in page.body


async def test_a_copy_on_the_pickup_shelf_is_ready_at_once(bot: BotWorld) -> None:
    rid = await record(bot, "Il castello dei destini incrociati", year=1973)
    await copy(bot, rid, "S1", "BRU")
    anna = await linked(bot, "0001")
    done = await reserve(bot, anna, rid, "castello destini")
    summary = await patrons.summary(bot.world.library, card="0001", now=now())
    [hold] = summary.holds
    assert hold.state == "ready"
    assert hold.expires_on is not None
    deadline = translator("en").format_date(hold.expires_on)
    assert (
        f"✅ Reserved! «Il castello dei destini incrociati» is ready for you at Brugherio. "
        f"Collect by: {deadline}." in done.body
    )
    listing = await command(bot, anna, "holds")
    assert f"✅ Ready to collect at Brugherio · Collect by: {deadline}" in listing.body
    assert "hold:cx:" in " ".join(data_of(listing))


async def test_an_inline_search_that_finds_nothing_offers_tips(bot: BotWorld) -> None:
    emu = bot.emulator
    luca = reader(bot)
    answer = await emu.wait_for_inline_answer(emu.inline_query(luca.id, "qwzxv plorb"))
    assert answer["results"] == []
    assert answer["button"] == {
        "text": "Nothing found: tips for searching",
        "start_parameter": "tips",
    }
    tips = await command(bot, luca, "start", "tips")
    assert "Tips for searching the catalog" in tips.body
    assert "just the author's surname" in tips.body
    assert "search:help" in data_of(tips)


async def test_a_suspended_card_is_told_at_reserve_not_after_choosing_a_library(
    bot: BotWorld,
) -> None:
    """The "Reserve" button answers at once with the reason the hold would be refused (C8: a fine
    not paid), instead of the pickup libraries; nothing is placed, and a forged "Confirm"
    is still refused."""
    library = bot.world.library
    rid = await record(bot, "Il sentiero dei nidi di ragno", year=1947)
    await copy(bot, rid, "N1", "BRU")
    late = await record(bot, "Tornato tardi")
    await copy(bot, late, "L1", "BRU")
    anna = await linked(bot, "0001")
    await loans.checkout(library, card="0001", barcode="L1", now=weekday_before(45))
    returned = await loans.checkin(library, barcode="L1", now=now())
    assert returned.fine_cents > 0
    assert (await patrons.summary(library, card="0001", now=now())).status == "suspended"
    results = await say(bot, anna, "sentiero nidi ragno")
    page = await press(bot, anna, results, data=f"rec:{rid}")
    refused = await press(bot, anna, page, text="📌 Reserve")
    assert "Your card is suspended" in refused.body, refused.body
    assert "Where would you like to collect" not in refused.body
    assert not [d for d in data_of(refused) if d.startswith("hold:pick:")]
    assert f"rec:{rid}" in data_of(refused)
    assert "holds:list" in data_of(refused)
    # The last check stays: a "Confirm" forged past the first press is refused the same way.
    confirmed = await press(bot, anna, page, data=f"hold:ok:{rid}:BRU", forge=True)
    assert "Your card is suspended" in confirmed.body
    assert (await patrons.summary(library, card="0001", now=now())).holds == ()
