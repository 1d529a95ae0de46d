"""Talking to a librarian, the staff's side: replies in a topic reach the patron.

In the staff forum group every conversation has its topic. A staff member's message there is
copied to the patron's private chat, signed as the library (or with the librarian's first name:
``handoff.sign_with_name``); an edit is relayed as an edit; a message starting with ``#note``
stays among staff. In a topic, ``/close`` ends the conversation (the patron may rate it),
``/canned`` lists the ready answers and ``/canned KEY`` sends one in the patron's language,
``/ban`` and ``/unban`` stop and allow the patron's messages. Only staff
(:mod:`bot.handlers.staff_access`) can do any of it.
"""

from __future__ import annotations

import contextlib
import html
import logging

from telegram import Message, Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import ApplicationHandlerStop, CommandHandler, MessageHandler, filters

from bot.handlers import render
from bot.handlers.context import BotApplication, BotContext, now
from bot.handlers.handoff import HANDOFF_GROUP, banned_text, in_a_dialogue, rating_markup
from bot.handlers.handoff_relay import content_of, reopen_topic
from bot.handlers.staff_access import (
    is_staff,
    staff_chat_filter,
    staff_chat_id,
    staff_only,
    staff_translator,
)
from bot.i18n import Translator
from bot.services import handoff
from db.handoff import ConversationRow

log = logging.getLogger("bibliobot.handoff")

CAPTION_LIMIT = 1024  # characters, Bot API captions
CAPTIONED = ("photo", "document", "voice", "audio", "video", "animation")


def patron_translator(context: BotContext, conversation: ConversationRow) -> Translator:
    return context.i18n.translator(conversation.language)


async def signature(
    context: BotContext, conversation: ConversationRow, t: Translator, first_name: str | None
) -> str:
    """ "📚 Brugherio", or "📚 Giulia · Brugherio" with ``handoff.sign_with_name``."""
    names = await render.branch_names(context.library)
    place = names.get(conversation.branch, conversation.branch) if conversation.branch else None
    library = place or t.gettext("The library")
    if first_name and await handoff.sign_with_name(context.library):
        return f"📚 {first_name} · {library}"
    return f"📚 {library}"


async def topic_conversation(update: Update, context: BotContext) -> ConversationRow | None:
    message = update.effective_message
    if message is None or not message.is_topic_message or message.message_thread_id is None:
        return None
    return await handoff.conversation_of_topic(context.library, message.message_thread_id)


async def ensure_open(context: BotContext, conversation: ConversationRow, message: Message) -> bool:
    """Staff write in a closed conversation: it opens again (topic too), unless the patron
    has another one open by now, which staff are told."""
    if conversation.state == "open":
        return True
    outcome = await handoff.reopen(context.library, conversation.conversation_id)
    if outcome in ("open", "reopened"):
        await reopen_topic(context, conversation)
        return True
    t = staff_translator(context)
    if outcome == "banned":
        text = t.gettext("This patron is banned from the chat: /unban first.")
    else:
        text = t.gettext("This patron has another conversation open now: answer in its topic.")
    await message.reply_text(text)
    return False


# -- relaying ------------------------------------------------------------------------------------


async def staff_message(update: Update, context: BotContext) -> None:
    """A message in a conversation's topic: a note, or a reply for the patron."""
    message = update.message
    user = update.effective_user
    if message is None or user is None or user.is_bot:
        return
    conversation = await topic_conversation(update, context)
    if conversation is None:
        return
    if message.forum_topic_closed is not None:
        await topic_closed_by_hand(context, conversation)
        raise ApplicationHandlerStop
    if message.forum_topic_created or message.forum_topic_reopened or message.forum_topic_edited:
        return
    if in_a_dialogue(update, context):
        return  # e.g. the cost of an interlibrary request, typed after its button
    if not await is_staff(context, user.id):
        return
    content = content_of(message)
    if handoff.is_note(content.text):
        await handoff.record(
            context.library,
            conversation.conversation_id,
            direction="note",
            content=content,
            sender_user_id=user.id,
            sender_name=user.full_name,
            now=now(),
            staff_message_id=message.message_id,
        )
        raise ApplicationHandlerStop
    await relay_to_patron(context, conversation, message)
    raise ApplicationHandlerStop


async def relay_to_patron(
    context: BotContext, conversation: ConversationRow, message: Message
) -> None:
    library = context.library
    user = message.from_user
    t_staff = staff_translator(context)
    if not await ensure_open(context, conversation, message):
        return
    row_id = await handoff.record(
        library,
        conversation.conversation_id,
        direction="staff",
        content=content_of(message),
        sender_user_id=user.id if user else None,
        sender_name=user.full_name if user else None,
        now=now(),
        staff_message_id=message.message_id,
    )
    t = patron_translator(context, conversation)
    sign = await signature(context, conversation, t, user.first_name if user else None)
    try:
        copy_id = await send_signed(context, conversation, message, sign)
    except Forbidden:
        await message.reply_text(
            t_staff.gettext(
                "⚠️ Not delivered: the patron has blocked the bot. The message is kept in "
                "the transcript."
            )
        )
        return
    except TelegramError as error:
        log.warning("conversation %s: reply not delivered", conversation.conversation_id)
        await message.reply_text(
            t_staff.gettext("⚠️ Not delivered ({error}). Please try again.", error=str(error))
        )
        return
    await handoff.relayed(
        library,
        row_id,
        conversation_id=conversation.conversation_id,
        patron_message_id=copy_id,
    )


def _fits(signed: str, limit: int) -> bool:
    return render.utf16_len(signed) <= limit


async def send_signed(
    context: BotContext, conversation: ConversationRow, message: Message, sign: str
) -> int:
    """Send a staff message to the patron with its signature; the id of the patron's copy."""
    bot = context.bot
    chat_id = conversation.chat_id
    head = f"<b>{html.escape(sign)}</b>"
    if message.text is not None:
        signed = f"{head}\n{message.text_html}"
        if _fits(f"{sign}\n{message.text}", render.MESSAGE_LIMIT):
            sent = await bot.send_message(chat_id, signed, parse_mode="HTML")
            return sent.message_id
        await bot.send_message(chat_id, head, parse_mode="HTML")
    elif content_of(message).content_type in CAPTIONED:
        caption = message.caption_html or ""
        signed = f"{head}\n{caption}" if caption else head
        if _fits(f"{sign}\n{message.caption or ''}", CAPTION_LIMIT):
            copied = await bot.copy_message(
                chat_id,
                from_chat_id=message.chat_id,
                message_id=message.message_id,
                caption=signed,
                parse_mode="HTML",
            )
            return copied.message_id
        await bot.send_message(chat_id, head, parse_mode="HTML")
    else:
        # A sticker carries no caption: its signature comes just before it.
        await bot.send_message(chat_id, head, parse_mode="HTML")
    copied = await bot.copy_message(
        chat_id, from_chat_id=message.chat_id, message_id=message.message_id
    )
    return copied.message_id


async def staff_edit(update: Update, context: BotContext) -> None:
    """A librarian edited a reply: the patron's copy is edited too (signature kept)."""
    message = update.edited_message
    user = update.effective_user
    if message is None or user is None or not await is_staff(context, user.id):
        return
    stored = await handoff.message_in_staff_chat(context.library, message.message_id)
    if stored is None or stored.direction not in ("staff", "note"):
        return
    content = content_of(message)
    await handoff.edited(context.library, stored.message_id, content.text, now=now())
    conversation = await handoff.conversation(context.library, stored.conversation_id)
    if stored.direction != "staff" or stored.patron_message_id is None or conversation is None:
        raise ApplicationHandlerStop
    t = patron_translator(context, conversation)
    sign = await signature(context, conversation, t, user.first_name)
    head = f"<b>{html.escape(sign)}</b>"
    try:
        if message.text is not None:
            await context.bot.edit_message_text(
                f"{head}\n{message.text_html}",
                chat_id=conversation.chat_id,
                message_id=stored.patron_message_id,
                parse_mode="HTML",
            )
        else:
            caption = message.caption_html or ""
            await context.bot.edit_message_caption(
                chat_id=conversation.chat_id,
                message_id=stored.patron_message_id,
                caption=f"{head}\n{caption}" if caption else head,
                parse_mode="HTML",
            )
    except TelegramError as error:
        log.info("edit of message %s not relayed: %s", stored.message_id, error)
    raise ApplicationHandlerStop


async def topic_closed_by_hand(context: BotContext, conversation: ConversationRow) -> None:
    """A librarian closed the topic in Telegram (not with /close): the patron's next message
    opens a new topic, as when a topic is deleted."""
    if conversation.state == "open":
        await handoff.close(context.library, conversation.conversation_id, by="topic", now=now())


# -- commands in a topic -------------------------------------------------------------------------


async def _in_topic(update: Update, context: BotContext) -> ConversationRow | None:
    conversation = await topic_conversation(update, context)
    message = update.effective_message
    if conversation is None and message is not None:
        t = staff_translator(context)
        await message.reply_text(t.gettext("Use this command inside a patron's topic."))
    return conversation


@staff_only
async def close_command(update: Update, context: BotContext) -> None:
    conversation = await _in_topic(update, context)
    message = update.effective_message
    if conversation is None or message is None:
        return
    t_staff = staff_translator(context)
    if not await handoff.close(
        context.library, conversation.conversation_id, by="staff", now=now()
    ):
        await message.reply_text(t_staff.gettext("This conversation is already closed."))
        return
    t = patron_translator(context, conversation)
    minutes = await handoff.reopen_minutes(context.library)
    told = True
    try:
        await context.bot.send_message(
            conversation.chat_id,
            t.gettext("The librarian has closed this conversation. How did it go?")
            + "\n\n"
            + t.ngettext(
                "If you write again within {n} minute, the conversation opens again; later, "
                "send /librarian.",
                "If you write again within {n} minutes, the conversation opens again; later, "
                "send /librarian.",
                minutes,
                n=minutes,
            ),
            reply_markup=rating_markup(conversation.conversation_id),
        )
    except TelegramError:
        told = False
    await message.reply_text(
        t_staff.gettext("✅ Conversation closed. The patron was told.")
        if told
        else t_staff.gettext("✅ Conversation closed. The patron could not be told (blocked?).")
    )
    chat_id = staff_chat_id(context)
    if chat_id is not None and conversation.topic_id is not None:
        try:
            await context.bot.close_forum_topic(chat_id, conversation.topic_id)
        except TelegramError as error:
            log.info("topic %s not closed: %s", conversation.topic_id, error)


def canned_text(t: Translator, canned: handoff.Canned) -> str:
    if canned.msgid is not None:
        return t.gettext(canned.msgid)
    return canned.texts.get(t.language) or next(iter(canned.texts.values()), "")


@staff_only
async def canned_command(update: Update, context: BotContext) -> None:
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    t_staff = staff_translator(context)
    replies = await handoff.canned_replies(context.library)
    args = context.args or []
    if not args:
        if not replies:
            await message.reply_text(t_staff.gettext("No ready answers yet."))
            return
        lines = [t_staff.gettext("Ready answers: /canned KEY sends one.")]
        lines += [
            f"• {reply.key}: {render.clip(canned_text(t_staff, reply), 80)}" for reply in replies
        ]
        await message.reply_text("\n".join(lines))
        return
    conversation = await _in_topic(update, context)
    if conversation is None:
        return
    key = args[0].lower()
    chosen = next((reply for reply in replies if reply.key == key), None)
    if chosen is None:
        await message.reply_text(
            t_staff.gettext("No ready answer {key}: /canned lists them.", key=key)
        )
        return
    t = patron_translator(context, conversation)
    text = canned_text(t, chosen)
    if not await ensure_open(context, conversation, message):
        return
    row_id = await handoff.record(
        context.library,
        conversation.conversation_id,
        direction="staff",
        content=handoff.Content("text", text, None),
        sender_user_id=user.id,
        sender_name=user.full_name,
        now=now(),
    )
    sign = await signature(context, conversation, t, user.first_name)
    try:
        sent = await context.bot.send_message(
            conversation.chat_id,
            f"<b>{html.escape(sign)}</b>\n{html.escape(text)}",
            parse_mode="HTML",
        )
    except TelegramError:
        await message.reply_text(
            t_staff.gettext("⚠️ Not delivered: the patron has blocked the bot.")
        )
        return
    await handoff.relayed(
        context.library,
        row_id,
        conversation_id=conversation.conversation_id,
        patron_message_id=sent.message_id,
    )
    await message.reply_text(t_staff.gettext("📤 Sent: {text}", text=text))


@staff_only
async def ban_command(update: Update, context: BotContext) -> None:
    conversation = await _in_topic(update, context)
    message = update.effective_message
    user = update.effective_user
    if conversation is None or message is None or user is None:
        return
    reason = " ".join(context.args or []) or None
    await handoff.ban(context.library, conversation, by=user.id, reason=reason, now=now())
    t = patron_translator(context, conversation)
    with contextlib.suppress(TelegramError):
        await context.bot.send_message(conversation.chat_id, banned_text(t))
    t_staff = staff_translator(context)
    await message.reply_text(
        t_staff.gettext(
            "🚫 Banned: this account can no longer write to the librarians. /unban undoes it."
        )
    )


@staff_only
async def unban_command(update: Update, context: BotContext) -> None:
    conversation = await _in_topic(update, context)
    message = update.effective_message
    if conversation is None or message is None:
        return
    t_staff = staff_translator(context)
    if not await handoff.unban(context.library, conversation.telegram_user_id):
        await message.reply_text(t_staff.gettext("This account is not banned."))
        return
    t = patron_translator(context, conversation)
    with contextlib.suppress(TelegramError):
        await context.bot.send_message(
            conversation.chat_id,
            t.gettext("You can write to the librarians again: send /librarian."),
        )
    await message.reply_text(t_staff.gettext("✅ Unbanned."))


def register(app: BotApplication) -> None:
    settings = app.bot_data.settings
    assert settings is not None
    in_staff_chat = staff_chat_filter(settings)
    app.add_handler(CommandHandler("close", close_command))
    app.add_handler(CommandHandler("canned", canned_command))
    app.add_handler(CommandHandler("ban", ban_command))
    app.add_handler(CommandHandler("unban", unban_command))
    app.add_handler(
        MessageHandler(
            in_staff_chat & filters.UpdateType.MESSAGE & ~filters.COMMAND, staff_message
        ),
        group=HANDOFF_GROUP,
    )
    app.add_handler(
        MessageHandler(in_staff_chat & filters.UpdateType.EDITED_MESSAGE, staff_edit),
        group=HANDOFF_GROUP,
    )
