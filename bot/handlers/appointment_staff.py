"""The staff side of appointments, in the staff forum group (``[telegram] staff_chat_id``).

Each request arrives as a card in the topic "Appuntamenti" (created once by the bot; the
general topic when the group is not a forum) with Confirm and Decline. Only staff — members of
the staff group, asked of Telegram at every press (:func:`bot.handlers.staff_access.is_staff`)
— may press them; anyone else is told so and nothing changes. Once confirmed, the card offers
"Cancel with a message": the bot asks for the reason as a reply to its question, and the
patron is told, with that reason. ``/appointment_cancel ID REASON`` does the same in one line.
The card edits itself to show what happened (decided, cancelled by the patron or the staff).

The patron hears of every decision through the outbox (the confirmation carries the .ics file),
which the dispatcher sends; the bot asks it to send at once (:func:`deliver_soon`). A card that
Telegram refuses when the request is made goes through the outbox too (``staff:appointment_card:
ID``), retried until it is posted; while it waits it is rewritten to how the request stands, and
once posted it is edited like any other. If the topic was deleted meanwhile, the dispatcher has
it made again (:mod:`bot.handlers.staff_cards`) and posts the card there.
"""

from __future__ import annotations

import logging
import re
from html import escape
from typing import cast

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.appointments.notices import when
from bot.handlers import staff_topics
from bot.handlers.context import BotApplication, BotContext, callback, int_part, keyboard, now
from bot.handlers.staff_access import (
    in_staff_chat,
    is_staff,
    staff_chat_filter,
    staff_chat_id,
    staff_only,
    staff_translator,
    user_translator,
)
from bot.handlers.staff_topics import topic_deleted
from bot.i18n import Translator
from bot.reminders.dispatch_job import nudge
from bot.reminders.outgoing import Button, OutgoingMessage
from bot.services import appointments as service
from bot.services.errors import Refusal
from db import outbox

log = logging.getLogger("bibliobot.appointments")

CARD_KIND = "appointment_staff_card"  # the outbox kind of a card queued for the staff group
GENERAL_TOPIC = 0  # stored when the staff group is not a forum: cards go to the general chat
REFERENCE = re.compile(r"#A([0-9]{1,9})\b")  # ASCII digits: \d would take "١٢" too


def reference(appointment_id: int) -> str:
    """ "#A12": how staff name an appointment (and how the bot finds it in a reply)."""
    return f"#A{appointment_id}"


def deliver_soon(context: BotContext) -> None:
    """Ask the dispatcher to send what was just queued rather than at its next tick."""
    # PTB types the context's application with a generic context; it is ours.
    nudge(cast(BotApplication, context.application))


# -- the card ------------------------------------------------------------------------------


def card_text(t: Translator, outcome: service.StaffOutcome) -> str:
    appointment = outcome.appointment
    row = appointment.service
    head = t.gettext("📅 Appointment request {ref}", ref=reference(appointment.appointment_id))
    lines = [
        f"<b>{head}</b>",
        f"{escape(row.name(t.language))} — {escape(row.branch_name)}",
        t.gettext(
            "{when} ({minutes} min)",
            when=when(t, appointment.starts_at),
            minutes=row.duration_minutes,
        ),
        t.gettext(
            "Patron: {name} (card {card})", name=escape(outcome.patron_name), card=outcome.card
        ),
        state_line(t, outcome),
    ]
    return "\n".join(lines)


def state_line(t: Translator, outcome: service.StaffOutcome) -> str:
    appointment = outcome.appointment
    if appointment.state == "requested":
        return t.gettext("⏳ Waiting for a decision")
    if appointment.state == "confirmed":
        return t.gettext("✅ Confirmed: the calendar file is on its way to the patron")
    if appointment.state == "declined":
        return t.gettext("✖ Declined: the patron has been told")
    if appointment.cancelled_by == "patron":
        return t.gettext("🗑 Cancelled by the patron")
    return t.gettext(
        "🗑 Cancelled by the library: {reason}", reason=escape(appointment.cancel_reason or "")
    )


def card_markup(t: Translator, outcome: service.StaffOutcome) -> InlineKeyboardMarkup | None:
    appointment = outcome.appointment
    if appointment.state == "requested":
        return keyboard(
            [
                InlineKeyboardButton(
                    t.gettext("✅ Confirm"),
                    callback_data=callback("aps", "ok", appointment.appointment_id),
                ),
                InlineKeyboardButton(
                    t.gettext("✖ Decline"),
                    callback_data=callback("aps", "no", appointment.appointment_id),
                ),
            ]
        )
    if appointment.state == "confirmed" and appointment.starts_at > now():
        return keyboard(
            [
                InlineKeyboardButton(
                    t.gettext("🗑 Cancel with a message"),
                    callback_data=callback("aps", "cx", appointment.appointment_id),
                )
            ]
        )
    return None


async def topic(context: BotContext, chat_id: int, t: Translator) -> int | None:
    """The "Appuntamenti" topic's thread id, created the first time (None: general chat);
    under the staff topics' lock, so that requests made at once create it once."""
    async with context.bot_data.staff_topics:
        return await _topic(context, chat_id, t)


async def _topic(context: BotContext, chat_id: int, t: Translator) -> int | None:
    stored = await service.staff_topic(context.library)
    if stored is not None:
        return None if stored == GENERAL_TOPIC else stored
    try:
        created = await context.bot.create_forum_topic(chat_id, t.gettext("Appointments"))
        thread: int | None = created.message_thread_id
    except BadRequest:  # not a forum, or the bot may not manage topics: the general chat
        thread = None
    await service.remember_staff_topic(
        context.library, GENERAL_TOPIC if thread is None else thread, now()
    )
    return thread


async def post_request(context: BotContext, appointment_id: int) -> None:
    """Put a new request's card in the staff group; a topic deleted by hand is made again.
    When Telegram fails now, the card is queued in the outbox (the dispatcher retries it):
    a request never goes unseen by staff."""
    chat_id = staff_chat_id(context)
    outcome = await service.staff_view(context.library, appointment_id)
    if chat_id is None or outcome is None:
        return
    t = staff_translator(context)
    text, markup = card_text(t, outcome), card_markup(t, outcome)
    thread: int | None = None
    try:
        thread = await topic(context, chat_id, t)
        for attempt in range(2):
            try:
                sent = await context.bot.send_message(
                    chat_id,
                    text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                    message_thread_id=thread,
                )
            except BadRequest as error:
                if attempt == 0 and thread is not None and topic_deleted(error):
                    thread = await replace_topic(context, chat_id, thread)
                    continue
                raise
            await service.remember_staff_card(
                context.library,
                appointment_id,
                chat_id=chat_id,
                thread_id=thread,
                message_id=sent.message_id,
            )
            return
    except TelegramError as error:
        log.warning("appointment %s: the staff card is queued: %s", appointment_id, error)
        await queue_card(context, outcome, chat_id, thread, t)


async def replace_topic(context: BotContext, chat_id: int, lost: int) -> int | None:
    """The "Appuntamenti" topic after ``lost`` was deleted by hand, made again once
    (:func:`bot.handlers.staff_topics.replace`): for a card posted now, or one the outbox sends
    later."""
    library = context.library

    async def forget() -> None:
        await service.remember_staff_topic(library, None, now())

    return await staff_topics.replace(
        context,
        lost,
        stored=lambda: service.staff_topic(library),
        forget=forget,
        make=lambda: _topic(context, chat_id, staff_translator(context)),
    )


def card_key(appointment_id: int) -> str:
    """The outbox key of a request's card queued for the staff group."""
    return f"staff:appointment_card:{appointment_id}"


def card_message(
    t: Translator, outcome: service.StaffOutcome, thread: int | None
) -> OutgoingMessage:
    """The card as the outbox sends it: the same text and buttons as a card posted now."""
    markup = card_markup(t, outcome)
    rows = markup.inline_keyboard if markup is not None else ()
    return OutgoingMessage(
        text=card_text(t, outcome),
        buttons=tuple(
            tuple(Button(text=b.text, callback_data=str(b.callback_data)) for b in row)
            for row in rows
        ),
        thread_id=thread,
    )


async def queue_card(
    context: BotContext,
    outcome: service.StaffOutcome,
    chat_id: int,
    thread: int | None,
    t: Translator,
) -> None:
    appointment = outcome.appointment
    moment = now()
    notice = outbox.NewNotice(
        dedupe_key=card_key(appointment.appointment_id),
        patron_id=None,
        kind=CARD_KIND,
        payload=card_message(t, outcome, thread).to_payload(),
        not_before=moment,
        expires_at=appointment.starts_at,  # a card after the time is of no use
        chat_id=chat_id,
    )
    async with context.library.store.transaction() as conn:
        await outbox.enqueue(conn, notice, moment)
    deliver_soon(context)


async def refresh_card(context: BotContext, appointment_id: int) -> None:
    """Show on the card what has happened; the card is a courtesy, so failures are logged.
    A card still waiting in the outbox is rewritten there; one the outbox sent is edited."""
    outcome = await service.staff_view(context.library, appointment_id)
    if outcome is None:
        return
    appointment = outcome.appointment
    t = staff_translator(context)
    chat_id, message_id = appointment.staff_chat_id, appointment.staff_message_id
    if chat_id is None or message_id is None:
        key = card_key(appointment_id)
        async with context.library.store.transaction() as conn:
            queued = await outbox.sent_message(conn, key)
            unsent = None if queued is not None else await outbox.unsent_payload(conn, key)
            if unsent is not None:
                thread = OutgoingMessage.from_payload(unsent).thread_id
                await outbox.replace_pending(
                    conn, key, card_message(t, outcome, thread).to_payload()
                )
        if queued is None:
            return  # never posted (no staff group then), or still waiting: rewritten above
        chat_id, message_id = queued.chat_id, queued.message_id
    try:
        await context.bot.edit_message_text(
            card_text(t, outcome),
            chat_id=chat_id,
            message_id=message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=card_markup(t, outcome),
        )
    except TelegramError as error:
        if "not modified" not in str(error).lower():
            log.warning("appointment %s: the staff card was not updated: %s", appointment_id, error)


# -- staff acting --------------------------------------------------------------------------


def refusal_sentence(t: Translator, refusal: Refusal) -> str:
    if refusal.code == "already_decided":
        return t.gettext("This appointment was already decided or cancelled.")
    if refusal.code == "already_started":
        return t.gettext("This appointment's time has passed: it can only be declined.")
    if refusal.code == "unknown_appointment":
        return t.gettext("There is no such appointment.")
    if refusal.code == "bad_reason":
        return t.gettext("Please write the reason for the patron (up to 500 characters).")
    return t.gettext("That did not work: {code}", code=refusal.code)


async def staff_button(update: Update, context: BotContext) -> None:
    """``aps:ok|no|cx:<id>``, pressed in the staff group (by staff, and only there: the same
    data forged in a private chat is refused, as the desk commands are)."""
    query = update.callback_query
    user = update.effective_user
    if query is None or user is None:
        return
    t = staff_translator(context)
    pieces = (query.data or "").split(":")
    appointment_id = int_part(pieces[2]) if len(pieces) == 3 else None
    if appointment_id is None or pieces[1] not in ("ok", "no", "cx"):
        await query.answer()  # not a button the bot made (a forged or garbled id)
        return
    if not in_staff_chat(update, context) or not await is_staff(context, user.id):
        refused = await user_translator(update, context)  # not staff: her own language
        await query.answer(
            refused.gettext("Only the library's staff can do this."), show_alert=True
        )
        return
    if pieces[1] == "cx":
        await query.answer()
        await ask_reason(update, context, t, appointment_id)
        return
    try:
        await service.decide(
            context.library,
            context.i18n,
            appointment_id=appointment_id,
            confirm=pieces[1] == "ok",
            staff_user_id=user.id,
            now=now(),
        )
    except Refusal as refusal:
        await query.answer(refusal_sentence(t, refusal), show_alert=True)
        await refresh_card(context, appointment_id)
        return
    deliver_soon(context)
    await query.answer(t.gettext("Confirmed.") if pieces[1] == "ok" else t.gettext("Declined."))
    await refresh_card(context, appointment_id)


async def ask_reason(
    update: Update, context: BotContext, t: Translator, appointment_id: int
) -> None:
    message = update.effective_message
    if message is None:
        return
    # TRANSLATORS: keep {ref} as it is: the bot finds the appointment by it in the reply.
    text = t.gettext(
        "🗑 Cancelling appointment {ref}: reply to this message with the reason, which the "
        "patron will read.",
        ref=reference(appointment_id),
    )
    await context.bot.send_message(
        message.chat_id,
        text,
        message_thread_id=message.message_thread_id if message.is_topic_message else None,
        reply_markup=ForceReply(selective=True, input_field_placeholder=t.gettext("Reason")),
    )


class _ReplyToReasonQuestion(filters.MessageFilter):
    """A text replying to the bot's "reply with the reason" question."""

    def filter(self, message: Message) -> bool:
        replied = message.reply_to_message
        return bool(
            message.text
            and replied is not None
            and replied.from_user is not None
            and replied.from_user.id == message.get_bot().id
            and replied.text
            and REFERENCE.search(replied.text)
        )


REASON_REPLY = _ReplyToReasonQuestion(name="reply_to_reason_question")


async def reason_reply(update: Update, context: BotContext) -> None:
    message = update.message
    user = update.effective_user
    if message is None or user is None or message.reply_to_message is None:
        return
    match = REFERENCE.search(message.reply_to_message.text or "")
    if match is None:
        return
    await cancel_with_reason(update, context, int(match.group(1)), message.text or "")


@staff_only
async def cancel_command(update: Update, context: BotContext) -> None:
    """``/appointment_cancel ID REASON`` (ID as on the card: 12 or #A12), in the staff group."""
    message = update.message
    if message is None:
        return
    t = staff_translator(context)
    args = context.args or []
    ident = args[0].removeprefix("#").removeprefix("A").removeprefix("a") if args else ""
    appointment_id = int_part(ident)
    if appointment_id is None or len(args) < 2:
        await message.reply_text(
            t.gettext(
                "Write the appointment's number and the reason for the patron, e.g. "
                "/appointment_cancel 12 The reading room is closed for a leak."
            )
        )
        return
    await cancel_with_reason(update, context, appointment_id, " ".join(args[1:]))


async def cancel_with_reason(
    update: Update, context: BotContext, appointment_id: int, reason: str
) -> None:
    message = update.message
    user = update.effective_user
    if message is None or user is None:
        return
    if not await is_staff(context, user.id):
        refused = await user_translator(update, context)
        await message.reply_text(refused.gettext("Only the library's staff can do this."))
        return
    t = staff_translator(context)
    try:
        await service.cancel_by_staff(
            context.library, context.i18n, appointment_id=appointment_id, reason=reason, now=now()
        )
    except Refusal as refusal:
        await message.reply_text(refusal_sentence(t, refusal))
        return
    deliver_soon(context)
    await message.reply_text(
        t.gettext(
            "Appointment {ref} is cancelled; the patron has been told why.",
            ref=reference(appointment_id),
        )
    )
    await refresh_card(context, appointment_id)


def register(app: BotApplication) -> None:
    """Before the staff group's relay: a reply to the bot's reason question is ours."""
    app.add_handler(CallbackQueryHandler(staff_button, pattern=r"^aps:"))
    app.add_handler(CommandHandler("appointment_cancel", cancel_command))
    settings = app.bot_data.settings
    assert settings is not None
    in_group = staff_chat_filter(settings)
    app.add_handler(
        MessageHandler(in_group & filters.TEXT & ~filters.COMMAND & REASON_REPLY, reason_reply)
    )
