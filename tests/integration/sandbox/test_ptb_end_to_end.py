"""A real PTB Application, polling the emulator over HTTP, with tiny handlers defined here."""

from __future__ import annotations

import io

import pytest
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, Forbidden
from telegram.ext import (
    AIORateLimiter,
    CallbackContext,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot.sandbox import RunningEmulator
from bot.sandbox.testing import AnyApplication, polling_app

Context = ContextTypes.DEFAULT_TYPE


async def start(update: Update, context: Context) -> None:
    assert update.effective_message is not None
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Rinnova", callback_data="renew:42")]])
    await update.effective_message.reply_text(
        f"Ciao <b>{update.effective_user.first_name if update.effective_user else ''}</b>!",
        parse_mode="HTML",
        reply_markup=keyboard,
    )


async def menu(update: Update, context: Context) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        "Scegli", reply_markup=ReplyKeyboardMarkup([["Cerca", "Prestiti"]], resize_keyboard=True)
    )


async def pressed(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("Fatto", show_alert=False)
    await query.edit_message_text(f"Rinnovato ({query.data})")


async def inline(update: Update, context: Context) -> None:
    assert update.inline_query is not None
    text = update.inline_query.query
    await update.inline_query.answer(
        [
            InlineQueryResultArticle(
                id=f"r{index}",
                title=f"{text} {index}",
                input_message_content=InputTextMessageContent(f"{text} {index}"),
            )
            for index in range(3)
        ],
        cache_time=0,
    )


async def echo_document(update: Update, context: Context) -> None:
    message = update.effective_message
    assert message is not None
    assert message.document is not None
    received = await (await message.document.get_file()).download_as_bytearray()
    await message.reply_document(
        io.BytesIO(bytes(received).upper()), filename="echo.txt", caption=f"{len(received)} byte"
    )


def handlers(app: AnyApplication) -> None:
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("menu", menu))
    app.add_handler(CallbackQueryHandler(pressed, pattern=r"^renew:"))
    app.add_handler(InlineQueryHandler(inline))
    app.add_handler(MessageHandler(filters.Document.ALL, echo_document))


async def test_start_round_trip_with_html_and_keyboard(sandbox: RunningEmulator) -> None:
    emu = sandbox.emulator
    anna = emu.add_user("Anna")
    async with polling_app(sandbox, handlers):
        sent = emu.send_command(anna.id, "start")
        reply = await emu.wait_for_reply(anna.id, after=sent)
    assert reply.text == "Ciao Anna!"
    assert reply.api["entities"] == [{"type": "bold", "offset": 5, "length": 4}]
    assert reply.api["from"]["is_bot"] is True
    assert [b["callback_data"] for b in reply.buttons] == ["renew:42"]


async def test_reply_keyboard_is_kept_for_the_page(sandbox: RunningEmulator) -> None:
    emu = sandbox.emulator
    anna = emu.add_user("Anna")
    async with polling_app(sandbox, handlers):
        reply = await emu.wait_for_reply(anna.id, after=emu.send_command(anna.id, "menu"))
    assert reply.reply_buttons == ["Cerca", "Prestiti"]
    assert "reply_markup" not in reply.api  # Telegram returns only inline keyboards
    pressed_message = emu.press_reply_button(anna.id, "Prestiti")
    assert pressed_message.text == "Prestiti"


async def test_button_press_reaches_handler_and_edit_shows(sandbox: RunningEmulator) -> None:
    emu = sandbox.emulator
    anna = emu.add_user("Anna")
    async with polling_app(sandbox, handlers):
        reply = await emu.wait_for_reply(anna.id, after=emu.send_command(anna.id, "start"))
        query_id = emu.press_button(anna.id, anna.id, reply.message_id, text="Rinnova")
        answer = await emu.wait_for_callback_answer(query_id)
        edited = await emu.wait_for(
            lambda: emu.message(anna.id, reply.message_id).edit_count > 0 or None,
            what="the edit",
        )
    assert edited is True
    assert answer == {"text": "Fatto", "show_alert": False}
    now = emu.message(anna.id, reply.message_id)
    assert now.text == "Rinnovato (renew:42)"
    assert now.buttons == []  # editMessageText without reply_markup drops the keyboard
    assert [m.text for m in emu.transcript(anna.id)] == ["/start", "Rinnovato (renew:42)"]


async def test_inline_query_is_answered(sandbox: RunningEmulator) -> None:
    emu = sandbox.emulator
    anna = emu.add_user("Anna")
    async with polling_app(sandbox, handlers):
        query_id = emu.inline_query(anna.id, "Calvino")
        answer = await emu.wait_for_inline_answer(query_id)
    assert [r["id"] for r in answer["results"]] == ["r0", "r1", "r2"]
    assert answer["results"][0]["input_message_content"]["message_text"] == "Calvino 0"
    message = emu.choose_inline_result(anna.id, query_id, "r1", chat_id=anna.id)
    assert message is not None
    assert message.text == "Calvino 1"
    assert message.api["via_bot"]["id"] == emu.bot.id


async def test_document_upload_both_ways(sandbox: RunningEmulator) -> None:
    emu = sandbox.emulator
    anna = emu.add_user("Anna")
    async with polling_app(sandbox, handlers):
        sent = emu.send_document(anna.id, b"tessera 1234", file_name="tessera.txt")
        reply = await emu.wait_for_reply(anna.id, after=sent)
    assert reply.caption == "12 byte"
    assert reply.api["document"]["file_name"] == "echo.txt"
    assert reply.file_id is not None
    stored = emu.world.files.get(reply.file_id)
    assert stored is not None
    assert stored.data == b"TESSERA 1234"


async def test_forum_topics_send_delete_and_fail(sandbox: RunningEmulator) -> None:
    emu = sandbox.emulator
    librarian = emu.add_user("Lucia")
    staff = emu.add_group("Staff", forum=True, admins=[librarian.id])
    async with polling_app(sandbox) as app:
        topic = await app.bot.create_forum_topic(staff.id, "Tessera 1234 · generale")
        sent = await app.bot.send_message(
            staff.id, "Nuova conversazione", message_thread_id=topic.message_thread_id
        )
        assert sent.is_topic_message
        assert sent.message_thread_id == topic.message_thread_id
        member = await app.bot.get_chat_member(staff.id, librarian.id)
        assert member.status == "administrator"
        await app.bot.close_forum_topic(staff.id, topic.message_thread_id)
        await app.bot.send_message(staff.id, "ancora", message_thread_id=topic.message_thread_id)
        emu.delete_topic(staff.id, topic.message_thread_id)
        with pytest.raises(BadRequest, match=r"[Mm]essage thread not found"):
            await app.bot.send_message(staff.id, "perso", message_thread_id=topic.message_thread_id)
    assert [t.name for t in emu.topics(staff.id, include_deleted=True)] == [topic.name]
    assert emu.transcript(staff.id, topic.message_thread_id) == []


async def test_staff_reply_in_topic_reaches_the_bot(sandbox: RunningEmulator) -> None:
    emu = sandbox.emulator
    librarian = emu.add_user("Lucia")
    staff = emu.add_group("Staff", forum=True, admins=[librarian.id])
    seen: list[tuple[int | None, str]] = []

    async def record(update: Update, context: CallbackContext) -> None:  # type: ignore[type-arg]
        message = update.effective_message
        assert message is not None
        seen.append((message.message_thread_id, message.text or ""))

    def setup(app: AnyApplication) -> None:
        app.add_handler(MessageHandler(filters.TEXT & filters.ChatType.SUPERGROUP, record))

    async with polling_app(sandbox, setup) as app:
        topic = await app.bot.create_forum_topic(staff.id, "Domanda")
        emu.send_text(librarian.id, "Risposta", chat_id=staff.id, thread_id=topic.message_thread_id)
        await emu.wait_for(lambda: seen, what="the staff message")
    assert seen == [(topic.message_thread_id, "Risposta")]


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_retry_after_is_honoured_by_ptb(sandbox: RunningEmulator) -> None:
    emu = sandbox.emulator
    anna = emu.add_user("Anna", started=True)
    emu.inject_fault("retry_after", method="sendMessage", retry_after=1, times=1)
    async with polling_app(sandbox, rate_limiter=AIORateLimiter(max_retries=2)) as app:
        await app.bot.send_message(anna.id, "dopo l'attesa")
    calls = emu.calls_to("sendMessage")
    assert [c.status for c in calls] == [429, 200]
    assert calls[1].at - calls[0].at >= 0.9
    assert [m.text for m in emu.bot_messages(anna.id)] == ["dopo l'attesa"]


async def test_blocked_user_gives_forbidden(sandbox: RunningEmulator) -> None:
    emu = sandbox.emulator
    anna = emu.add_user("Anna", started=True)
    stranger = emu.add_user("Bruno")
    async with polling_app(sandbox) as app:
        await app.bot.send_message(anna.id, "prima")
        emu.block_bot(anna.id)
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await app.bot.send_message(anna.id, "dopo")
        with pytest.raises(Forbidden, match="can't initiate conversation"):
            await app.bot.send_message(stranger.id, "ciao")
    assert [m.text for m in emu.bot_messages(anna.id)] == ["prima"]


async def test_relay_copy_forward_and_edits(sandbox: RunningEmulator) -> None:
    """The handoff pattern of issue 6: copy a patron's message to a topic, relay her edit."""
    emu = sandbox.emulator
    anna = emu.add_user("Anna")
    staff = emu.add_group("Staff", forum=True)
    copies: dict[int, int] = {}

    async def relay(update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        if update.edited_message is not None:
            await context.bot.edit_message_text(
                f"(modificato) {message.text}", chat_id=staff.id, message_id=copies[message.id]
            )
            return
        topic = await context.bot.create_forum_topic(staff.id, f"Anna {message.id}")
        copied = await message.copy(staff.id, message_thread_id=topic.message_thread_id)
        copies[message.id] = copied.message_id
        await message.forward(staff.id, message_thread_id=topic.message_thread_id)

    def setup(app: AnyApplication) -> None:
        app.add_handler(MessageHandler(filters.ChatType.PRIVATE, relay))

    async with polling_app(sandbox, setup):
        sent = emu.send_text(anna.id, "Avete Calvino?")
        created, copied, forwarded = await emu.wait_for_bot_messages(staff.id, 3)
        await emu.wait_for(lambda: copies.get(sent.message_id), what="the copy's id")
        emu.edit_text(anna.id, anna.id, sent.message_id, "Avete Calvino in inglese?")
        await emu.wait_for(
            lambda: emu.message(staff.id, copies[sent.message_id]).edit_count or None,
            what="the relayed edit",
        )
    assert created.api["forum_topic_created"]["name"] == f"Anna {sent.message_id}"
    assert copied.thread_id == forwarded.thread_id == created.message_id
    assert forwarded.api["forward_origin"]["sender_user"]["id"] == anna.id
    assert emu.message(staff.id, copied.message_id).text == "(modificato) Avete Calvino in inglese?"


async def test_a_callback_answered_without_text_is_seen(sandbox: RunningEmulator) -> None:
    async def silent(update: Update, context: Context) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer()

    def setup(app: AnyApplication) -> None:
        handlers(app)
        app.add_handler(CallbackQueryHandler(silent, pattern="^quiet$"), group=-1)

    emu = sandbox.emulator
    anna = emu.add_user("Anna")
    async with polling_app(sandbox, setup):
        reply = await emu.wait_for_reply(anna.id, after=emu.send_command(anna.id, "start"))
        query_id = emu.press_button(anna.id, anna.id, reply.message_id, data="quiet", forge=True)
        assert await emu.wait_for_callback_answer(query_id, within=5) == {}
