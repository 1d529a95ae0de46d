"""``/loans`` and the renew buttons: the patron's loans, nearest due date first, renewed in chat.

Callback data (every press is checked again against the store, never trusted):

- ``loans:list`` (the menu) sends the first page; ``loans:page:<n>`` turns the list's page.
- ``renew:<loan_id>[:<page>]`` renews one loan. The loan is looked up again among the presser's
  own open loans; a loan returned since the list was sent, or someone else's (a forged press),
  gets the same polite answer and the list as it is now, and nothing changes in the store.
- ``renew:all[:<page>]`` renews every loan that may be and reports each one in one message.

A renewal answers with its receipt (new due date, reference number: G14 makes the patron's
confirmation prevail in a dispute), and the list it was pressed on updates in place.
"""

from __future__ import annotations

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.handlers.context import (
    BotApplication,
    BotContext,
    int_part,
    is_private,
    keyboard,
    now,
    parse_callback,
    who,
)
from bot.handlers.loan_render import (
    Screen,
    is_loans_list,
    loans_screen,
    not_linked_screen,
    private_chat_pointer,
    receipt_text,
    refusal_text,
    renew_all_text,
    show,
)
from bot.handlers.start import main_menu
from bot.i18n import Translator
from bot.services import loans, patrons
from bot.services.errors import Refusal
from bot.services.identity import Account

ANSWER_LIMIT = 200  # characters of a callback answer's text


async def loans_command(update: Update, context: BotContext) -> None:
    if update.message is None:
        return
    account, t = await who(update, context)
    if not is_private(update):
        await update.message.reply_text(private_chat_pointer(t, context.bot.username))
        return
    await show(update, context, await current_list(context, account, t, 0))


async def loans_button(update: Update, context: BotContext) -> None:
    """``loans:list`` sends the list; ``loans:page:<n>`` shows page n in place."""
    query = update.callback_query
    if query is None:
        return
    account, t = await who(update, context)
    if not is_private(update):
        await query.answer(private_chat_pointer(t, context.bot.username)[:ANSWER_LIMIT])
        return
    await query.answer()
    page = parse_callback(query.data, "loans", 2)
    if page is not None and page[0] == "page":
        number = int_part(page[1]) or 0
        await show(update, context, await current_list(context, account, t, number), edit=True)
        return
    await show(update, context, await current_list(context, account, t, 0))


async def current_list(context: BotContext, account: Account, t: Translator, page: int) -> Screen:
    """The patron's loans as the store has them now (or how to link a card)."""
    if account.patron is None:
        return not_linked_screen(t)
    summary = await patrons.summary(context.library, card=account.patron.card, now=now())
    return loans_screen(
        t,
        summary.loans,
        page,
        today=t.local_date(now()),
        max_renewals=context.library.policy.renewals.max_renewals,
    )


async def renew_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None:
        return
    account, t = await who(update, context)
    if not is_private(update):
        await query.answer(private_chat_pointer(t, context.bot.username)[:ANSWER_LIMIT])
        return
    parts = parse_callback(query.data, "renew", 2) or parse_callback(query.data, "renew", 1)
    if account.patron is None:
        await query.answer()
        await show(update, context, not_linked_screen(t))
        return
    if parts is None:
        await query.answer(
            t.gettext("That button is not valid any more. Here are your loans as they are now.")
        )
        await _refresh(update, context, account, t, 0)
        return
    page = (int_part(parts[1]) or 0) if len(parts) == 2 else 0
    if parts[0] == "all":
        await _renew_all(update, context, query, account, account.patron.card, t, page)
    else:
        loan_id = int_part(parts[0])
        await _renew_one(update, context, query, account, account.patron.card, t, loan_id, page)


async def _renew_one(
    update: Update,
    context: BotContext,
    query: CallbackQuery,
    account: Account,
    card: str,
    t: Translator,
    loan_id: int | None,
    page: int,
) -> None:
    library = context.library
    summary = await patrons.summary(library, card=card, now=now())
    loan = next((line for line in summary.loans if line.loan_id == loan_id), None)
    if loan is None:
        # Returned since the list was sent, or not this patron's: the same answer for both.
        await query.answer(
            t.gettext(
                "That loan is not on your card any more (it may have been returned). Here are "
                "your loans as they are now."
            )[:ANSWER_LIMIT]
        )
        await _refresh(update, context, account, t, page)
        return
    try:
        receipt = await loans.renew(
            library, card=card, barcode=loan.barcode, now=now(), channel="telegram"
        )
    except Refusal as refusal:
        await query.answer(t.gettext("Not renewed."))
        text = refusal_text(t, refusal, loan, summary, library.policy)
        await show(update, context, Screen(text, next_steps(t)))
    else:
        await query.answer(t.gettext("Renewed."))
        await show(update, context, Screen(receipt_text(t, receipt), next_steps(t)))
    await _refresh(update, context, account, t, page)


async def _renew_all(
    update: Update,
    context: BotContext,
    query: CallbackQuery,
    account: Account,
    card: str,
    t: Translator,
    page: int,
) -> None:
    library = context.library
    summary = await patrons.summary(library, card=card, now=now())
    outcomes = await loans.renew_all(library, card=card, now=now(), channel="telegram")
    await query.answer()
    text = renew_all_text(t, outcomes, summary, library.policy)
    await show(update, context, Screen(text, next_steps(t)))
    await _refresh(update, context, account, t, page)


def next_steps(t: Translator) -> InlineKeyboardMarkup:
    """Under a receipt or a refusal: where to go next (the list above updates itself)."""
    return keyboard(*main_menu(t, True))


async def _refresh(
    update: Update, context: BotContext, account: Account, t: Translator, page: int
) -> None:
    """Bring the list the button was pressed on up to date; any other message stays."""
    query = update.callback_query
    if query is not None and is_loans_list(query.message):
        await show(update, context, await current_list(context, account, t, page), edit=True)
    elif query is not None:
        await show(update, context, await current_list(context, account, t, page))


def register(app: BotApplication) -> None:
    app.add_handler(CommandHandler("loans", loans_command))
    app.add_handler(CallbackQueryHandler(loans_button, pattern=r"^loans:"))
    app.add_handler(CallbackQueryHandler(renew_button, pattern=r"^renew:"))
