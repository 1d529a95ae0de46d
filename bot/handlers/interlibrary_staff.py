"""The staff group's side of interlibrary loan: the request cards and the buttons on them.

Each request becomes a card in the staff group (``[telegram] staff_chat_id``), in a topic
"Interlibrary loan" created once (its id kept in the settings store as ``ill.staff_topic_id``),
or in the general topic when the group is not a forum; one deleted by hand is made again
(:mod:`bot.handlers.staff_topics`). Staff press: set the cost (a short dialogue: the amount in
euros), ordered, arrived, not available, returned. Every press checks that the presser is staff
(membership of the staff group, asked of Telegram) and acts on the request as the store has it
now; the card is then edited to the current state, and the patron hears of it through the
outbox.

A card that cannot be posted (Telegram down) is queued in the outbox for the staff group, so
the request is never lost to staff; if its topic is deleted before it goes out, the dispatcher
has the topic made again and posts it there (:mod:`bot.handlers.staff_cards`).
"""

from __future__ import annotations

import html
import logging
import warnings
from typing import cast

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler
from telegram.ext import filters as ptb_filters
from telegram.warnings import PTBUserWarning

from bot.circulation import IllScope, parse_euros
from bot.handlers import render, staff_topics
from bot.handlers.context import BotApplication, BotContext, int_part, keyboard, now
from bot.handlers.interlibrary_render import (
    patron_notice,
    staff_card_buttons,
    staff_card_text,
)
from bot.handlers.staff_access import in_staff_chat, is_staff, staff_translator, user_translator
from bot.handlers.staff_access import staff_chat_id as staff_chat
from bot.handlers.staff_topics import topic_deleted
from bot.i18n import Translator
from bot.reminders import dispatch_job
from bot.reminders.outgoing import Button, OutgoingMessage
from bot.services import interlibrary
from bot.services.errors import Refusal
from bot.services.interlibrary import IllView
from db import interlibrary as ill_repo
from db import outbox
from db import settings as settings_repo

log = logging.getLogger("bibliobot.ill")

TOPIC_KEY = "ill.staff_topic_id"
CARD_KIND = "ill_staff_card"  # the outbox kind of a card queued for the staff group
ASK_COST = 0
STEP_NAMES = {"ord": "ordered", "arr": "arrived", "na": "not_available", "ret": "returned"}


def pays(context: BotContext, request: IllView) -> bool:
    ill = context.library.policy.interlibrary
    scope = ill.scopes.get(IllScope(request.scope)) if ill is not None else None
    return scope is not None and scope.patron_pays


def card_markup(
    t: Translator, context: BotContext, request: IllView
) -> InlineKeyboardMarkup | None:
    """The card's buttons; None once the request is closed (nothing left to press)."""
    buttons = staff_card_buttons(t, request, pays(context, request))
    if not buttons:
        return None
    return keyboard([InlineKeyboardButton(label, callback_data=data) for label, data in buttons])


async def patron_notifier(context: BotContext) -> interlibrary.Notify:
    names = await render.branch_names(context.library)

    def notify(request: IllView) -> OutgoingMessage | None:
        t = context.i18n.translator(request.language)
        return patron_notice(t, request, names.get(request.home_branch, request.home_branch))

    return notify


def deliver_soon(context: BotContext) -> None:
    """Ask the dispatcher to send what was just queued (after the commit) rather than at its
    next tick."""
    dispatch_job.nudge(cast(BotApplication, context.application))


# -- posting and refreshing cards --------------------------------------------------------------


async def topic_id(context: BotContext, chat_id: int) -> int | None:
    """The "Interlibrary loan" topic, created the first time; None: the general topic. Under
    the staff topics' lock, so that requests made at once create it once."""
    async with context.bot_data.staff_topics:
        return await _topic_id(context, chat_id)


async def _topic_id(context: BotContext, chat_id: int) -> int | None:
    store = context.library.store
    async with store.snapshot() as conn:
        stored = await settings_repo.get(conn, TOPIC_KEY)
    if isinstance(stored, int) and stored > 0:
        return stored
    chat = await context.bot.get_chat(chat_id)
    if not chat.is_forum:
        return None
    t = staff_translator(context)
    topic = await context.bot.create_forum_topic(chat_id, t.gettext("Interlibrary loan"))
    async with store.transaction() as conn:
        await settings_repo.put(conn, TOPIC_KEY, topic.message_thread_id, now(), by="bot")
    return topic.message_thread_id


async def post_card(context: BotContext, request: IllView) -> None:
    """Put a new request in front of staff; queue it in the outbox if Telegram fails now."""
    chat_id = staff_chat(context)
    if chat_id is None:
        log.warning("interlibrary request %s: no [telegram] staff_chat_id", request.request_id)
        return
    t = staff_translator(context)
    text = staff_card_text(t, request, pays(context, request))
    markup = card_markup(t, context, request)
    thread: int | None = None
    try:
        thread = await topic_id(context, chat_id)
        try:
            sent = await context.bot.send_message(
                chat_id, text, reply_markup=markup, message_thread_id=thread
            )
        except BadRequest as error:
            if thread is None or not topic_deleted(error):
                raise
            # Deleted by hand: made again (once), and the card goes there.
            thread = await replace_topic(context, chat_id, thread)
            sent = await context.bot.send_message(
                chat_id, text, reply_markup=markup, message_thread_id=thread
            )
    except TelegramError as error:
        log.warning("interlibrary card %s queued: %s", request.request_id, error)
        await queue_card(context, request, chat_id, thread, text, t)
        return
    async with context.library.store.transaction() as conn:
        await ill_repo.put_staff_card(
            conn,
            request.request_id,
            ill_repo.StaffCard(chat_id, thread, sent.message_id),
            now(),
        )


async def replace_topic(context: BotContext, chat_id: int, lost: int) -> int | None:
    """The "Interlibrary loan" topic after ``lost`` was deleted by hand, made again once
    (:func:`bot.handlers.staff_topics.replace`): for a card posted now, or one the outbox sends
    later."""
    store = context.library.store

    async def stored() -> int | None:
        async with store.snapshot() as conn:
            value = await settings_repo.get(conn, TOPIC_KEY)
        return value if isinstance(value, int) else None

    async def forget() -> None:
        async with store.transaction() as conn:
            await settings_repo.delete(conn, TOPIC_KEY)

    return await staff_topics.replace(
        context,
        lost,
        stored=stored,
        forget=forget,
        make=lambda: _topic_id(context, chat_id),
    )


async def queue_card(
    context: BotContext,
    request: IllView,
    chat_id: int,
    thread: int | None,
    text: str,
    t: Translator,
) -> None:
    buttons = staff_card_buttons(t, request, pays(context, request))
    message = OutgoingMessage(
        text=html.escape(text, quote=False),  # the card is plain text; the outbox sends HTML
        buttons=(tuple(Button(text=label, callback_data=data) for label, data in buttons),)
        if buttons
        else (),
        thread_id=thread,
    )
    moment = now()
    notice = outbox.NewNotice(
        dedupe_key=ill_repo.staff_card_key(request.request_id),
        patron_id=None,
        kind=CARD_KIND,
        payload=message.to_payload(),
        not_before=moment,
        chat_id=chat_id,
    )
    async with context.library.store.transaction() as conn:
        await outbox.enqueue(conn, notice, moment)
    deliver_soon(context)


async def refresh_card(context: BotContext, request_id: int) -> None:
    """Edit the request's card to how the request stands (after the patron acted)."""
    async with context.library.store.snapshot() as conn:
        card = await ill_repo.staff_card(conn, request_id)
        if card is None:
            card = await ill_repo.queued_staff_card(conn, request_id)
    request = await interlibrary.view(context.library, request_id)
    if card is None or request is None:
        return
    t = staff_translator(context)
    try:
        await context.bot.edit_message_text(
            staff_card_text(t, request, pays(context, request)),
            chat_id=card.chat_id,
            message_id=card.message_id,
            reply_markup=card_markup(t, context, request),
        )
    except TelegramError as error:  # too old, deleted, unchanged: the store has the truth
        log.info("interlibrary card %s not edited: %s", request_id, error)


async def show_card(update: Update, context: BotContext, request: IllView) -> None:
    query = update.callback_query
    if query is None or query.message is None:
        return
    t = staff_translator(context)
    try:
        await query.edit_message_text(
            staff_card_text(t, request, pays(context, request)),
            reply_markup=card_markup(t, context, request),
        )
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            raise


# -- staff buttons -----------------------------------------------------------------------------


async def staff_press(update: Update, context: BotContext) -> tuple[int, str] | None:
    """The request id and step of a staff button, if a staff member pressed it in the staff
    group; otherwise answer the press with why not, and None."""
    query = update.callback_query
    user = update.effective_user
    if query is None or user is None:
        return None
    pieces = (query.data or "").split(":")
    request_id = int_part(pieces[2]) if len(pieces) == 3 else None
    if request_id is None:
        await query.answer()
        return None
    if not in_staff_chat(update, context) or not await is_staff(context, user.id):
        t = await user_translator(update, context)  # not staff: the presser's own language
        await query.answer(t.gettext("Only the library's staff can do this."), show_alert=True)
        return None
    return request_id, pieces[1]


async def staff_step(update: Update, context: BotContext) -> None:
    """``ills:ord|arr|na|ret:<id>``: move the request on, edit the card, tell the patron."""
    query = update.callback_query
    pressed = await staff_press(update, context)
    if query is None or pressed is None:
        return
    request_id, code = pressed
    t = staff_translator(context)
    step = STEP_NAMES.get(code)
    if step is None:
        await query.answer()
        return
    try:
        request = await interlibrary.staff_step(
            context.library,
            request_id=request_id,
            step=step,
            now=now(),
            notify=await patron_notifier(context),
        )
    except Refusal as refusal:
        await query.answer(staff_refusal(t, refusal), show_alert=True)
        current = await interlibrary.view(context.library, request_id)
        if current is not None:
            await show_card(update, context, current)
        return
    deliver_soon(context)  # the patron's notice, now rather than at the next tick
    await query.answer(t.gettext("Done: the patron will be told."))
    await show_card(update, context, request)


def staff_refusal(t: Translator, refusal: Refusal) -> str:
    if refusal.code == "awaiting_consent":
        return t.gettext(
            "The patron has not agreed to the cost yet: it cannot be ordered until she does."
        )
    if refusal.code == "unknown_request":
        return t.gettext("That request is not in the store any more.")
    if refusal.code == "no_cost_now":
        return t.gettext("The cost can only be set before the patron agrees to it.")
    return t.gettext("That is not possible now: the card shows how the request stands.")


# -- setting the cost (a short dialogue in the group) ------------------------------------------


async def ask_cost(update: Update, context: BotContext) -> int:
    query = update.callback_query
    pressed = await staff_press(update, context)
    if query is None or pressed is None:
        return ConversationHandler.END
    request_id, _ = pressed
    t = staff_translator(context)
    request = await interlibrary.view(context.library, request_id)
    if request is None or request.state != "awaiting_consent" or not pays(context, request):
        await query.answer(
            t.gettext("The cost can only be set before the patron agrees to it."), show_alert=True
        )
        if request is not None:
            await show_card(update, context, request)
        return ConversationHandler.END
    await query.answer()
    if context.user_data is not None:
        context.user_data["ill_cost_for"] = request_id
    message = query.message
    user = update.effective_user
    if message is None or user is None:
        return ConversationHandler.END
    await context.bot.send_message(
        message.chat.id,
        t.gettext(
            "{name}, send the cost of request #{number} in euros (for example 8,50), or /cancel.",
            name=user.first_name,
            number=request_id,
        ),
        message_thread_id=getattr(message, "message_thread_id", None),
    )
    return ASK_COST


async def take_cost(update: Update, context: BotContext) -> int:
    message = update.message
    user = update.effective_user
    if message is None or message.text is None or user is None:
        return ASK_COST
    t = staff_translator(context)
    request_id = (context.user_data or {}).get("ill_cost_for")
    if not isinstance(request_id, int):
        return ConversationHandler.END
    if not await is_staff(context, user.id):
        return ConversationHandler.END
    try:
        cents = parse_euros(message.text.replace("€", ""))
    except ValueError:
        await message.reply_text(
            t.gettext("That is not an amount in euros: send just the number, like 8,50.")
        )
        return ASK_COST
    try:
        request = await interlibrary.set_cost(
            context.library,
            request_id=request_id,
            cost_cents=cents,
            now=now(),
            notify=await patron_notifier(context),
        )
    except Refusal as refusal:
        await message.reply_text(staff_refusal(t, refusal))
        return end_cost(context)
    deliver_soon(context)
    await message.reply_text(
        t.gettext(
            "Cost of request #{number}: {cost}. The patron has been asked to agree; nothing is "
            "ordered until she does.",
            number=request_id,
            cost=t.format_money(cents),
        )
    )
    await refresh_card(context, request.request_id)
    return end_cost(context)


async def cancel_cost(update: Update, context: BotContext) -> int:
    if update.message is not None:
        await update.message.reply_text(staff_translator(context).gettext("All right, stopped."))
    return end_cost(context)


def end_cost(context: BotContext) -> int:
    if context.user_data is not None:
        context.user_data.pop("ill_cost_for", None)
    return ConversationHandler.END


def cost_conversation() -> ConversationHandler[BotContext]:
    # Started by a button, continued by the same staff member's next message in the group: per
    # chat and user, not per message (PTB warns about exactly that choice, which is ours).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)
        return ConversationHandler(
            entry_points=[CallbackQueryHandler(ask_cost, pattern=r"^ills:cost:")],
            states={
                ASK_COST: [
                    MessageHandler(ptb_filters.TEXT & ~ptb_filters.COMMAND, take_cost),
                ]
            },
            fallbacks=[CommandHandler("cancel", cancel_cost)],
            name="ill_cost",
            per_message=False,
            conversation_timeout=600,
        )


def register(app: BotApplication) -> None:
    app.add_handler(cost_conversation())
    app.add_handler(CallbackQueryHandler(staff_step, pattern=r"^ills:"))
