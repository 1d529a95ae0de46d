"""``/admin``: for the administrators named in ``[telegram] admin_user_ids``, in a private chat.

It shows the regulation in force in a few lines, the network's statistics (loans, overdue,
holds, notices queued, sent and undeliverable) and the reminder timing, which can be changed
from here: ``adm:rem`` lists the timing with a button per setting, ``adm:set:<key>`` asks for
the new value, and the next text message is it. The value is validated by
:mod:`bot.reminders.timing` (the same rules as ``bibliobot settings reminders set``); a wrong
one is explained and changes nothing. Cycles read the timing at every run, so a change takes
effect at the next one.

Who is an administrator comes from the configuration only, and is checked again on every
message and every button press: anybody else is told the command is not for them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import InlineKeyboardButton, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.circulation import format_euros
from bot.circulation.policy import Policy
from bot.handlers.context import BotApplication, BotContext, is_private, keyboard, now, who
from bot.i18n import N_, Translator
from bot.reminders import timing
from bot.services import statistics

# What each setting is called on the screen, and an example of a value.
LABELS: dict[str, tuple[str, str]] = {
    "due_offsets": (N_("Due-date reminders, days before the due date"), "3,0"),
    "overdue_levels": (N_("Overdue notices, levels"), "first_day,grace_end,suspension"),
    "hold_reminder_days": (N_("Pickup reminder, days before the last day"), "1"),
    "reminders_hour": (N_("Hour of the due-date reminders"), "09:00"),
    "overdue_hour": (N_("Hour of the overdue notices"), "09:00"),
    "holds_hour": (N_("Hour of the holds cycle"), "08:30"),
    "quiet_hours": (N_("Quiet hours (nothing is sent)"), "21:00-08:00"),
    "max_notice_age_days": (N_("Maximum age of a notice, in days"), "7"),
}
EDITING = {key: f"admin-edit:{key}" for key in timing.KEYS}


def is_admin(update: Update, context: BotContext) -> bool:
    user = update.effective_user
    settings = context.bot_data.settings
    return (
        user is not None
        and settings is not None
        and user.id in settings.telegram.admin_user_ids
        and is_private(update)
    )


async def _refuse(update: Update, context: BotContext, t: Translator) -> None:
    text = t.gettext("This command is for the library's administrators.")
    if update.callback_query is not None:
        await update.callback_query.answer(text)
    elif update.effective_chat is not None:
        await context.bot.send_message(update.effective_chat.id, text)


async def admin_command(update: Update, context: BotContext) -> int:
    _, t = await who(update, context)
    if not is_admin(update, context):
        await _refuse(update, context, t)
        return ConversationHandler.END
    await _send_overview(update, context, t)
    return ConversationHandler.END


async def _send_overview(update: Update, context: BotContext, t: Translator) -> None:
    library = context.library
    stats = await statistics.network_statistics(library, now=now())
    current = await timing.load_for(library)
    lines = [t.gettext("⚙️ Administration"), ""]
    lines += policy_summary(t, library.policy)
    lines += ["", t.gettext("📊 Statistics")]
    lines.append(
        t.gettext(
            "Loans: {loans} open, {overdue} overdue",
            loans=t.format_number(stats.open_loans),
            overdue=t.format_number(stats.overdue_loans),
        )
    )
    lines.append(
        t.gettext(
            "Holds: {holds} active, {ready} waiting to be collected",
            holds=t.format_number(stats.active_holds),
            ready=t.format_number(stats.ready_holds),
        )
    )
    lines.append(
        t.gettext(
            "Notices: {queued} queued, {sent} sent, {undeliverable} undeliverable, "
            "{expired} expired",
            queued=t.format_number(stats.notices["pending"] + stats.notices["sending"]),
            sent=t.format_number(stats.notices["sent"]),
            undeliverable=t.format_number(stats.notices["undeliverable"]),
            expired=t.format_number(stats.notices["expired"]),
        )
    )
    lines.append(t.gettext("Patrons on Telegram: {n}", n=t.format_number(stats.linked_patrons)))
    lines += ["", *timing_lines(t, current)]
    markup = keyboard(
        [InlineKeyboardButton(t.gettext("⏰ Change the reminder timing"), callback_data="adm:rem")]
    )
    if update.effective_chat is not None:
        await context.bot.send_message(
            update.effective_chat.id, "\n".join(lines), reply_markup=markup
        )


def policy_summary(t: Translator, policy: Policy) -> list[str]:
    """The regulation in force, in the words of its rules."""
    days = policy.loans.days.adult
    lines = [
        t.gettext("📜 Regulation: {name}", name=policy.name),
        t.gettext(
            "Loans: {book} days for books, {av} for audiovisual (rule {rule}); at most "
            "{renewals} renewals (rule {renewal_rule})",
            book=days.book or "-",
            av=days.audiovisual or "-",
            rule=policy.loans.rule,
            renewals=policy.renewals.max_renewals,
            renewal_rule=policy.renewals.rule,
        ),
        t.gettext(
            "Holds: at most {n}, kept {days} days for pickup (rule {rule})",
            n=policy.holds.max_active,
            days=policy.holds.pickup_days,
            rule=policy.holds.rule,
        ),
    ]
    fines = policy.fines
    if fines is None:
        lines.append(t.gettext("Fines: none in money"))
    else:
        lines.append(
            t.gettext(
                "Fines: {rate} a day after {grace} days of grace (rules {grace_rule}, {rule}), "
                "at most {cap} per title for adults",
                rate=f"{format_euros(fines.cents_per_day)} €",
                grace=fines.grace_days,
                grace_rule=fines.grace_rule,
                rule=fines.rule,
                cap=f"{format_euros(fines.caps.adult.one_title_cents)} €",
            )
        )
    standing = policy.standing
    if standing.suspend_after_days_late is not None:
        lines.append(
            t.gettext(
                "Suspension after {days} days late (rule {rule})",
                days=standing.suspend_after_days_late,
                rule=standing.overdue_rule,
            )
        )
    if standing.exclude_after_days_late is not None:
        lines.append(
            t.gettext(
                "Exclusion after {days} days late (rule {rule})",
                days=standing.exclude_after_days_late,
                rule=standing.exclusion_rule,
            )
        )
    return lines


def timing_lines(t: Translator, current: timing.Timing) -> list[str]:
    lines = [t.gettext("⏰ Reminder timing")]
    for key, value in current.as_text().items():
        label, _ = LABELS[key]
        mark = "" if key in current.overridden else " " + t.gettext("(default)")
        lines.append(f"• {t.gettext(label)}: {value}{mark}")
    return lines


async def timing_button(update: Update, context: BotContext) -> int:
    """``adm:rem``: the timing with one button per setting."""
    query = update.callback_query
    _, t = await who(update, context)
    if query is None:
        return ConversationHandler.END
    if not is_admin(update, context):
        await _refuse(update, context, t)
        return ConversationHandler.END
    await query.answer()
    current = await timing.load_for(context.library)
    rows = [
        [InlineKeyboardButton(t.gettext(LABELS[key][0]), callback_data=f"adm:set:{key}")]
        for key in timing.KEYS
    ]
    text = "\n".join([*timing_lines(t, current), "", t.gettext("Which one do you want to change?")])
    if update.effective_chat is not None:
        await context.bot.send_message(update.effective_chat.id, text, reply_markup=keyboard(*rows))
    return ConversationHandler.END


async def choose_setting(update: Update, context: BotContext) -> object:
    """``adm:set:<key>``: ask for the value; the conversation waits for it in that key's state."""
    query = update.callback_query
    _, t = await who(update, context)
    if query is None:
        return ConversationHandler.END
    if not is_admin(update, context):
        await _refuse(update, context, t)
        return ConversationHandler.END
    key = (query.data or "").removeprefix("adm:set:")
    await query.answer()
    if key not in LABELS:
        return ConversationHandler.END
    current = (await timing.load_for(context.library)).as_text()[key]
    label, example = LABELS[key]
    text = t.gettext(
        "Send the new value for “{label}”.\nNow: {value}\nFor example: {example}\n"
        "Send default to go back to the configuration file's value, or /cancel to leave it.",
        label=t.gettext(label),
        value=current,
        example=example,
    )
    if update.effective_chat is not None:
        await context.bot.send_message(update.effective_chat.id, text)
    return EDITING[key]


def _receiver(key: str) -> Callable[[Update, BotContext], Coroutine[Any, Any, object]]:
    """The handler of the value typed for ``key`` (one conversation state per setting)."""

    async def receive(update: Update, context: BotContext) -> object:
        _, t = await who(update, context)
        message = update.message
        if message is None or message.text is None:
            return EDITING[key]
        if not is_admin(update, context):
            await _refuse(update, context, t)
            return ConversationHandler.END
        user = update.effective_user
        try:
            current = await timing.change_for(
                context.library,
                {key: message.text},
                now=now(),
                by=f"telegram:{user.id if user else '?'}",
            )
        except timing.TimingError as error:
            await message.reply_text(
                t.gettext(
                    "That value was not saved: {reason}",
                    reason=error.text(t),
                )
                + "\n"
                + t.gettext("Send another value, or /cancel.")
            )
            return EDITING[key]
        await message.reply_text(
            "\n".join(
                [
                    t.gettext("✅ Saved. It takes effect at the next cycle."),
                    "",
                    *timing_lines(t, current),
                ]
            ),
            reply_markup=keyboard(
                [
                    InlineKeyboardButton(
                        t.gettext("⏰ Change something else"), callback_data="adm:rem"
                    )
                ]
            ),
        )
        return ConversationHandler.END

    return receive


async def cancel(update: Update, context: BotContext) -> int:
    _, t = await who(update, context)
    if update.message is not None:
        await update.message.reply_text(t.gettext("All right, nothing changed."))
    return ConversationHandler.END


def admin_conversation() -> ConversationHandler[BotContext]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)
        return ConversationHandler(
            entry_points=[CallbackQueryHandler(choose_setting, pattern=r"^adm:set:")],
            states={
                EDITING[key]: [MessageHandler(filters.TEXT & ~filters.COMMAND, _receiver(key))]
                for key in timing.KEYS
            },
            fallbacks=[CommandHandler("cancel", cancel)],
            name="admin-timing",
            per_message=False,
            allow_reentry=True,
            conversation_timeout=600,
        )


def register(app: BotApplication) -> None:
    app.add_handler(admin_conversation())
    app.add_handler(CommandHandler("admin", admin_command))
    app.add_handler(CallbackQueryHandler(timing_button, pattern=r"^adm:rem$"))
