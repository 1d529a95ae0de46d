"""Interlibrary loan from chat (G18, G20), through the real bot, the emulator and a staff group.

The network runs Ginestra's regulation (the one with interlibrary loan: provincial and regional
free, national and international at the patron's cost, 3 + 3 open requests). The staff group
is a forum supergroup with one librarian; the library's default language is English here, so
the staff card reads in English (the Italian catalog is checked by tests/unit/i18n).

Notices to the patron go through the outbox: the tests read the queued rows, then wait for the
running bot's dispatcher to deliver them to the patron's chat (the patron agrees to a cost on
the delivered notice; /holds offers the same answers).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from telegram import Update
from telegram.ext import ConversationHandler

from bot.app import build_application
from bot.catalog.model import MaterialType, RecordData
from bot.circulation import IllScope, PatronCategory
from bot.handlers.context import BotApplication
from bot.handlers.interlibrary import DIALOGUE
from bot.sandbox import run_emulator
from bot.sandbox.emulator import Emulator
from bot.sandbox.testing import format_violations
from bot.sandbox.view import ChatMessage
from bot.sandbox.world import Chat, User
from bot.services import identity, interlibrary, patrons
from bot.settings import load_settings
from db.catalog import upsert_records
from db.items import add_item
from tests.e2e.conftest import BotWorld
from tests.integration.circulation.conftest import _world, at

PIN = "2468"


@dataclass
class IllWorld:
    bot: BotWorld
    staff_group: Chat
    librarian: User

    @property
    def emu(self) -> Emulator:
        return self.bot.emulator


@pytest.fixture
async def ill(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[IllWorld]:
    """A Ginestra network, the bot polling the emulator, and a staff forum group."""
    monkeypatch.chdir(tmp_path)
    for name in [name for name in os.environ if name.startswith("BIBLIOBOT_")]:
        monkeypatch.delenv(name)
    path = tmp_path / "bot.sqlite3"
    world = await _world(path, "ginestra", {"MON": "Montevarchi"}, "08-10")
    async with run_emulator() as running:
        emu = running.emulator
        librarian = emu.add_user("Sara", language_code="it", started=True)
        group = emu.add_group("Biblioteca — staff", forum=True, members={librarian.id: "member"})
        settings = load_settings(
            telegram={
                "token": running.token,
                "base_url": running.bot_api_url,
                "staff_chat_id": group.id,
            },
            database={"path": str(path)},
            library={"policy": "ginestra", "default_language": "en"},
        )
        app: BotApplication = build_application(settings)
        async with app:
            assert app.post_init is not None
            await app.post_init(app)
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0, timeout=1)
            try:
                yield IllWorld(BotWorld(emu, app, world), group, librarian)
            finally:
                await app.updater.stop()
                await app.stop()
                if app.post_shutdown is not None:
                    await app.post_shutdown(app)
                await world.store.close()
        if emu.violations:
            pytest.fail(format_violations(emu.violations))


# -- setting up ---------------------------------------------------------------------------------


def now() -> datetime:
    return datetime.now(UTC)


async def record(ill: IllWorld, title: str, *, author: str, isbn: str | None = None) -> int:
    async with ill.bot.world.store.transaction() as conn:
        result = await upsert_records(
            conn,
            [
                RecordData(
                    source_key=f"e2e:{title}",
                    marc_format="manual",
                    title=title,
                    title_sort=title.lower(),
                    authors=(author,),
                    isbns=(isbn,) if isbn else (),
                )
            ],
            now=now(),
        )
    return result.outcomes[0].record_id


async def copy(ill: IllWorld, record_id: int, barcode: str) -> None:
    async with ill.bot.world.store.transaction() as conn:
        await add_item(
            conn,
            record_id=record_id,
            barcode=barcode,
            branch_code="MON",
            material_type=MaterialType.BOOK,
            now=now(),
        )


async def linked(ill: IllWorld, card: str, name: str = "Anna") -> User:
    await patrons.add_patron(
        ill.bot.world.library,
        card=card,
        name=f"{name} Rossi",
        category=PatronCategory.ADULT,
        branch="MON",
        pin=PIN,
        now=at(2025, 1, 10),
    )
    user = ill.emu.add_user(name, language_code="en", started=True)
    library = ill.bot.world.library
    await identity.link_with_pin(
        library, telegram_user_id=user.id, chat_id=user.id, card=card, pin=PIN, now=now()
    )
    await identity.choose_language(library, telegram_user_id=user.id, language="en", now=now())
    return user


# -- acting -------------------------------------------------------------------------------------


async def say(ill: IllWorld, user: User, text: str) -> ChatMessage:
    emu = ill.emu
    return await emu.wait_for_reply(user.id, after=emu.send_text(user.id, text))


async def press(
    ill: IllWorld,
    user: User,
    message: ChatMessage,
    *,
    text: str | None = None,
    data: str | None = None,
    forge: bool = False,
) -> tuple[ChatMessage, dict[str, object]]:
    """Press a button; the pressed message once edited (or the bot's next message in that chat),
    and the answer to the press (an alert's text, if any)."""
    emu = ill.emu
    chat = message.chat_id
    floor = emu.transcript(chat)[-1].message_id
    edits = emu.message(chat, message.message_id).edit_count
    query = emu.press_button(user.id, chat, message.message_id, text=text, data=data, forge=forge)
    await emu.wait_for(lambda: emu.callback_answer(query) is not None, what="an answer")
    answer = emu.callback_answer(query)
    assert answer is not None

    def outcome() -> ChatMessage | None:
        pressed = emu.message(chat, message.message_id)
        if pressed.edit_count > edits:
            return pressed
        newer = [m for m in emu.bot_messages(chat) if m.message_id > floor]
        return newer[0] if newer else None

    if answer.get("show_alert"):
        return emu.message(chat, message.message_id), answer
    return await emu.wait_for(outcome, what=f"the bot's answer to {text or data}"), answer


def labels(message: ChatMessage) -> list[str]:
    return [str(button.get("text")) for button in message.buttons]


def data_of(message: ChatMessage) -> list[str]:
    return [str(button.get("callback_data", "")) for button in message.buttons]


async def staff_cards(ill: IllWorld, count: int = 1) -> list[ChatMessage]:
    """The cards in the "Interlibrary loan" topic (created once), oldest first."""
    emu = ill.emu
    group = ill.staff_group.id

    def ready() -> list[ChatMessage] | None:
        topics = [topic for topic in emu.topics(group) if topic.name == "Interlibrary loan"]
        if not topics:
            return None
        cards = [
            m
            for m in emu.bot_messages(group, thread_id=topics[0].thread_id)
            if "Interlibrary request #" in m.body
        ]
        return cards if len(cards) >= count else None

    return await emu.wait_for(ready, what=f"{count} interlibrary card(s) in the staff topic")


def card_now(ill: IllWorld, card: ChatMessage) -> ChatMessage:
    return ill.emu.message(card.chat_id, card.message_id)


async def notices(ill: IllWorld) -> list[dict[str, object]]:
    """The patron notices queued in the outbox, oldest first (what the dispatcher sends)."""
    rows = await ill.bot.world.store.reader.execute_fetchall(
        "SELECT payload FROM outbox WHERE kind = 'ill_update' ORDER BY id"
    )
    return [json.loads(row[0]) for row in rows]


async def delivered(ill: IllWorld, user: User, words: str) -> ChatMessage:
    """The notice the dispatcher sent to the patron's chat, containing ``words``."""
    emu = ill.emu

    def found() -> ChatMessage | None:
        return next((m for m in emu.bot_messages(user.id) if words in m.body), None)

    return await emu.wait_for(found, what=f"a notice saying {words!r}")


def notice_data(notice: dict[str, object]) -> list[str]:
    rows = notice.get("buttons") or []
    assert isinstance(rows, list)
    return [str(b.get("callback_data")) for row in rows for b in row]


async def request_state(ill: IllWorld, request_id: int) -> tuple[str, int | None]:
    found = await interlibrary.view(ill.bot.world.library, request_id)
    assert found is not None
    return found.state, found.cost_cents


async def ask_from_record(
    ill: IllWorld, user: User, record_id: int, search: str, scope_label: str
) -> ChatMessage:
    results = await say(ill, user, search)
    page, _ = await press(ill, user, results, data=f"rec:{record_id}")
    assert "📨 Ask another library network" in labels(page)
    draft, _ = await press(ill, user, page, text="📨 Ask another library network")
    sent, _ = await press(ill, user, draft, text=scope_label)
    return sent


# -- tests --------------------------------------------------------------------------------------


async def test_G18_a_title_without_copies_is_asked_and_staff_steps_reach_the_patron(
    ill: IllWorld,
) -> None:
    rid = await record(ill, "Il partigiano Johnny", author="Fenoglio, Beppe", isbn="9788806172052")
    anna = await linked(ill, "0001")
    results = await say(ill, anna, "partigiano johnny")
    page, _ = await press(ill, anna, results, data=f"rec:{rid}")
    assert "📨 Ask another library network" in labels(page)
    draft, _ = await press(ill, anna, page, text="📨 Ask another library network")
    assert "Title: Il partigiano Johnny" in draft.body
    assert "Author: Fenoglio, Beppe" in draft.body
    assert "ISBN: 9788806172052" in draft.body
    assert labels(draft)[:4] == [
        "🆓 provincial network — free",
        "🆓 regional network — free",
        "💶 national network — at your cost",
        "💶 international (from abroad) — at your cost",
    ]
    assert all(len(d.encode()) <= 64 for d in data_of(draft))
    sent, _ = await press(ill, anna, draft, text="provincial")
    assert "✅ Request sent" in sent.body
    assert "free of charge" in sent.body
    assert "It should arrive by: " in sent.body
    (card,) = await staff_cards(ill)
    assert "Il partigiano Johnny" in card.body
    assert "Author: Fenoglio, Beppe" in card.body
    assert "From: provincial network (free)" in card.body
    assert "Patron: Anna Rossi (card 0001)" in card.body
    assert "📝 New: to order" in card.body
    assert labels(card) == ["🚚 Ordered", "❌ Not available"]
    request_id = int(data_of(card)[0].split(":")[2])
    sara = ill.librarian

    ordered, _ = await press(ill, sara, card, text="🚚 Ordered")
    assert ordered.message_id == card.message_id
    assert "🚚 Ordered" in ordered.body
    assert labels(ordered) == ["✅ Arrived", "❌ Not available"]
    arrived, _ = await press(ill, sara, ordered, text="✅ Arrived")
    assert "✅ Arrived: the patron has been told" in arrived.body
    assert labels(arrived) == ["✔ Returned"]
    assert await request_state(ill, request_id) == ("arrived", None)
    # Each step is a notice for the patron, queued in the outbox in her language and sent.
    texts = [str(n["text"]) for n in await notices(ill)]
    assert len(texts) == 2
    assert "has been ordered from the provincial network" in texts[0]
    assert "«Il partigiano Johnny» has arrived" in texts[1]
    assert "collect it at Montevarchi" in texts[1]
    await delivered(ill, anna, "has been ordered from the provincial network")
    arrival = await delivered(ill, anna, "has arrived from another library")
    assert "you can collect it at Montevarchi" in arrival.body
    returned, _ = await press(ill, sara, arrived, text="✔ Returned")
    assert "✔ Returned: closed" in returned.body
    assert labels(returned) == []
    await delivered(ill, anna, "has gone back to the library that lent it")
    assert len(await notices(ill)) == 3  # one per step, each reaching the patron
    # The topic was created once; a second request lands in the same topic.
    other = await record(ill, "Una questione privata", author="Fenoglio, Beppe")
    await ask_from_record(ill, anna, other, "questione privata", "regional")
    cards = await staff_cards(ill, 2)
    assert (
        len([t for t in ill.emu.topics(ill.staff_group.id) if t.name == "Interlibrary loan"]) == 1
    )
    assert "Una questione privata" in cards[1].body


async def test_G18_a_title_the_network_lends_offers_no_request(ill: IllWorld) -> None:
    rid = await record(ill, "La luna e i falò", author="Pavese, Cesare")
    await copy(ill, rid, "L1")
    anna = await linked(ill, "0001")
    results = await say(ill, anna, "luna falo")
    page, _ = await press(ill, anna, results, data=f"rec:{rid}")
    assert "📨 Ask another library network" not in labels(page)
    # A forged press is refused by the service: the library has it (G18).
    refused, _ = await press(ill, anna, page, data=f"ill:sc:provincial:{rid}", forge=True)
    assert "already has this title" in refused.body
    assert await interlibrary.requests(ill.bot.world.library, card="0001") == []


async def test_G18_beyond_three_open_requests_the_refusal_is_shown(ill: IllWorld) -> None:
    library = ill.bot.world.library
    anna = await linked(ill, "0001")
    for number in range(3):
        await interlibrary.request(
            library, card="0001", scope=IllScope.PROVINCIAL, title=f"Libro {number}", now=now()
        )
    rid = await record(ill, "Il quarto libro", author="Bianchi, Carla")
    refused = await ask_from_record(ill, anna, rid, "quarto libro", "provincial")
    assert "You already have 3 open requests to other libraries, the most allowed" in refused.body
    assert len(await interlibrary.requests(library, card="0001")) == 3
    # The wider quota is separate: a regional request is still taken.
    allowed = await ask_from_record(ill, anna, rid, "quarto libro", "regional")
    assert "✅ Request sent" in allowed.body
    assert len(await interlibrary.requests(library, card="0001")) == 4
    # Regional, national and international share the other three places.
    for scope in (IllScope.NATIONAL, IllScope.INTERNATIONAL):
        await interlibrary.request(
            library, card="0001", scope=scope, title=f"Da {scope.value}", now=now()
        )
    last = await record(ill, "Il settimo libro", author="Verdi, Anna")
    for scope_label in ("regional", "national", "international"):
        refused = await ask_from_record(ill, anna, last, "settimo libro", scope_label)
        assert "You already have 3 open requests to other libraries" in refused.body
    assert len(await interlibrary.requests(library, card="0001")) == 6
    # Once one closes (staff: not available), there is room again.
    (first, *_) = await interlibrary.requests(library, card="0001")
    await interlibrary.staff_step(
        library,
        request_id=first.request_id,
        step="not_available",
        now=now(),
        notify=await _notify(ill),
    )
    sent = await ask_from_record(ill, anna, last, "settimo libro", "provincial")
    assert "✅ Request sent" in sent.body


async def test_a_search_with_no_results_asks_with_the_words_as_title(ill: IllWorld) -> None:
    anna = await linked(ill, "0001")
    nothing = await say(ill, anna, "il pendolo di foucault")
    assert "I found nothing" in nothing.body
    draft, _ = await press(ill, anna, nothing, text="📨 Ask another library network")
    assert "Title: il pendolo di foucault" in draft.body
    assert "Author: —" in draft.body
    asked, _ = await press(ill, anna, draft, text="✏️ Change author")
    assert "author's name" in asked.body
    edited = await say(ill, anna, "Eco, Umberto")
    assert "Author: Eco, Umberto" in edited.body
    asked, _ = await press(ill, anna, edited, text="✏️ Change title")
    assert "title" in asked.body
    stopped = await ill.emu.wait_for_reply(anna.id, after=ill.emu.send_command(anna.id, "cancel"))
    assert "stopped" in stopped.body
    # After /cancel her next words are a search again, not a title.
    search = await say(ill, anna, "qwzxv")
    assert "I found nothing" in search.body
    asked, _ = await press(ill, anna, edited, text="✏️ Change title")
    empty_title = await say(ill, anna, "x" * 400)
    assert "at most 300 characters" in empty_title.body
    retitled = await say(ill, anna, "Il pendolo di Foucault")
    assert "Title: Il pendolo di Foucault" in retitled.body
    sent, _ = await press(ill, anna, retitled, text="regional")
    assert "✅ Request sent" in sent.body
    (card,) = await staff_cards(ill)
    assert "Il pendolo di Foucault" in card.body
    assert "Author: Eco, Umberto" in card.body
    assert "From: regional network (free)" in card.body


async def test_G20_no_cost_without_consent_then_consent_makes_it_orderable(
    ill: IllWorld,
) -> None:
    rid = await record(ill, "Ulysses", author="Joyce, James")
    anna = await linked(ill, "0001")
    sent = await ask_from_record(ill, anna, rid, "ulysses", "international")
    assert "nothing is ordered, and you owe nothing, until you agree" in sent.body
    (card,) = await staff_cards(ill)
    assert "From: international (from abroad) (at the patron's cost)" in card.body
    assert "💶 To price" in card.body
    assert labels(card) == ["💶 Set cost", "❌ Not available"]  # nothing to order yet
    request_id = int(data_of(card)[0].split(":")[2])
    sara = ill.librarian
    emu = ill.emu
    # Ordering before consent is refused, even by a forged press.
    _, answer = await press(ill, sara, card, data=f"ills:ord:{request_id}", forge=True)
    assert "has not agreed to the cost" in str(answer.get("text"))
    assert await request_state(ill, request_id) == ("awaiting_consent", None)

    prompt, _ = await press(ill, sara, card, text="💶 Set cost")
    assert f"send the cost of request #{request_id}" in prompt.body
    assert prompt.thread_id == card.thread_id
    stopped = await emu.wait_for_reply(
        ill.staff_group.id,
        after=emu.send_command(
            sara.id, "cancel", chat_id=ill.staff_group.id, thread_id=card.thread_id
        ),
        thread_id=card.thread_id,
    )
    assert "All right, stopped." in stopped.body
    assert await request_state(ill, request_id) == ("awaiting_consent", None)
    prompt, _ = await press(ill, sara, card, text="💶 Set cost")
    wrong = await emu.wait_for_reply(
        ill.staff_group.id,
        after=emu.send_text(sara.id, "tanto", chat_id=ill.staff_group.id, thread_id=card.thread_id),
        thread_id=card.thread_id,
    )
    assert "not an amount in euros" in wrong.body
    done = await emu.wait_for_reply(
        ill.staff_group.id,
        after=emu.send_text(sara.id, "8,50", chat_id=ill.staff_group.id, thread_id=card.thread_id),
        thread_id=card.thread_id,
    )
    assert "€8.50" in done.body
    priced = await emu.wait_for(
        lambda: card_now(ill, card) if "€8.50" in card_now(ill, card).body else None,
        what="the card showing the cost",
    )
    assert "Cost €8.50: waiting for the patron's consent" in priced.body
    assert "🚚 Ordered" not in labels(priced)
    # A cost set by staff: still awaiting consent, nothing owed.
    assert await request_state(ill, request_id) == ("awaiting_consent", 850)
    summary = await patrons.summary(ill.bot.world.library, card="0001", now=now())
    assert (summary.status, summary.fines_owed_cents) == ("ok", 0)
    (notice,) = await notices(ill)
    assert "It costs €8.50, which you pay" in str(notice["text"])
    assert notice_data(notice)[:2] == [f"ill:ok:{request_id}:850", f"ill:no:{request_id}"]

    # The dispatcher delivers the question; /holds shows the request with the same answers.
    asked = await delivered(ill, anna, "It costs €8.50, which you pay")
    holds = await emu.wait_for_reply(anna.id, after=emu.send_command(anna.id, "holds"))
    assert "📨 Your request to other libraries:" in holds.body
    assert "Ulysses" in holds.body
    assert "From: international (from abroad)" in holds.body
    assert "💶 It costs €8.50: the library waits for your answer" in holds.body
    assert "✅ I agree to pay €8.50" in labels(holds)
    # She answers on the notice the dispatcher delivered.
    assert "Nothing is ordered, and you owe nothing, until you agree" in asked.body
    thanks, _ = await press(ill, anna, asked, text="✅ I agree to pay €8.50")
    assert thanks.message_id == asked.message_id
    assert "you agreed to pay €8.50" in thanks.body
    assert await request_state(ill, request_id) == ("requested", 850)
    agreed = await emu.wait_for(
        lambda: card_now(ill, card) if "agreed" in card_now(ill, card).body else None,
        what="the card showing the consent",
    )
    assert "📝 The patron agreed to pay €8.50: to order" in agreed.body
    ordered, _ = await press(ill, sara, agreed, text="🚚 Ordered")
    assert "🚚 Ordered" in ordered.body
    assert await request_state(ill, request_id) == ("ordered", 850)


async def test_G20_declining_the_cost_closes_the_request_and_owes_nothing(ill: IllWorld) -> None:
    library = ill.bot.world.library
    anna = await linked(ill, "0001")
    rid = await record(ill, "Don Quijote", author="Cervantes, Miguel de")
    await ask_from_record(ill, anna, rid, "quijote", "national")
    (card,) = await staff_cards(ill)
    request_id = int(data_of(card)[0].split(":")[2])
    notify = await _notify(ill)
    await interlibrary.set_cost(
        library, request_id=request_id, cost_cents=600, now=now(), notify=notify
    )
    holds = await ill.emu.wait_for_reply(anna.id, after=ill.emu.send_command(anna.id, "holds"))
    # An answer to an older price is not consent to this one.
    stale, _ = await press(ill, anna, holds, data=f"ill:ok:{request_id}:500", forge=True)
    assert "has changed since that message: it is now €6.00" in stale.body
    assert await request_state(ill, request_id) == ("awaiting_consent", 600)
    holds = await ill.emu.wait_for_reply(anna.id, after=ill.emu.send_command(anna.id, "holds"))
    closed, _ = await press(ill, anna, holds, text="✖ No thanks")
    assert "is closed, and you owe nothing" in closed.body
    assert await request_state(ill, request_id) == ("cancelled", 600)
    summary = await patrons.summary(library, card="0001", now=now())
    assert (summary.status, summary.fines_owed_cents) == ("ok", 0)
    shown = await ill.emu.wait_for(
        lambda: card_now(ill, card) if "Withdrawn" in card_now(ill, card).body else None,
        what="the card showing the refusal",
    )
    assert "✖ Withdrawn by the patron: closed" in shown.body
    assert labels(shown) == []


async def test_G20_withdrawing_after_consent_explains_and_charges_the_cost(ill: IllWorld) -> None:
    library = ill.bot.world.library
    anna = await linked(ill, "0001")
    made = await interlibrary.request(
        library, card="0001", scope=IllScope.NATIONAL, title="Il Milione", now=now()
    )
    free = await interlibrary.request(
        library, card="0001", scope=IllScope.PROVINCIAL, title="Vicino a casa", now=now()
    )
    await interlibrary.set_cost(
        library, request_id=made.request_id, cost_cents=1000, now=now(), notify=await _notify(ill)
    )
    await interlibrary.consent(library, card="0001", request_id=made.request_id, now=now())
    holds = await ill.emu.wait_for_reply(anna.id, after=ill.emu.send_command(anna.id, "holds"))
    assert "📨 Your 2 requests to other libraries:" in holds.body
    assert "⏳ You agreed to pay €10.00: the library will order it" in holds.body
    assert "⏳ Asked: the library will order it" in holds.body
    assert labels(holds)[:2] == ["✖ Withdraw 1", "✖ Withdraw 2"]
    # Withdrawing the free one owes nothing, and says so.
    ask, _ = await press(ill, anna, holds, data=f"ill:wd:{free.request_id}")
    assert "You owe nothing for it" in ask.body
    listed, _ = await press(ill, anna, ask, text="Yes, withdraw it")
    assert "🗑 Your request for «Vicino a casa» is withdrawn." in listed.body
    ask, _ = await press(ill, anna, listed, data=f"ill:wd:{made.request_id}")
    assert "the cost stays due even if you withdraw" in ask.body
    kept, _ = await press(ill, anna, ask, text="No, keep it")
    assert "Il Milione" in kept.body
    ask, _ = await press(ill, anna, kept, data=f"ill:wd:{made.request_id}")
    done, _ = await press(ill, anna, ask, text="Yes, withdraw it")
    assert "The agreed cost, €10.00, is still due" in done.body
    summary = await patrons.summary(library, card="0001", now=now())
    assert (summary.status, summary.fines_owed_cents) == ("excluded", 1000)


async def test_staff_buttons_refuse_who_is_not_staff_and_consent_refuses_another_patron(
    ill: IllWorld,
) -> None:
    library = ill.bot.world.library
    emu = ill.emu
    anna = await linked(ill, "0001")
    rid = await record(ill, "Il deserto dei Tartari", author="Buzzati, Dino")
    await ask_from_record(ill, anna, rid, "deserto tartari", "national")
    (card,) = await staff_cards(ill)
    request_id = int(data_of(card)[0].split(":")[2])
    # Someone who left the staff group presses the card's buttons.
    former = emu.add_user("Ex", language_code="en", started=True)
    emu.set_member(ill.staff_group.id, former.id, "left", announce=False)
    _, answer = await press(ill, former, card, text="❌ Not available")
    assert answer.get("show_alert") is True
    assert "Only the library's staff" in str(answer.get("text"))
    _, answer = await press(ill, former, card, text="💶 Set cost")
    assert "Only the library's staff" in str(answer.get("text"))
    # Told in her own language: an Italian former member reads Italian in an English library.
    italian = emu.add_user("Ex2", language_code="it", started=True)
    emu.set_member(ill.staff_group.id, italian.id, "left", announce=False)
    _, answer = await press(ill, italian, card, text="❌ Not available")
    assert answer.get("text") == "Solo il personale della biblioteca può farlo."
    # The patron forging a staff button in her own chat is refused too.
    holds = await emu.wait_for_reply(anna.id, after=emu.send_command(anna.id, "holds"))
    _, answer = await press(ill, anna, holds, data=f"ills:na:{request_id}", forge=True)
    assert "Only the library's staff" in str(answer.get("text"))
    assert await request_state(ill, request_id) == ("awaiting_consent", None)
    # Another patron cannot agree to Anna's cost.
    await interlibrary.set_cost(
        library, request_id=request_id, cost_cents=700, now=now(), notify=await _notify(ill)
    )
    marco = await linked(ill, "0002", "Marco")
    theirs = await emu.wait_for_reply(marco.id, after=emu.send_command(marco.id, "holds"))
    refused, _ = await press(ill, marco, theirs, data=f"ill:ok:{request_id}:700", forge=True)
    assert "not among your open requests" in refused.body
    assert await request_state(ill, request_id) == ("awaiting_consent", 700)
    # Staff still can: not available closes it and tells Anna.
    closed, _ = await press(ill, ill.librarian, card, text="❌ Not available")
    assert "❌ Not available: closed" in closed.body
    assert "could not be found in the national network" in str((await notices(ill))[-1]["text"])
    await delivered(ill, anna, "could not be found in the national network")


async def _notify(ill: IllWorld) -> interlibrary.Notify:
    """The bot's own renderer of patron notices (so the rows read as the bot writes them)."""
    from bot.handlers.context import BotContext
    from bot.handlers.interlibrary_staff import patron_notifier

    context = BotContext(ill.bot.app)
    return await patron_notifier(context)


async def test_a_card_telegram_refuses_now_is_queued_for_the_staff_group(ill: IllWorld) -> None:
    emu = ill.emu
    anna = await linked(ill, "0001")
    # Markup-like characters in a title (as some catalogs have them) must not stop the card:
    # the outbox sends HTML, so the queued card's text is escaped.
    rid = await record(ill, "Il fu Mattia Pascal <romanzo> & altro", author="Pirandello, Luigi")
    emu.inject_fault("server_error", method="sendMessage", chat_id=ill.staff_group.id)
    sent = await ask_from_record(ill, anna, rid, "mattia pascal", "provincial")
    assert "✅ Request sent" in sent.body  # the patron's request is taken all the same
    rows = await ill.bot.world.store.reader.execute_fetchall(
        "SELECT chat_id, payload FROM outbox WHERE kind = 'ill_staff_card'"
    )
    ((chat_id, payload),) = [(int(r[0]), json.loads(r[1])) for r in rows]
    assert chat_id == ill.staff_group.id
    topics = [t for t in emu.topics(ill.staff_group.id) if t.name == "Interlibrary loan"]
    assert payload["thread_id"] == topics[0].thread_id
    assert "Il fu Mattia Pascal" in payload["text"]
    (request,) = await interlibrary.requests(ill.bot.world.library, card="0001")
    assert [b["callback_data"] for b in payload["buttons"][0]] == [
        f"ills:ord:{request.request_id}",
        f"ills:na:{request.request_id}",
    ]
    # The dispatcher delivers it to the topic; staff act on it, and the patron's withdrawal
    # later edits it like any card.
    (card,) = await staff_cards(ill)
    assert "Il fu Mattia Pascal <romanzo> & altro" in card.body
    ordered, _ = await press(ill, ill.librarian, card, text="🚚 Ordered")
    assert "🚚 Ordered" in ordered.body
    assert "Il fu Mattia Pascal <romanzo> & altro" in ordered.body
    await delivered(ill, anna, "has been ordered")  # before /holds, so the replies do not cross
    holds = await emu.wait_for_reply(anna.id, after=emu.send_command(anna.id, "holds"))
    ask, _ = await press(ill, anna, holds, data=f"ill:wd:{request.request_id}")
    await press(ill, anna, ask, text="Yes, withdraw it")
    withdrawn = await emu.wait_for(
        lambda: card_now(ill, card) if "Withdrawn" in card_now(ill, card).body else None,
        what="the queued card showing the withdrawal",
    )
    assert "✖ Withdrawn by the patron: closed" in withdrawn.body


async def test_a_staff_group_that_is_not_a_forum_gets_the_card_in_its_chat(ill: IllWorld) -> None:
    emu = ill.emu
    ill.staff_group.is_forum = False  # the administrators never turned topics on
    anna = await linked(ill, "0001")
    rid = await record(ill, "Lessico famigliare", author="Ginzburg, Natalia")
    await ask_from_record(ill, anna, rid, "lessico famigliare", "provincial")
    card = await emu.wait_for(
        lambda: next(
            (m for m in emu.bot_messages(ill.staff_group.id) if "Interlibrary request #" in m.body),
            None,
        ),
        what="the card in the group's chat",
    )
    assert card.thread_id is None
    assert emu.topics(ill.staff_group.id) == []
    ordered, _ = await press(ill, ill.librarian, card, text="🚚 Ordered")
    assert "🚚 Ordered" in ordered.body


async def test_the_same_button_pressed_twice_at_once_makes_one_request(ill: IllWorld) -> None:
    """A double tap: two presses of "provincial network" handed to the application at the
    same time (``process_update``, concurrently, as a concurrent update processor would), then
    a third press later, as a patron who tapped again. One request, one staff card."""
    emu, app = ill.emu, ill.bot.app
    rid = await record(ill, "La coscienza di Zeno", author="Svevo, Italo")
    anna = await linked(ill, "0001")
    results = await say(ill, anna, "coscienza di zeno")
    page, _ = await press(ill, anna, results, data=f"rec:{rid}")
    draft, _ = await press(ill, anna, page, text="📨 Ask another library network")
    assert app.updater is not None
    await app.updater.stop()
    try:
        queries = [emu.press_button(anna.id, anna.id, draft.message_id, text="provincial")]
        queries.append(emu.press_button(anna.id, anna.id, draft.message_id, text="provincial"))
        updates = [Update.de_json(data, app.bot) for data in emu.updates.take_pending()]
        assert len(updates) == 2
        await asyncio.gather(*(app.process_update(update) for update in updates))
    finally:
        await app.updater.start_polling(poll_interval=0, timeout=1)
    for query in queries:
        await emu.wait_for_callback_answer(query)
    (request,) = await interlibrary.requests(ill.bot.world.library, card="0001")
    assert request.title == "La coscienza di Zeno"
    (card,) = await staff_cards(ill)
    assert f"#{request.request_id}" in card.body
    shown = card_now(ill, draft)
    assert "✅ Request sent" in shown.body or "already asked for this title" in shown.body
    # Pressed again afterwards (the old message, or a stale client): told, nothing new.
    again, _ = await press(ill, anna, draft, data=f"ill:sc:provincial:{rid}", forge=True)
    assert "You have already asked for this title" in again.body
    assert "📌 My holds" in labels(again)
    assert len(await interlibrary.requests(ill.bot.world.library, card="0001")) == 1
    rows = await ill.bot.world.store.reader.execute_fetchall("SELECT count(*) FROM ill_requests")
    assert list(rows) == [(1,)]
    assert len(await staff_cards(ill)) == 1


async def test_two_requests_at_the_same_instant_make_one_topic(ill: IllWorld) -> None:
    """Two patrons' requests handled at once, while Telegram is slow to create the topic: both
    cards land in the one "Interlibrary loan" topic."""
    emu, app = ill.emu, ill.bot.app
    rid = await record(ill, "Il barone rampante", author="Calvino, Italo")
    drafts = []
    for card, name in (("0001", "Anna"), ("0002", "Marco")):
        user = await linked(ill, card, name)
        results = await say(ill, user, "barone rampante")
        page, _ = await press(ill, user, results, data=f"rec:{rid}")
        draft, _ = await press(ill, user, page, text="📨 Ask another library network")
        drafts.append((user, draft))
    emu.inject_fault("delay", method="createForumTopic", delay=0.5)
    assert app.updater is not None
    await app.updater.stop()
    try:
        for user, draft in drafts:
            emu.press_button(user.id, user.id, draft.message_id, text="provincial")
        updates = [Update.de_json(data, app.bot) for data in emu.updates.take_pending()]
        await asyncio.gather(*(app.process_update(update) for update in updates))
    finally:
        await app.updater.start_polling(poll_interval=0, timeout=1)
    cards = await staff_cards(ill, 2)
    topics = [t for t in emu.topics(ill.staff_group.id) if t.name == "Interlibrary loan"]
    assert len(topics) == 1
    assert {card.thread_id for card in cards} == {topics[0].thread_id}


def ill_topics(ill: IllWorld) -> list[int]:
    """The live "Interlibrary loan" topics' thread ids."""
    return [
        t.thread_id for t in ill.emu.topics(ill.staff_group.id) if t.name == "Interlibrary loan"
    ]


async def test_a_topic_deleted_by_hand_is_made_again(ill: IllWorld) -> None:
    """A librarian deletes the "Interlibrary loan" topic: the next card makes it again (not
    lost in the general chat), and later cards go there too."""
    emu = ill.emu
    anna = await linked(ill, "0001")
    first = await record(ill, "Il visconte dimezzato", author="Calvino, Italo")
    second = await record(ill, "Il cavaliere inesistente", author="Calvino, Italo")
    await ask_from_record(ill, anna, first, "visconte dimezzato", "provincial")
    (card,) = await staff_cards(ill)
    [old] = ill_topics(ill)
    assert card.thread_id == old
    emu.delete_topic(ill.staff_group.id, old)
    await ask_from_record(ill, anna, second, "cavaliere inesistente", "provincial")
    (again,) = await staff_cards(ill)
    [new] = ill_topics(ill)
    assert new != old
    assert again.thread_id == new
    assert "Il cavaliere inesistente" in again.body
    ordered, _ = await press(ill, ill.librarian, again, text="🚚 Ordered")
    assert "🚚 Ordered" in ordered.body


async def test_a_queued_card_whose_topic_is_deleted_goes_to_the_topic_made_again(
    ill: IllWorld,
) -> None:
    """The card waits in the outbox (Telegram failed when the request was made) and a
    librarian deletes its topic just as the dispatcher sends it: the topic is made again and
    the card posted there, not recorded undeliverable — the request is never lost to staff."""
    emu = ill.emu
    group = ill.staff_group.id
    anna = await linked(ill, "0001")
    rid = await record(ill, "Uno, nessuno e centomila", author="Pirandello, Luigi")
    emu.inject_fault("server_error", method="sendMessage", chat_id=group, times=1)
    held = emu.inject_fault("delay", method="sendMessage", chat_id=group, times=1, delay=1.5)
    sent = await ask_from_record(ill, anna, rid, "nessuno e centomila", "provincial")
    assert "✅ Request sent" in sent.body
    [old] = ill_topics(ill)
    await emu.wait_for(lambda: held.hits == 1, what="the dispatcher sending the queued card")
    emu.delete_topic(group, old)

    (card,) = await staff_cards(ill)
    [new] = ill_topics(ill)
    assert new != old
    assert card.thread_id == new
    assert "Uno, nessuno e centomila" in card.body
    refused = [c for c in emu.calls_to("sendMessage") if c.status == 400]
    assert [c.description for c in refused] == ["Bad Request: message thread not found"]
    assert len(emu.calls_to("createForumTopic")) == 2
    reader = ill.bot.world.store.reader
    sql = "SELECT state, json_extract(payload, '$.thread_id') FROM outbox WHERE kind = ?"
    for _ in range(100):  # the dispatcher records the send just after the card is in the chat
        if list(await reader.execute_fetchall(sql, ("ill_staff_card",))) == [("sent", new)]:
            break
        await asyncio.sleep(0.05)
    assert list(await reader.execute_fetchall(sql, ("ill_staff_card",))) == [("sent", new)]
    ordered, _ = await press(ill, ill.librarian, card, text="🚚 Ordered")
    assert ordered.message_id == card.message_id  # staff act on it as on any card
    await delivered(ill, anna, "has been ordered")


# -- leaving the title/author dialogue -------------------------------------------------------


async def waiting_for_a_title(ill: IllWorld, anna: User) -> ChatMessage:
    """A search that found nothing, its draft, and "Change title": the bot waits for text."""
    nothing = await say(ill, anna, "il pendolo di foucault")
    draft, _ = await press(ill, anna, nothing, text="📨 Ask another library network")
    asked, _ = await press(ill, anna, draft, text="✏️ Change title")
    assert "Send me the title" in asked.body
    return draft


async def test_another_command_ends_the_title_dialogue_and_does_its_work(ill: IllWorld) -> None:
    """She leaves with /search: the command answers, and her next words are searched, not
    taken for the request's title."""
    rid = await record(ill, "Il nome della rosa", author="Eco, Umberto")
    await copy(ill, rid, "R1")
    anna = await linked(ill, "0001")
    await waiting_for_a_title(ill, anna)
    asked = await ill.emu.wait_for_reply(anna.id, after=ill.emu.send_command(anna.id, "search"))
    assert "What are you looking for?" in asked.body
    found = await say(ill, anna, "nome della rosa")
    assert "Il nome della rosa" in found.body
    assert "Title: nome della rosa" not in found.body
    # A menu command with its own argument as well.
    await waiting_for_a_title(ill, anna)
    found = await ill.emu.wait_for_reply(
        anna.id, after=ill.emu.send_command(anna.id, "search", "rosa")
    )
    assert "Il nome della rosa" in found.body
    again = await say(ill, anna, "nome rosa")
    assert "Il nome della rosa" in again.body
    assert "📨 Ask another library network for this title" not in again.body


async def test_another_button_ends_the_title_dialogue_and_does_its_work(ill: IllWorld) -> None:
    anna = await linked(ill, "0001")
    draft = await waiting_for_a_title(ill, anna)
    searching, _ = await press(ill, anna, draft, text="🔎 Search")
    assert "What are you looking for?" in searching.body
    search = await say(ill, anna, "qwzxv")
    assert "I found nothing for «qwzxv»" in search.body
    # "Change author" while it waits for the title: it now waits for the author.
    draft = await waiting_for_a_title(ill, anna)
    asked, _ = await press(ill, anna, draft, text="✏️ Change author")
    assert "author's name" in asked.body
    edited = await say(ill, anna, "Eco, Umberto")
    assert "Author: Eco, Umberto" in edited.body
    assert "Title: il pendolo di foucault" in edited.body


async def test_the_title_dialogue_left_waiting_says_it_stopped(ill: IllWorld) -> None:
    """Ten minutes without a title: the dialogue ends and says so, with the request as it
    stands (the timeout is shortened here: PTB's job queue runs on the real clock)."""
    [dialogue] = [
        handler
        for handler in ill.bot.app.handlers[0]
        if isinstance(handler, ConversationHandler) and handler.name == DIALOGUE
    ]
    dialogue._conversation_timeout = 0.5  # PTB has no public setter
    emu = ill.emu
    anna = await linked(ill, "0001")
    await waiting_for_a_title(ill, anna)
    asked = emu.transcript(anna.id)[-1]
    stopped = await emu.wait_for_reply(anna.id, after=asked, within=5)
    assert "I have stopped waiting for the title or the author" in stopped.body
    assert "Title: il pendolo di foucault" in stopped.body
    assert "ill:ed:t" in data_of(stopped)
    search = await say(ill, anna, "qwzxv")
    assert "I found nothing for «qwzxv»" in search.body
