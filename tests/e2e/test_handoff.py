"""Talking to a librarian, end to end: the real bot, the emulator's forum staff group, a store.

The patron writes in her private chat; staff answer in the conversation's topic of the staff
forum group (``[telegram] staff_chat_id``). The bot acts at the real current time, so the
routed branch may be open or closed while a test runs: tests look for the messages they expect
by their content, never "the next message", except where the branch's hours are set for it.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from asyncio.subprocess import PIPE
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from telegram import Update

from bot.app import build_application
from bot.handlers import handoff as handoff_handlers
from bot.handlers.handoff_relay import status_name
from bot.i18n import translator
from bot.sandbox.view import ChatMessage
from bot.sandbox.world import Topic, User
from bot.services import handoff, holds, identity, loans, patrons
from bot.settings import load_settings
from db import calendar as calendar_repo
from tests.e2e import test_search_and_holds as shelf
from tests.e2e.conftest import BotWorld

PIN = "2468"
STAFF = translator("it")  # the staff group reads the library's default language


async def linked(bot: BotWorld, card: str, *, language: str = "en", name: str = "Anna") -> User:
    await bot.patron_with_pin(card, PIN)
    user = bot.emulator.add_user(name, language_code=language, started=True)
    library = bot.world.library
    when = datetime.now(UTC)
    await identity.link_with_pin(
        library, telegram_user_id=user.id, chat_id=user.id, card=card, pin=PIN, now=when
    )
    await identity.choose_language(library, telegram_user_id=user.id, language=language, now=when)
    return user


async def bot_says(
    bot: BotWorld,
    chat_id: int,
    match: str | Callable[[ChatMessage], bool],
    *,
    after: int | ChatMessage = 0,
    thread_id: int | None = None,
) -> ChatMessage:
    """The first bot message after ``after`` containing ``match`` (or satisfying it)."""
    emu = bot.emulator
    floor = after.message_id if isinstance(after, ChatMessage) else after

    def ok(message: ChatMessage) -> bool:
        return match(message) if callable(match) else match in message.body

    def found() -> ChatMessage | None:
        return next(
            (m for m in emu.bot_messages(chat_id, thread_id) if m.message_id > floor and ok(m)),
            None,
        )

    return await emu.wait_for(found, what=f"a bot message {match!r} in {chat_id}")


async def start_chat(bot: BotWorld, user: User, theme: str = "General") -> ChatMessage:
    emu = bot.emulator
    sent = emu.send_command(user.id, "librarian")
    themes = await bot_says(bot, user.id, lambda m: bool(m.buttons), after=sent)
    emu.press_button(user.id, user.id, themes.message_id, text=theme)
    return await bot_says(bot, user.id, "Subject:", after=sent)


def staff_chat(bot: BotWorld) -> int:
    assert bot.staff_chat_id is not None
    return bot.staff_chat_id


def topics(bot: BotWorld) -> list[Topic]:
    return bot.emulator.topics(staff_chat(bot))


async def copied(bot: BotWorld, text: str, thread_id: int | None = None) -> ChatMessage:
    """The copy of a patron's message in the staff group."""
    return await bot_says(bot, staff_chat(bot), lambda m: m.body == text, thread_id=thread_id)


async def music_at_vimodrone(bot: BotWorld) -> None:
    await handoff.set_themes(
        bot.world.library,
        [
            handoff.Theme("general", None, {"en": "General", "it": "Generale"}),
            handoff.Theme("music", "VIM", {"en": "Music", "it": "Musica"}),
        ],
        now=datetime.now(UTC),
    )


async def test_question_reaches_the_themes_branch_and_the_reply_comes_back(
    staff_bot: BotWorld,
) -> None:
    emu = staff_bot.emulator
    await music_at_vimodrone(staff_bot)
    anna = await linked(staff_bot, "0001234")
    opened = await start_chat(staff_bot, anna, "Music")
    assert "Vimodrone" in opened.body  # N7: music questions go to the music pole

    emu.send_text(anna.id, "Do you have the score of the Goldberg Variations?")
    copy = await copied(staff_bot, "Do you have the score of the Goldberg Variations?")

    [topic] = topics(staff_bot)
    assert topic.thread_id == copy.thread_id
    assert "VIM" in topic.name
    assert "0001234" in topic.name
    assert "Music" in topic.name or "Musica" in topic.name
    header = emu.transcript(staff_chat(staff_bot), topic.thread_id)[1]
    assert "0001234" in header.body
    assert "Anna 0001234" in header.body  # the patron's name from the store
    assert "Brugherio" in header.body  # her home library

    giulia = staff_bot.staff[0]
    emu.send_text(
        giulia.id, "Yes, at Vimodrone!", chat_id=staff_chat(staff_bot), thread_id=topic.thread_id
    )
    answer = await bot_says(staff_bot, anna.id, "Yes, at Vimodrone!")
    assert answer.body.startswith("📚 Vimodrone")  # signed as the library, not as Giulia
    assert "Giulia" not in answer.body


async def test_edits_are_relayed_both_ways(staff_bot: BotWorld) -> None:
    emu = staff_bot.emulator
    anna = await linked(staff_bot, "0001234")
    await start_chat(staff_bot, anna)
    question = emu.send_text(anna.id, "Is the library open on Sunday?")
    copy = await copied(staff_bot, "Is the library open on Sunday?")

    emu.edit_text(anna.id, anna.id, question.message_id, "Is the library open on Saturday?")
    await emu.wait_for(
        lambda: (
            emu.message(staff_chat(staff_bot), copy.message_id).text
            == "Is the library open on Saturday?"
        ),
        what="the patron's edit in the topic",
    )

    giulia = staff_bot.staff[0]
    reply = emu.send_text(
        giulia.id, "Yes, 9-12.", chat_id=staff_chat(staff_bot), thread_id=copy.thread_id
    )
    answer = await bot_says(staff_bot, anna.id, "Yes, 9-12.")
    emu.edit_text(giulia.id, staff_chat(staff_bot), reply.message_id, "Yes, 9-12.30.")
    await emu.wait_for(
        lambda: "Yes, 9-12.30." in emu.message(anna.id, answer.message_id).body,
        what="the librarian's edit in the patron's chat",
    )


async def test_a_burst_of_messages_makes_one_topic(staff_bot: BotWorld) -> None:
    emu = staff_bot.emulator
    anna = await linked(staff_bot, "0001234")
    await start_chat(staff_bot, anna)
    texts = [f"part {n} of my question" for n in range(5)]
    for text in texts:  # all queued before the bot reads any of them
        emu.send_text(anna.id, text)
    for text in texts:
        await copied(staff_bot, text)
    assert len(topics(staff_bot)) == 1
    assert len(emu.calls_to("createForumTopic")) == 1
    [topic] = topics(staff_bot)
    bodies = [m.body for m in emu.transcript(staff_chat(staff_bot), topic.thread_id)]
    assert [b for b in bodies if b.startswith("part ")] == texts  # in order


async def test_a_deleted_topic_is_replaced_and_nothing_is_lost(staff_bot: BotWorld) -> None:
    emu = staff_bot.emulator
    anna = await linked(staff_bot, "0001234")
    await start_chat(staff_bot, anna)
    emu.send_text(anna.id, "first question")
    first = await copied(staff_bot, "first question")
    assert first.thread_id is not None
    emu.delete_topic(staff_chat(staff_bot), first.thread_id)

    emu.send_text(anna.id, "are you there?")
    again = await copied(staff_bot, "are you there?")
    assert again.thread_id != first.thread_id
    [live] = topics(staff_bot)
    assert live.thread_id == again.thread_id
    header = emu.transcript(staff_chat(staff_bot), again.thread_id)[1]
    assert "t.me/c/" in str(header.api.get("entities"))  # a link to the earlier topic

    # Closed by hand in Telegram (not with /close): the next message opens a new topic too.
    head = staff_bot.staff[1]
    emu.close_topic(staff_chat(staff_bot), again.thread_id, user_id=head.id)
    await emu.wait_for(lambda: len(emu.calls_to("getUpdates")) > 0 and True, what="updates flowing")
    emu.send_text(anna.id, "hello?")
    third = await copied(staff_bot, "hello?")
    assert third.thread_id not in (first.thread_id, again.thread_id)

    exported = await handoff.export(staff_bot.world.library, card="0001234")
    texts = [m["text"] for c in exported for m in c["messages"] if m["direction"] == "patron"]
    assert texts == ["first question", "are you there?", "hello?"]


async def test_close_rate_and_reopen(staff_bot: BotWorld) -> None:
    emu = staff_bot.emulator
    anna = await linked(staff_bot, "0001234")
    await start_chat(staff_bot, anna)
    emu.send_text(anna.id, "thanks for the help")
    copy = await copied(staff_bot, "thanks for the help")
    giulia = staff_bot.staff[0]

    emu.send_command(giulia.id, "close", chat_id=staff_chat(staff_bot), thread_id=copy.thread_id)
    closed = await bot_says(staff_bot, anna.id, "closed this conversation")
    [topic] = topics(staff_bot)
    await emu.wait_for(lambda: topic.closed, what="the topic closed")

    emu.press_button(anna.id, anna.id, closed.message_id, text="4⭐")
    await bot_says(staff_bot, anna.id, "4 out of 5")
    await bot_says(staff_bot, staff_chat(staff_bot), "4/5", thread_id=topic.thread_id)
    [conversation] = await handoff.export(staff_bot.world.library, card="0001234")
    assert conversation["rating"] == 4

    # A new message within the reopen window goes on in the same topic, reopened.
    emu.send_text(anna.id, "one more thing")
    more = await copied(staff_bot, "one more thing")
    assert more.thread_id == topic.thread_id
    await emu.wait_for(lambda: not topic.closed, what="the topic reopened")
    assert len(topics(staff_bot)) == 1


async def test_out_of_hours_the_patron_is_told_when_staff_will_answer(
    staff_bot: BotWorld,
) -> None:
    emu = staff_bot.emulator
    await music_at_vimodrone(staff_bot)
    library = staff_bot.world.library
    today = datetime.now(library.zone).date()
    async with library.store.transaction() as conn:
        await calendar_repo.add_closure(
            conn, staff_bot.world.branches["VIM"], today, today + timedelta(days=2), "works"
        )
    anna = await linked(staff_bot, "0001234")
    await start_chat(staff_bot, anna, "Music")
    emu.send_text(anna.id, "a question on Sunday night")
    notice = await bot_says(staff_bot, anna.id, "is closed now")
    await copied(staff_bot, "a question on Sunday night")  # kept and relayed all the same

    opens = await handoff.staff_answer_from(library, "VIM", datetime.now(UTC))
    assert opens is not None
    assert opens.astimezone(library.zone).date() > today + timedelta(days=2)
    t = translator("en")
    assert t.format_date(opens, "full") in notice.body
    assert "Vimodrone" in notice.body

    # Told once per closed stretch, not for every message.
    emu.send_text(anna.id, "and another")
    await copied(staff_bot, "and another")
    notices = [m for m in emu.bot_messages(anna.id) if "is closed now" in m.body]
    assert len(notices) == 1


async def test_notes_stay_in_the_group_and_files_go_both_ways(staff_bot: BotWorld) -> None:
    emu = staff_bot.emulator
    anna = await linked(staff_bot, "0001234")
    await start_chat(staff_bot, anna)
    emu.send_photo(anna.id, b"\x89PNG fake photo", caption="my card is damaged")
    photo = await copied(staff_bot, "my card is damaged")
    assert "photo" in photo.api
    emu.send_voice(anna.id, b"OggS voice", duration=3)
    await bot_says(
        staff_bot, staff_chat(staff_bot), lambda m: "voice" in m.api, thread_id=photo.thread_id
    )
    emu.send_sticker(anna.id, b"RIFF sticker", emoji="👍")
    await bot_says(
        staff_bot, staff_chat(staff_bot), lambda m: "sticker" in m.api, thread_id=photo.thread_id
    )
    emu.send_document(anna.id, b"%PDF receipt", file_name="ricevuta.pdf", caption="my receipt")
    receipt = await copied(staff_bot, "my receipt")
    assert "document" in receipt.api
    assert receipt.thread_id == photo.thread_id

    giulia = staff_bot.staff[0]
    where: dict[str, Any] = {"chat_id": staff_chat(staff_bot), "thread_id": photo.thread_id}
    emu.send_text(giulia.id, "#note she lost it last year too", **where)
    emu.send_document(
        giulia.id, b"%PDF form", file_name="modulo.pdf", caption="Fill this in", **where
    )
    document = await bot_says(staff_bot, anna.id, "Fill this in")
    assert "document" in document.api
    assert document.body.startswith("📚 Brugherio")
    emu.send_sticker(giulia.id, b"RIFF sticker 2", emoji="🙂", **where)
    await bot_says(staff_bot, anna.id, lambda m: "sticker" in m.api)
    emu.send_photo(giulia.id, b"\x89PNG the new card", caption="Your new card", **where)
    staff_photo = await bot_says(staff_bot, anna.id, "Your new card")
    assert "photo" in staff_photo.api
    assert staff_photo.body.startswith("📚 Brugherio")
    emu.send_voice(giulia.id, b"OggS answer", duration=4, **where)
    staff_voice = await bot_says(staff_bot, anna.id, lambda m: "voice" in m.api)
    assert staff_voice.body.startswith("📚 Brugherio")  # signed in its caption
    assert not [m for m in emu.bot_messages(anna.id) if "lost it" in m.body]

    exported = await handoff.export(staff_bot.world.library, card="0001234")
    directions = [(m["direction"], m["type"]) for m in exported[0]["messages"]]
    assert ("note", "text") in directions
    assert ("staff", "document") in directions
    assert ("patron", "voice") in directions
    assert ("patron", "document") in directions
    assert ("staff", "photo") in directions
    assert ("staff", "voice") in directions


async def test_canned_replies_in_the_patrons_language(staff_bot: BotWorld) -> None:
    emu = staff_bot.emulator
    anna = await linked(staff_bot, "0001234", language="en")
    await start_chat(staff_bot, anna)
    emu.send_text(anna.id, "hi")
    copy = await copied(staff_bot, "hi")
    giulia = staff_bot.staff[0]
    where: dict[str, Any] = {"chat_id": staff_chat(staff_bot), "thread_id": copy.thread_id}

    listing = emu.send_command(giulia.id, "canned", **where)
    menu = await bot_says(staff_bot, staff_chat(staff_bot), "hello", after=listing)
    assert "wait" in menu.body

    emu.send_command(giulia.id, "canned", "hello", **where)
    sent = await bot_says(staff_bot, anna.id, "Hello! I am a librarian")
    assert sent.body.startswith("📚")

    unknown = emu.send_command(giulia.id, "canned", "nope", **where)
    await bot_says(staff_bot, staff_chat(staff_bot), "nope", after=unknown)


async def test_ban_and_unban(staff_bot: BotWorld) -> None:
    emu = staff_bot.emulator
    anna = await linked(staff_bot, "0001234")
    await start_chat(staff_bot, anna)
    emu.send_text(anna.id, "spam spam")
    copy = await copied(staff_bot, "spam spam")
    head = staff_bot.staff[1]
    where: dict[str, Any] = {"chat_id": staff_chat(staff_bot), "thread_id": copy.thread_id}

    emu.send_command(head.id, "ban", "abuse", **where)
    await bot_says(staff_bot, anna.id, "cannot write to the librarians")
    asked = emu.send_command(anna.id, "librarian")
    refused = await bot_says(staff_bot, anna.id, "cannot write", after=asked)
    assert not refused.buttons
    emu.send_text(anna.id, "more spam")
    await bot_says(staff_bot, anna.id, lambda m: True, after=asked.message_id + 1)
    assert not [m for m in emu.bot_messages(staff_chat(staff_bot)) if m.body == "more spam"]

    emu.send_command(head.id, "unban", **where)
    await bot_says(staff_bot, anna.id, "write to the librarians again")
    await start_chat(staff_bot, anna)


async def test_a_flood_is_refused_in_words(staff_bot: BotWorld) -> None:
    emu = staff_bot.emulator
    anna = await linked(staff_bot, "0001234")
    await start_chat(staff_bot, anna)
    # Twenty a minute in production; five here, so that the staff group's own Bot API limit
    # (20 messages a minute in a group, which the rate limiter keeps) does not slow the test.
    staff_bot.app.bot_data.handoff.limit = 5
    for n in range(7):
        emu.send_text(anna.id, f"flood {n}")
    warning = await bot_says(staff_bot, anna.id, "very fast")
    await copied(staff_bot, "flood 4")
    last = emu.send_text(anna.id, "after the warning")
    emu.send_command(anna.id, "help")
    await bot_says(staff_bot, anna.id, "Here is what I can do", after=last)
    assert not [m for m in emu.bot_messages(staff_chat(staff_bot)) if m.body.startswith("flood 5")]
    assert not [m for m in emu.bot_messages(staff_chat(staff_bot)) if m.body == "after the warning"]
    warnings = [m for m in emu.bot_messages(anna.id) if "very fast" in m.body]
    assert warnings == [warning]  # told once, not for every message


async def test_staff_commands_need_staff(staff_bot: BotWorld) -> None:
    emu = staff_bot.emulator
    anna = await linked(staff_bot, "0001234")
    await start_chat(staff_bot, anna)
    emu.send_text(anna.id, "question")
    copy = await copied(staff_bot, "question")
    intruder = emu.add_user("Mallory", language_code="en")
    emu.set_member(staff_chat(staff_bot), intruder.id, "restricted")
    sent = emu.send_command(
        intruder.id, "close", chat_id=staff_chat(staff_bot), thread_id=copy.thread_id
    )
    await bot_says(staff_bot, staff_chat(staff_bot), "staff", after=sent)
    [conversation] = await handoff.export(staff_bot.world.library, card="0001234")
    assert conversation["state"] == "open"
    # A restricted member's message in the topic is not relayed to the patron either.
    emu.send_text(
        intruder.id, "give me her address", chat_id=staff_chat(staff_bot), thread_id=copy.thread_id
    )
    emu.send_text(
        staff_bot.staff[0].id,
        "real answer",
        chat_id=staff_chat(staff_bot),
        thread_id=copy.thread_id,
    )
    await bot_says(staff_bot, anna.id, "real answer")
    assert not [m for m in emu.bot_messages(anna.id) if "address" in m.body]


async def test_the_patron_ends_the_chat_and_searches_again(staff_bot: BotWorld) -> None:
    emu = staff_bot.emulator
    anna = await linked(staff_bot, "0001234")
    await start_chat(staff_bot, anna)
    emu.send_text(anna.id, "nothing more")
    copy = await copied(staff_bot, "nothing more")
    ended = emu.send_command(anna.id, "cancel")
    await bot_says(staff_bot, anna.id, "Chat ended", after=ended)
    ended_note = STAFF.gettext("🔚 The patron ended the conversation.")
    await bot_says(staff_bot, staff_chat(staff_bot), ended_note, thread_id=copy.thread_id)
    search = emu.send_text(anna.id, "rosa")
    await bot_says(staff_bot, anna.id, lambda m: True, after=search)
    assert not [m for m in emu.bot_messages(staff_chat(staff_bot)) if m.body == "rosa"]


async def test_help_offers_a_librarian_and_unlinked_users_can_ask(staff_bot: BotWorld) -> None:
    emu = staff_bot.emulator
    bruno = emu.add_user("Bruno", language_code="en", started=True)
    asked = emu.send_command(bruno.id, "help")
    help_screen = await bot_says(staff_bot, bruno.id, lambda m: bool(m.buttons), after=asked)
    emu.press_button(bruno.id, bruno.id, help_screen.message_id, text="librarian")
    themes = await bot_says(staff_bot, bruno.id, "Choose a subject", after=asked)
    emu.press_button(bruno.id, bruno.id, themes.message_id, text="General")
    await bot_says(staff_bot, bruno.id, "Subject:", after=asked)
    emu.send_text(bruno.id, "how do I get a card?")
    copy = await copied(staff_bot, "how do I get a card?")
    header = emu.transcript(staff_chat(staff_bot), copy.thread_id)[1]
    assert STAFF.gettext("Not linked to a library card.") in header.body
    assert "Bruno" in header.body


async def bibliobot(bot: BotWorld, *args: str) -> tuple[int, str]:
    """``bibliobot ARGS`` as a separate process on the running bot's store."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("BIBLIOBOT_")}
    env["BIBLIOBOT_DATABASE__PATH"] = str(bot.world.store.path)
    env["BIBLIOBOT_LIBRARY__POLICY"] = "cbnem"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, env=env, stdout=PIPE, stderr=PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert b"Traceback" not in err, err
    assert process.returncode is not None
    return process.returncode, out.decode()


async def test_export_from_the_command_line(staff_bot: BotWorld) -> None:
    emu = staff_bot.emulator
    anna = await linked(staff_bot, "0001234")
    await start_chat(staff_bot, anna)
    emu.send_text(anna.id, "export me")
    copy = await copied(staff_bot, "export me")
    emu.send_text(
        staff_bot.staff[0].id, "exported", chat_id=staff_chat(staff_bot), thread_id=copy.thread_id
    )
    await bot_says(staff_bot, anna.id, "exported")

    status, out = await bibliobot(staff_bot, "handoff", "export", "--card", "0001234", "--json")
    assert status == 0
    [conversation] = json.loads(out)["conversations"]
    assert [m["text"] for m in conversation["messages"]] == ["export me", "exported"]
    assert [m["direction"] for m in conversation["messages"]] == ["patron", "staff"]
    assert conversation["card"] == "0001234"
    status, out = await bibliobot(staff_bot, "handoff", "export")
    assert status == 0
    assert "export me" in out
    status, out = await bibliobot(staff_bot, "handoff", "export", "--card", "9999", "--json")
    assert status == 1
    assert json.loads(out)["error"] == "unknown_card"


async def test_a_pin_typed_while_talking_to_a_librarian_never_reaches_the_staff_group(
    staff_bot: BotWorld,
) -> None:
    emu = staff_bot.emulator
    await staff_bot.patron_with_pin("0005555", "8642")
    bruno = emu.add_user("Bruno", language_code="en", started=True)
    await start_chat(staff_bot, bruno)
    emu.send_text(bruno.id, "how do I link my card?")
    await copied(staff_bot, "how do I link my card?")

    asked = emu.send_command(bruno.id, "link")
    await bot_says(staff_bot, bruno.id, "card number", after=asked)
    card = emu.send_text(bruno.id, "0005555")
    await bot_says(staff_bot, bruno.id, "PIN", after=card)
    pin = emu.send_text(bruno.id, "8642")
    await bot_says(staff_bot, bruno.id, "now linked", after=pin)

    staff_bodies = [m.body for m in emu.transcript(staff_chat(staff_bot))]
    assert "0005555" not in staff_bodies
    assert not [body for body in staff_bodies if "8642" in body]
    emu.send_text(bruno.id, "done, thanks")  # the chat goes on afterwards
    await copied(staff_bot, "done, thanks")


async def test_a_banned_patrons_topic_does_not_reopen_by_itself(staff_bot: BotWorld) -> None:
    emu = staff_bot.emulator
    anna = await linked(staff_bot, "0001234")
    await start_chat(staff_bot, anna)
    emu.send_text(anna.id, "rude words")
    copy = await copied(staff_bot, "rude words")
    head = staff_bot.staff[1]
    where: dict[str, Any] = {"chat_id": staff_chat(staff_bot), "thread_id": copy.thread_id}
    emu.send_command(head.id, "ban", **where)
    await bot_says(staff_bot, anna.id, "cannot write to the librarians")
    sent = emu.send_text(head.id, "one last word", **where)
    banned = STAFF.gettext("This patron is banned from the chat: /unban first.")
    await bot_says(staff_bot, staff_chat(staff_bot), banned, after=sent)
    assert not [m for m in emu.bot_messages(anna.id) if "one last word" in m.body]


async def test_replies_signed_with_the_librarians_name_when_set(staff_bot: BotWorld) -> None:
    emu = staff_bot.emulator
    await handoff.set_option(staff_bot.world.library, handoff.SIGN_KEY, True, now=datetime.now(UTC))
    anna = await linked(staff_bot, "0001234")
    await start_chat(staff_bot, anna)
    emu.send_text(anna.id, "who is there?")
    copy = await copied(staff_bot, "who is there?")
    giulia = staff_bot.staff[0]
    emu.send_text(giulia.id, "Giulia here", chat_id=staff_chat(staff_bot), thread_id=copy.thread_id)
    answer = await bot_says(staff_bot, anna.id, "Giulia here")
    assert answer.body.startswith("📚 Giulia · Brugherio")


async def test_two_patrons_two_topics_and_each_reply_to_its_patron(staff_bot: BotWorld) -> None:
    emu = staff_bot.emulator
    anna = await linked(staff_bot, "0001234", name="Anna")
    carla = await linked(staff_bot, "0004321", name="Carla")
    await start_chat(staff_bot, anna)
    await start_chat(staff_bot, carla)
    emu.send_text(anna.id, "Anna's question")
    emu.send_text(carla.id, "Carla's question")
    from_anna = await copied(staff_bot, "Anna's question")
    from_carla = await copied(staff_bot, "Carla's question")
    assert from_anna.thread_id != from_carla.thread_id
    names: dict[int | None, str] = {topic.thread_id: topic.name for topic in topics(staff_bot)}
    assert "0001234" in names[from_anna.thread_id]
    assert "0004321" in names[from_carla.thread_id]

    giulia = staff_bot.staff[0]
    chat = staff_chat(staff_bot)
    emu.send_text(giulia.id, "for Carla", chat_id=chat, thread_id=from_carla.thread_id)
    emu.send_text(giulia.id, "for Anna", chat_id=chat, thread_id=from_anna.thread_id)
    await bot_says(staff_bot, carla.id, "for Carla")
    await bot_says(staff_bot, anna.id, "for Anna")
    assert not [m for m in emu.bot_messages(anna.id) if "for Carla" in m.body]
    assert not [m for m in emu.bot_messages(carla.id) if "for Anna" in m.body]


async def test_five_messages_handled_at_the_same_time_make_one_topic(staff_bot: BotWorld) -> None:
    """PTB handles updates one by one unless told otherwise; here the five are handed to the
    application at once (``process_update``, concurrently), as a concurrent update processor
    would: the per-patron lock keeps them to one topic, in order."""
    emu = staff_bot.emulator
    app = staff_bot.app
    anna = await linked(staff_bot, "0001234")
    await start_chat(staff_bot, anna)
    assert app.updater is not None
    await app.updater.stop()
    try:
        sent = [emu.send_text(anna.id, f"at once {n}") for n in range(5)]
        emu.updates.drop_pending()  # handed over below instead
        updates = [
            Update.de_json({"update_id": 10_000 + n, "message": message.api}, app.bot)
            for n, message in enumerate(sent)
        ]
        await asyncio.gather(*(app.process_update(update) for update in updates))
    finally:
        await app.updater.start_polling(poll_interval=0, timeout=1)
    for n in range(5):
        await copied(staff_bot, f"at once {n}")
    assert len(topics(staff_bot)) == 1
    assert len(emu.calls_to("createForumTopic")) == 1


async def test_the_header_sums_up_the_patron_and_links_her_earlier_conversations(
    staff_bot: BotWorld,
) -> None:
    """The topic opens with who is asking: name, card, home library, standing, loans (and how
    many overdue), holds, fines owed, and links to her earlier conversations' topics."""
    emu = staff_bot.emulator
    world, library = staff_bot.world, staff_bot.world.library
    today = datetime.now(UTC)
    anna = await linked(staff_bot, "0001234")
    await staff_bot.patron_with_pin("0009999", PIN)
    wanted = await world.title_with_copies("Se questo è un uomo", ("BRU0003", "BRU"))
    await world.title_with_copies("Il nome della rosa", ("BRU0001", "BRU"))
    await world.title_with_copies("Lessico famigliare", ("BRU0002", "BRU"))
    await loans.checkout(library, card="0009999", barcode="BRU0003", now=today)
    await holds.place_hold(library, card="0001234", record_id=wanted, pickup="BRU", now=today)
    await loans.checkout(library, card="0001234", barcode="BRU0001", now=today - timedelta(days=45))
    await loans.checkout(library, card="0001234", barcode="BRU0002", now=today - timedelta(days=60))
    await loans.checkin(library, barcode="BRU0002", now=today)  # returned late: a fine
    summary = await patrons.summary(library, card="0001234", now=today)
    assert len(summary.loans) == 1
    assert summary.loans[0].overdue_days > 0
    assert len(summary.holds) == 1
    assert summary.fines_owed_cents > 0

    await start_chat(staff_bot, anna)
    emu.send_text(anna.id, "about my fine")
    first = await copied(staff_bot, "about my fine")
    assert first.thread_id is not None
    header = emu.transcript(staff_chat(staff_bot), first.thread_id)[1]
    expected = [
        "Anna 0001234",
        "0001234",
        "Brugherio",
        STAFF.gettext("Status: {status}", status=status_name(STAFF, summary.status)),
        STAFF.ngettext(
            "{n} loan ({overdue} overdue)", "{n} loans ({overdue} overdue)", 1, n=1, overdue=1
        ),
        STAFF.ngettext("{n} hold ({ready} ready)", "{n} holds ({ready} ready)", 1, n=1, ready=0),
        STAFF.gettext("fines: {amount}", amount=STAFF.format_money(summary.fines_owed_cents)),
        STAFF.gettext("First conversation."),
    ]
    for part in expected:
        assert part in header.body, (part, header.body)

    # Closed by staff; later (past the reopen window) she asks again: a new topic, whose
    # header links to the first one.
    await handoff.set_option(library, handoff.REOPEN_KEY, 0, now=datetime.now(UTC))
    giulia = staff_bot.staff[0]
    emu.send_command(giulia.id, "close", chat_id=staff_chat(staff_bot), thread_id=first.thread_id)
    await bot_says(staff_bot, anna.id, "closed this conversation")
    await start_chat(staff_bot, anna, "Music")
    emu.send_text(anna.id, "a new question")
    second = await copied(staff_bot, "a new question")
    assert second.thread_id not in (None, first.thread_id)
    header = emu.transcript(staff_chat(staff_bot), second.thread_id)[1]
    assert STAFF.gettext("Earlier conversations:") in header.body
    links = [e.get("url") for e in header.api.get("entities", []) if e.get("type") == "text_link"]
    internal = str(staff_chat(staff_bot)).removeprefix("-100")
    assert links == [f"https://t.me/c/{internal}/{first.thread_id}"]


async def test_administrators_canned_replies_go_in_each_patrons_language(
    staff_bot: BotWorld,
) -> None:
    emu = staff_bot.emulator
    await handoff.set_canned(
        staff_bot.world.library,
        "hours",
        {"it": "Siamo aperti dalle 9 alle 19.", "en": "We are open from 9 to 7 pm."},
        now=datetime.now(UTC),
    )
    anna = await linked(staff_bot, "0001234", language="en", name="Anna")
    carla = await linked(staff_bot, "0004321", language="it", name="Carla")
    await start_chat(staff_bot, anna)
    sent = emu.send_command(carla.id, "librarian")
    themes = await bot_says(staff_bot, carla.id, lambda m: bool(m.buttons), after=sent)
    emu.press_button(carla.id, carla.id, themes.message_id, text="Domande generali")
    await bot_says(staff_bot, carla.id, "Argomento:", after=sent)
    emu.send_text(anna.id, "when are you open?")
    emu.send_text(carla.id, "quando siete aperti?")
    from_anna = await copied(staff_bot, "when are you open?")
    from_carla = await copied(staff_bot, "quando siete aperti?")
    giulia = staff_bot.staff[0]
    chat = staff_chat(staff_bot)

    listing = emu.send_command(giulia.id, "canned", chat_id=chat, thread_id=from_anna.thread_id)
    menu = await bot_says(staff_bot, chat, "hours", after=listing)
    assert "Siamo aperti dalle 9" in menu.body  # staff read the group's language

    emu.send_command(giulia.id, "canned", "hours", chat_id=chat, thread_id=from_anna.thread_id)
    emu.send_command(giulia.id, "canned", "HOURS", chat_id=chat, thread_id=from_carla.thread_id)
    to_anna = await bot_says(staff_bot, anna.id, "We are open from 9 to 7 pm.")
    to_carla = await bot_says(staff_bot, carla.id, "Siamo aperti dalle 9 alle 19.")
    assert to_anna.body.startswith("📚 Brugherio")
    assert to_carla.body.startswith("📚 Brugherio")
    assert not [m for m in emu.bot_messages(anna.id) if "Siamo aperti" in m.body]
    exported = await handoff.export(staff_bot.world.library, card="0004321")
    staff_texts = [m["text"] for m in exported[0]["messages"] if m["direction"] == "staff"]
    assert staff_texts == ["Siamo aperti dalle 9 alle 19."]  # in the transcript too


async def test_where_the_bot_cannot_help_it_offers_a_librarian(staff_bot: BotWorld) -> None:
    """A search that finds nothing and a refused hold both carry "💬 Talk to a librarian",
    which opens the subjects as /librarian does."""
    emu = staff_bot.emulator
    anna = await shelf.linked(staff_bot, "0001")
    nothing = await shelf.say(staff_bot, anna, "qwzxv kjhg")
    assert "💬 Talk to a librarian" in shelf.labels(nothing)
    themes = await shelf.press(staff_bot, anna, nothing, text="💬 Talk to a librarian")
    assert "Choose a subject" in themes.body

    rid = await shelf.record(staff_bot, "Palomar", year=1983)
    await shelf.copy(staff_bot, rid, "P1", "BRU")
    await shelf.lend(staff_bot, "0001", "P1")
    _, refused = await shelf.reserve_refused(staff_bot, anna, rid, "palomar")  # told at "Reserve"
    assert "You already have this title on loan." in refused.body
    asked = await shelf.press(staff_bot, anna, refused, text="💬 Talk to a librarian")
    assert "Choose a subject" in asked.body
    emu.press_button(anna.id, anna.id, asked.message_id, text="General")
    await bot_says(staff_bot, anna.id, "Subject:", after=refused)


async def test_a_message_telegram_refuses_is_relayed_again_without_her_writing(
    staff_bot: BotWorld,
) -> None:
    """Telegram fails the copy to the staff group: the patron is told it is kept, and the bot
    relays it a little later by itself (in production 30 s, then longer), once."""
    emu = staff_bot.emulator
    staff_bot.app.bot_data.handoff.retry_seconds = 0.3
    anna = await linked(staff_bot, "0001234")
    await start_chat(staff_bot, anna)
    emu.inject_fault("server_error", method="copyMessage", chat_id=staff_chat(staff_bot), times=2)
    sent = emu.send_text(anna.id, "is my card still valid?")
    told = await bot_says(staff_bot, anna.id, "could not pass your message on", after=sent)
    assert "try again" in told.body
    copy = await copied(staff_bot, "is my card still valid?")  # after two failed tries
    assert len(topics(staff_bot)) == 1
    queue = staff_bot.app.job_queue
    assert queue is not None
    assert not queue.get_jobs_by_name(f"handoff-retry:{anna.id}")  # no retry left to run
    copies = [m for m in emu.bot_messages(staff_chat(staff_bot)) if m.body == copy.body]
    assert copies == [copy]
    [conversation] = await handoff.export(staff_bot.world.library, card="0001234")
    assert [m["text"] for m in conversation["messages"]] == ["is my card still valid?"]
    notices = [m for m in emu.bot_messages(anna.id) if "could not pass" in m.body]
    assert notices == [told]  # told once, not at every retry


async def test_a_patron_stuck_linking_asks_a_librarian_and_is_heard(staff_bot: BotWorld) -> None:
    """Half-way through linking (a wrong PIN) she turns to a librarian: her question goes to
    the staff group, not into the linking dialogue as a card number."""
    emu = staff_bot.emulator
    await staff_bot.patron_with_pin("0007", PIN)
    marta = emu.add_user("Marta", language_code="en", started=True)
    await emu.wait_for_reply(marta.id, after=emu.send_command(marta.id, "link"))
    await emu.wait_for_reply(marta.id, after=emu.send_text(marta.id, "0007"))
    floor = emu.transcript(marta.id)[-1]
    emu.send_text(marta.id, "1111")
    wrong = await emu.wait_for_reply(marta.id, after=floor)
    assert "Please send your card number." in wrong.body
    await start_chat(staff_bot, marta)
    question = "My PIN does not work, can you help me?"
    emu.send_text(marta.id, question)
    await copied(staff_bot, question)
    replies = [m.body for m in emu.bot_messages(marta.id) if m.message_id > wrong.message_id]
    assert not [body for body in replies if "card number" in body or "PIN, please" in body]


async def test_a_header_telegram_failed_to_post_comes_before_her_messages(
    staff_bot: BotWorld,
) -> None:
    """Telegram fails between creating the topic and posting its header: the header is not
    lost — the store remembers it is missing, and the relay posts it first, then her message."""
    emu = staff_bot.emulator
    staff_bot.app.bot_data.handoff.retry_seconds = 0.3
    anna = await linked(staff_bot, "0001234")
    await start_chat(staff_bot, anna)
    chat = staff_chat(staff_bot)
    emu.inject_fault("server_error", method="sendMessage", chat_id=chat, times=1)
    sent = emu.send_text(anna.id, "can I renew by phone?")
    await bot_says(staff_bot, anna.id, "could not pass your message on", after=sent)
    copy = await copied(staff_bot, "can I renew by phone?")
    [topic] = topics(staff_bot)
    assert copy.thread_id == topic.thread_id
    bodies = [m.body for m in emu.transcript(chat, topic.thread_id)[1:]]
    assert len(bodies) == 2, bodies
    assert "0001234" in bodies[0]
    assert STAFF.gettext("First conversation.") in bodies[0]
    assert bodies[1] == "can I renew by phone?"
    [conversation] = await handoff.export(staff_bot.world.library, card="0001234")
    stored = await handoff.conversation(staff_bot.world.library, conversation["conversation_id"])
    assert stored is not None
    assert stored.header_posted

    # Her next message does not post the header again.
    emu.send_text(anna.id, "thanks")
    await copied(staff_bot, "thanks")
    headers = [m for m in emu.transcript(chat, topic.thread_id) if "0001234" in m.body]
    assert len(headers) == 1


async def test_without_a_card_she_is_told_when_the_first_library_opens(
    staff_bot: BotWorld,
) -> None:
    """A patron without a linked card asking a general question has no library of her own:
    while every library is closed she is told her message is kept and when the first one
    opens (each has its own hours); the message reaches staff all the same."""
    emu = staff_bot.emulator
    library = staff_bot.world.library
    today = datetime.now(library.zone).date()
    async with library.store.transaction() as conn:
        for branch_id in staff_bot.world.branches.values():
            await calendar_repo.add_closure(
                conn, branch_id, today, today + timedelta(days=2), "inventory"
            )
    bruno = emu.add_user("Bruno", language_code="en", started=True)
    opened = await start_chat(staff_bot, bruno, "General questions")
    assert "A librarian will answer in this chat." in opened.body  # no library named
    emu.send_text(bruno.id, "can I get a card online?")
    notice = await bot_says(staff_bot, bruno.id, "libraries are all closed now")
    copy = await copied(staff_bot, "can I get a card online?")  # kept and relayed all the same
    header = emu.transcript(staff_chat(staff_bot), copy.thread_id)[1]
    assert STAFF.gettext("any library") in header.body

    opens = await handoff.staff_answer_from(library, None, datetime.now(UTC))
    assert opens is not None
    assert opens.astimezone(library.zone).date() > today + timedelta(days=2)
    t = translator("en")
    assert t.format_date(opens, "full") in notice.body
    assert t.format_time(opens) in notice.body
    assert "each has its own opening hours" in notice.body

    emu.send_text(bruno.id, "and a second question")  # told once per closed stretch
    await copied(staff_bot, "and a second question")
    assert len([m for m in emu.bot_messages(bruno.id) if "all closed now" in m.body]) == 1


async def test_when_telegram_fails_for_long_she_is_told_and_staff_get_it_later(
    staff_bot: BotWorld,
) -> None:
    """Telegram refuses the relay and all five quick retries: the patron is not left believing
    it went through — she is told it is held up but kept. The sweep (a repeating job) relays it
    once Telegram takes it again, after the topic's header; then she is told it got through."""
    emu = staff_bot.emulator
    app = staff_bot.app
    app.bot_data.handoff.retry_seconds = 0.02
    anna = await linked(staff_bot, "0001234")
    await start_chat(staff_bot, anna)
    chat = staff_chat(staff_bot)
    refused = emu.inject_fault("server_error", method="copyMessage", chat_id=chat, times=6)
    sent = emu.send_text(anna.id, "is the library open at Easter?")
    await bot_says(staff_bot, anna.id, "could not pass your message on", after=sent)
    held = await bot_says(staff_bot, anna.id, "still not reached the librarians", after=sent)
    assert "the librarians will see it" in held.body
    assert refused.hits == 6  # the relay and its five retries
    queue = app.job_queue
    assert queue is not None
    assert not queue.get_jobs_by_name(f"handoff-retry:{anna.id}")  # the quick retries are over
    assert not [m for m in emu.bot_messages(chat) if m.body == "is the library open at Easter?"]

    [sweep] = queue.get_jobs_by_name(handoff_handlers.SWEEP_JOB)
    await sweep.run(app)
    copy = await copied(staff_bot, "is the library open at Easter?")
    through = await bot_says(staff_bot, anna.id, "has now reached the librarians", after=held)
    assert through.body == "What you wrote has now reached the librarians."
    [topic] = topics(staff_bot)
    bodies = [m.body for m in emu.transcript(chat, topic.thread_id)[1:]]
    assert "0001234" in bodies[0]  # the header first
    assert bodies[1:] == [copy.body]

    await sweep.run(app)  # nothing owed any more: nothing sent twice, she is not told again
    assert [m.body for m in emu.transcript(chat, topic.thread_id)[1:]] == bodies
    assert len([m for m in emu.bot_messages(anna.id) if "now reached" in m.body]) == 1


async def test_a_message_still_owed_to_staff_is_relayed_when_she_ends_the_chat(
    staff_bot: BotWorld,
) -> None:
    """Telegram refused her message and she ends the chat before it was relayed again: it goes
    to the topic before the end is noted there (a closed chat is relayed by nobody later)."""
    emu = staff_bot.emulator
    staff_bot.app.bot_data.handoff.retry_seconds = 3600  # no retry comes before she ends it
    anna = await linked(staff_bot, "0001234")
    await start_chat(staff_bot, anna)
    chat = staff_chat(staff_bot)
    emu.inject_fault("server_error", method="copyMessage", chat_id=chat, times=1)
    sent = emu.send_text(anna.id, "please call me back")
    await bot_says(staff_bot, anna.id, "could not pass your message on", after=sent)
    emu.send_command(anna.id, "cancel")
    await bot_says(staff_bot, anna.id, "Chat ended", after=sent)
    ended = await bot_says(staff_bot, chat, "🔚")
    [topic] = topics(staff_bot)
    bodies = [m.body for m in emu.transcript(chat, topic.thread_id)[1:]]
    assert bodies[1:] == ["please call me back", ended.body]
    [conversation] = await handoff.export(staff_bot.world.library, card="0001234")
    assert conversation["closed_by"] == "patron"


async def _refused_then_closed_by_staff(staff_bot: BotWorld, text: str) -> tuple[User, Topic]:
    """Telegram refuses her message (no quick retry comes), then a librarian /closes the
    conversation: the message is owed to staff, in a closed conversation."""
    emu = staff_bot.emulator
    staff_bot.app.bot_data.handoff.retry_seconds = 3600
    anna = await linked(staff_bot, "0001234")
    await start_chat(staff_bot, anna)
    chat = staff_chat(staff_bot)
    emu.inject_fault("server_error", method="copyMessage", chat_id=chat, times=1)
    sent = emu.send_text(anna.id, text)
    await bot_says(staff_bot, anna.id, "could not pass your message on", after=sent)
    [topic] = topics(staff_bot)
    giulia = staff_bot.staff[0]
    emu.send_command(giulia.id, "close", chat_id=chat, thread_id=topic.thread_id)
    await bot_says(staff_bot, anna.id, "closed this conversation", after=sent)
    await emu.wait_for(lambda: topic.closed, what="the topic closed")
    assert not [m for m in emu.bot_messages(chat) if m.body == text]
    return anna, topic


async def test_a_message_owed_to_staff_reaches_the_topic_after_staff_close_it(
    staff_bot: BotWorld,
) -> None:
    """Staff /close a conversation while one of her messages is still owed to them, and she
    does not write again: the sweep relays it into the closed topic all the same, without
    opening the conversation (or the topic) again."""
    emu = staff_bot.emulator
    app = staff_bot.app
    chat = staff_chat(staff_bot)
    anna, topic = await _refused_then_closed_by_staff(staff_bot, "please call me back")
    queue = app.job_queue
    assert queue is not None
    [sweep] = queue.get_jobs_by_name(handoff_handlers.SWEEP_JOB)
    await sweep.run(app)
    copy = await copied(staff_bot, "please call me back", thread_id=topic.thread_id)
    assert topic.closed
    [conversation] = await handoff.export(staff_bot.world.library, card="0001234")
    assert (conversation["state"], conversation["closed_by"]) == ("closed", "staff")
    assert await handoff.open_conversation(staff_bot.world.library, anna.id) is None
    reopened = STAFF.gettext("🔓 The conversation is open again.")
    assert not [m for m in emu.bot_messages(chat) if m.body == reopened]

    await sweep.run(app)  # relayed once, not at every sweep
    assert [m for m in emu.bot_messages(chat) if m.body == copy.body] == [copy]


async def test_a_closed_conversations_owed_message_goes_to_the_group_if_its_topic_is_gone(
    staff_bot: BotWorld,
) -> None:
    """The closed conversation's topic was deleted too: the owed message goes to the staff
    group's general chat after a line saying whose it is; no conversation opens."""
    emu = staff_bot.emulator
    app = staff_bot.app
    chat = staff_chat(staff_bot)
    anna, topic = await _refused_then_closed_by_staff(staff_bot, "my card is lost")
    emu.delete_topic(chat, topic.thread_id)
    queue = app.job_queue
    assert queue is not None
    [sweep] = queue.get_jobs_by_name(handoff_handlers.SWEEP_JOB)
    await sweep.run(app)
    copy = await copied(staff_bot, "my card is lost")
    assert copy.thread_id is None
    [conversation] = await handoff.export(staff_bot.world.library, card="0001234")
    note = await bot_says(staff_bot, chat, "📥")
    assert f" {conversation['conversation_id']} " in note.body
    assert "Anna" in note.body
    assert note.thread_id is None
    assert note.message_id < copy.message_id
    assert conversation["state"] == "closed"
    assert await handoff.open_conversation(staff_bot.world.library, anna.id) is None
    assert topics(staff_bot) == []


async def test_after_a_restart_she_is_still_told_her_held_up_message_got_through(
    staff_bot: BotWorld, tmp_path: Path
) -> None:
    """She was told her message is held up; the bot restarts before the sweep relays it. The
    restarted bot (nothing of the first one's memory) relays it and tells her it got through."""
    emu = staff_bot.emulator
    staff_bot.app.bot_data.handoff.retry_seconds = 0.02
    anna = await linked(staff_bot, "0001234")
    await start_chat(staff_bot, anna)
    chat = staff_chat(staff_bot)
    emu.inject_fault("server_error", method="copyMessage", chat_id=chat, times=6)
    sent = emu.send_text(anna.id, "is the library open at Easter?")
    held = await bot_says(staff_bot, anna.id, "still not reached the librarians", after=sent)

    bot = staff_bot.app.bot
    settings = load_settings(
        telegram={
            "token": bot.token,
            "base_url": bot.base_url.removesuffix(bot.token),
            "staff_chat_id": chat,
        },
        database={"path": str(tmp_path / "bot.sqlite3")},
        library={"policy": "cbnem"},
    )
    restarted = build_application(settings)
    async with restarted:
        assert restarted.post_init is not None
        await restarted.post_init(restarted)
        try:
            assert restarted.job_queue is not None
            [sweep] = restarted.job_queue.get_jobs_by_name(handoff_handlers.SWEEP_JOB)
            await sweep.run(restarted)
        finally:
            if restarted.post_shutdown is not None:
                await restarted.post_shutdown(restarted)
    await copied(staff_bot, "is the library open at Easter?")
    through = await bot_says(staff_bot, anna.id, "has now reached the librarians", after=held)
    assert through.body == "What you wrote has now reached the librarians."
