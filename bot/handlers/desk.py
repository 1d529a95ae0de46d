"""The desk in the staff group: ``/checkout CARD BARCODE`` and ``/checkin BARCODE``.

A librarian answering a patron in her topic can lend or take back a copy without leaving
Telegram. The commands call the same services as ``bibliobot checkout``/``checkin`` (one
transaction each) and answer in the group, in the library's language; a refusal says, in the
third person, what stands in the way and what the desk can do about it
(:mod:`bot.handlers.desk_render`), followed by its code for the staff's records. Only staff
(members of the staff group, :mod:`bot.handlers.staff_access`) can use them, and only there.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot.handlers import render
from bot.handlers.context import BotApplication, BotContext, now
from bot.handlers.desk_render import staff_refusal
from bot.handlers.staff_access import staff_only, staff_translator
from bot.services import loans
from bot.services.errors import Refusal


@staff_only
async def checkout_command(update: Update, context: BotContext) -> None:
    message = update.effective_message
    if message is None:
        return
    t = staff_translator(context)
    args = context.args or []
    if len(args) != 2:
        await message.reply_text(t.gettext("Usage: /checkout CARD BARCODE"))
        return
    card, barcode = args
    try:
        receipt = await loans.checkout(context.library, card=card, barcode=barcode, now=now())
    except Refusal as refusal:
        await message.reply_text(await staff_refusal(context, t, refusal, card, barcode))
        return
    await message.reply_text(
        t.gettext(
            "✅ Lent to card {card}: {title} ({barcode}). Due: {date}. Receipt {receipt}.",
            card=card,
            title=render.clip(receipt.title, 120),
            barcode=receipt.barcode,
            date=t.format_date(receipt.due_on, "full"),
            receipt=receipt.receipt,
        )
    )


@staff_only
async def checkin_command(update: Update, context: BotContext) -> None:
    message = update.effective_message
    if message is None:
        return
    t = staff_translator(context)
    args = context.args or []
    if len(args) != 1:
        await message.reply_text(t.gettext("Usage: /checkin BARCODE"))
        return
    barcode = args[0]
    try:
        result = await loans.checkin(context.library, barcode=barcode, now=now())
    except Refusal as refusal:
        await message.reply_text(await staff_refusal(context, t, refusal, None, barcode))
        return
    names = await render.branch_names(context.library)
    lines = [
        t.gettext(
            "✅ Returned: {title} ({barcode}).",
            title=render.clip(result.title, 120),
            barcode=result.barcode,
        )
    ]
    if result.card:
        lines.append(t.gettext("It was on loan to card {card}.", card=result.card))
    if result.fine_cents:
        lines.append(t.gettext("Fine charged: {amount}", amount=t.format_money(result.fine_cents)))
    if result.hold_trapped is not None and result.in_transit_to is not None:
        lines.append(
            t.gettext(
                "Send it to {branch}: a reader reserved it.",
                branch=names.get(result.in_transit_to, result.in_transit_to),
            )
        )
    elif result.hold_trapped is not None:
        lines.append(t.gettext("Put it on the hold shelf: a reader reserved it."))
    elif result.in_transit_to is not None:
        lines.append(
            t.gettext(
                "Send it home to {branch}.",
                branch=names.get(result.in_transit_to, result.in_transit_to),
            )
        )
    else:
        lines.append(t.gettext("Put it back on the shelf."))
    await message.reply_text("\n".join(lines))


def register(app: BotApplication) -> None:
    app.add_handler(CommandHandler("checkout", checkout_command))
    app.add_handler(CommandHandler("checkin", checkin_command))
