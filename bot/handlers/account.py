"""``/account``, ``/privacy`` and ``/forget``: the patron's card, standing, money and preferences,
what the bot keeps about her, and deleting it.

Callback data (each press re-reads the store; an old button answers with the state now):

- ``account:show`` (the menu) sends the account; ``acc:lang`` offers the languages (the
  ``lang:<code>`` buttons of :mod:`bot.handlers.start`); ``acc:rem:on`` / ``acc:rem:off`` turn
  due-date reminders on or off (overdue and hold-ready notices always go).
- ``acc:unlink`` asks to confirm; ``acc:unlinkok:<patron_id>`` unlinks that card (if it is
  still the one linked: an old confirmation never unlinks a card linked since); ``acc:keep``
  goes back.
- ``forget:ok`` deletes this account's link, preferences and chats; ``forget:no`` keeps them.

Personal data only in private chats: in a group these answer with a pointer to the private chat.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.circulation.policy import Policy
from bot.handlers.context import (
    BotApplication,
    BotContext,
    callback,
    int_part,
    is_private,
    keyboard,
    now,
    parse_callback,
    who,
)
from bot.handlers.loan_render import (
    Screen,
    not_linked_screen,
    private_chat_pointer,
    restriction_lines,
    show,
    status_line,
)
from bot.handlers.start import language_keyboard, main_menu
from bot.i18n import Translator, language_name
from bot.services import identity, patrons
from bot.services.errors import Refusal
from bot.services.patrons import PatronSummary

ANSWER_LIMIT = 200  # characters of a callback answer's text


# -- /account -------------------------------------------------------------------------------


async def account_command(update: Update, context: BotContext) -> None:
    if update.message is None:
        return
    account, t = await who(update, context)
    if not is_private(update):
        await update.message.reply_text(private_chat_pointer(t, context.bot.username))
        return
    await show(update, context, await account_screen(context, account, t))


async def account_button(update: Update, context: BotContext) -> None:
    """``account:show`` from the menu: the account as a new message."""
    query = update.callback_query
    if query is None:
        return
    account, t = await who(update, context)
    if not is_private(update):
        await query.answer(private_chat_pointer(t, context.bot.username)[:ANSWER_LIMIT])
        return
    await query.answer()
    await show(update, context, await account_screen(context, account, t))


async def account_screen(context: BotContext, account: identity.Account, t: Translator) -> Screen:
    """Card, home library, standing, money, language and reminders, as the store has them now."""
    if account.patron is None:
        return not_linked_screen(t)
    library = context.library
    summary = await patrons.summary(library, card=account.patron.card, now=now())
    lines = [
        f"👤 {summary.name}",
        t.gettext("Card: {card}", card=summary.card),
        t.gettext("Home library: {branch}", branch=summary.home_branch_name),
        status_line(t, summary.status),
        *restriction_lines(t, summary, library.policy),
        "",
        *money_lines(
            t,
            summary,
            list(summary.owed_by_source),
            library.policy,
        ),
        t.gettext("Language: {language}", language=language_name(t.language)),
        t.gettext("Due-date reminders: on")
        if account.due_reminders
        else t.gettext("Due-date reminders: off"),
        t.gettext("Overdue notices and notices that a hold is ready are always sent."),
    ]
    reminders = (
        InlineKeyboardButton(
            t.gettext("🔕 Turn off due-date reminders"), callback_data="acc:rem:off"
        )
        if account.due_reminders
        else InlineKeyboardButton(
            t.gettext("🔔 Turn on due-date reminders"), callback_data="acc:rem:on"
        )
    )
    return Screen(
        "\n".join(lines),
        keyboard(
            [
                InlineKeyboardButton(t.gettext("📚 My loans"), callback_data="loans:list"),
                InlineKeyboardButton(t.gettext("📌 My holds"), callback_data="holds:list"),
            ],
            [reminders],
            [InlineKeyboardButton(t.gettext("🌐 Change language"), callback_data="acc:lang")],
            [InlineKeyboardButton(t.gettext("🔗 Unlink my card"), callback_data="acc:unlink")],
        ),
    )


def money_lines(
    t: Translator,
    summary: PatronSummary,
    sources: list[tuple[str, str, int]],
    policy: Policy,
) -> list[str]:
    """What is owed, with the rule that produced it, and what is building up on late loans
    (shown, not owed: it is charged when the loan comes back)."""
    owed = summary.fines_owed_cents
    lines = []
    if owed <= 0:
        lines.append(t.gettext("Fines to pay: none"))
    elif len(sources) == 1:
        kind, rule, _ = sources[0]
        lines.append(
            t.gettext(
                "Fines to pay: {amount} ({what}, rule {rule})",
                amount=t.format_money(owed),
                what=fine_kind(t, kind),
                rule=rule,
            )
        )
    else:
        lines.append(t.gettext("Fines to pay: {amount}", amount=t.format_money(owed)))
        for kind, rule, cents in sources:
            lines.append(
                t.gettext(
                    "• {what}, rule {rule}: {amount}",
                    what=fine_kind(t, kind),
                    rule=rule,
                    amount=t.format_money(cents),
                )
            )
    accruing = summary.fines_accruing_cents
    if accruing > 0 and policy.fines is not None:
        lines.append(
            t.gettext(
                "Building up on late loans: {amount} (rule {rule}, charged when they come back)",
                amount=t.format_money(accruing),
                rule=policy.fines.rule,
            )
        )
    return lines


def fine_kind(t: Translator, kind: str) -> str:
    """A fine's kind (``fines.kind``) as the patron reads it."""
    if kind == "lost":
        return t.gettext("lost items")
    if kind == "damaged":
        return t.gettext("damaged items")
    if kind == "service":
        return t.gettext("services you asked for")
    return t.gettext("late returns")


# -- reminders, language, unlinking ---------------------------------------------------------


async def preferences_button(update: Update, context: BotContext) -> None:
    """``acc:rem:on|off``, ``acc:lang``, ``acc:unlink``, ``acc:unlinkok``, ``acc:keep``."""
    query = update.callback_query
    if query is None or update.effective_user is None:
        return
    account, t = await who(update, context)
    if not is_private(update):
        await query.answer(private_chat_pointer(t, context.bot.username)[:ANSWER_LIMIT])
        return
    data = query.data or ""
    if data == "acc:lang":
        await query.answer()
        await show(
            update,
            context,
            Screen(t.gettext("Choose your language:"), keyboard(*language_keyboard(context))),
        )
        return
    if account.patron is None:
        # An old button: the card is not linked (any more).
        await query.answer(t.gettext("This chat is not linked to a library card."))
        await show(update, context, not_linked_screen(t), edit=True)
        return
    card, patron_id = account.patron.card, account.patron.patron_id
    user_id = update.effective_user.id
    reminders = parse_callback(data, "acc", 2)
    if reminders is not None and reminders[0] == "rem" and reminders[1] in ("on", "off"):
        on = reminders[1] == "on"
        try:
            await identity.set_due_reminders(context.library, telegram_user_id=user_id, on=on)
        except Refusal:
            await query.answer(t.gettext("This chat is not linked to a library card."))
        else:
            await query.answer(
                t.gettext("Due-date reminders: on") if on else t.gettext("Due-date reminders: off")
            )
        account, t = await who(update, context)
        await show(update, context, await account_screen(context, account, t), edit=True)
        return
    if data == "acc:unlink":
        await query.answer()
        await show(update, context, unlink_question(t, card, patron_id), edit=True)
        return
    confirmed = parse_callback(data, "acc", 2)
    if confirmed is not None and confirmed[0] == "unlinkok":
        if int_part(confirmed[1]) != patron_id:
            # A confirmation for a card that is not the one linked now: ask again.
            await query.answer()
            await show(update, context, unlink_question(t, card, patron_id), edit=True)
            return
        await identity.unlink(context.library, telegram_user_id=user_id)
        await query.answer(t.gettext("Card unlinked."))
        await show(update, context, unlinked_screen(t, card), edit=True)
        return
    await query.answer()  # acc:keep, or anything else: the account as it is now
    await show(update, context, await account_screen(context, account, t), edit=True)


def unlink_question(t: Translator, card: str, patron_id: int) -> Screen:
    return Screen(
        t.gettext(
            "Unlink card {card} from this Telegram account? Your loans, holds and fines stay "
            "with the library, and you can link the card again at any time with its number "
            "and your PIN.",
            card=card,
        ),
        keyboard(
            [
                InlineKeyboardButton(
                    t.gettext("✅ Yes, unlink"),
                    callback_data=callback("acc", "unlinkok", patron_id),
                ),
                InlineKeyboardButton(t.gettext("↩️ No, keep it"), callback_data="acc:keep"),
            ]
        ),
    )


def unlinked_screen(t: Translator, card: str) -> Screen:
    return Screen(
        t.gettext(
            "Card {card} is no longer linked to this chat. You can still search the catalog.",
            card=card,
        ),
        keyboard(*main_menu(t, False)),
    )


# -- /privacy and /forget -------------------------------------------------------------------


def privacy_text(t: Translator) -> str:
    """What the bot stores and why, and how to delete it: the same for everyone."""
    return "\n".join(
        [
            t.gettext("🔒 What I keep about you, and why"),
            "",
            t.gettext("• Your Telegram user id and chat id: to answer you and send you notices."),
            t.gettext(
                "• The link between this chat and your library card: to show your loans, "
                "holds and account."
            ),
            t.gettext("• Your language and your reminder preferences."),
            t.gettext("• Your conversations with the librarians, so that they can help you."),
            t.gettext(
                "• If a PIN is typed wrong: how many times in a row, under a code instead of "
                "your Telegram id, until the right PIN (after five, until the 15-minute pause "
                "ends). /forget does not delete this count, so that it cannot be used to try "
                "more PINs."
            ),
            "",
            t.gettext(
                "Loans, holds and fines are the library's circulation records: the library "
                "keeps them by its own rules, whether or not you use this bot."
            ),
            "",
            t.gettext("To delete what I keep about you, send /forget."),
        ]
    )


def privacy_now(t: Translator, account: identity.Account) -> str:
    """What the bot holds right now about this account (private chat only)."""
    language = language_name(t.language)
    if account.patron is None:
        return t.gettext(
            "Right now: this chat is not linked to a library card; language: {language}.",
            language=language,
        )
    reminders = t.gettext("on") if account.due_reminders else t.gettext("off")
    return t.gettext(
        "Right now: this chat is linked to card {card}; language: {language}; due-date "
        "reminders: {reminders}.",
        card=account.patron.card,
        language=language,
        reminders=reminders,
    )


async def privacy_command(update: Update, context: BotContext) -> None:
    """Works linked or not; in a group, without anything personal."""
    if update.message is None:
        return
    account, t = await who(update, context)
    if not is_private(update):
        await update.message.reply_text(
            privacy_text(t) + "\n\n" + private_chat_pointer(t, context.bot.username)
        )
        return
    await update.message.reply_text(
        privacy_text(t) + "\n\n" + privacy_now(t, account),
        reply_markup=keyboard(*main_menu(t, account.linked)),
    )


async def forget_command(update: Update, context: BotContext) -> None:
    if update.message is None:
        return
    _, t = await who(update, context)
    if not is_private(update):
        await update.message.reply_text(private_chat_pointer(t, context.bot.username))
        return
    await update.message.reply_text(
        t.gettext(
            "Delete what I keep about this Telegram account? I will delete the link to your "
            "library card, your language and reminder preferences and your conversations with "
            "the librarians. The library keeps only what it must: its circulation records "
            "(loans, holds, fines). This cannot be undone."
        ),
        reply_markup=keyboard(
            [
                InlineKeyboardButton(t.gettext("🗑 Yes, delete"), callback_data="forget:ok"),
                InlineKeyboardButton(t.gettext("↩️ No, keep it"), callback_data="forget:no"),
            ]
        ),
    )


async def forget_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None or update.effective_user is None:
        return
    account, t = await who(update, context)
    if not is_private(update):
        await query.answer(private_chat_pointer(t, context.bot.username)[:ANSWER_LIMIT])
        return
    if query.data != "forget:ok":
        await query.answer()
        await show(
            update,
            context,
            Screen(
                t.gettext("All right: nothing deleted."),
                keyboard(*main_menu(t, account.linked)),
            ),
            edit=True,
        )
        return
    await identity.forget(context.library, telegram_user_id=update.effective_user.id)
    from bot.app import set_chat_menu  # the application's menus (app imports handlers)

    await set_chat_menu(context, update.effective_user.id, None)  # her language went too
    # What the bot holds in memory for this chat goes too (the words of recent searches).
    if context.user_data is not None:
        context.user_data.clear()
    if context.chat_data is not None:
        context.chat_data.clear()
    await query.answer(t.gettext("Deleted."))
    await show(
        update,
        context,
        Screen(
            t.gettext(
                "Done: I have deleted the link to your card, your preferences and your "
                "conversations with the librarians. The library keeps only its circulation "
                "records, as its rules require. I no longer know you: send /start whenever "
                "you want to begin again."
            ),
            keyboard(*main_menu(t, False)),
        ),
        edit=True,
    )


def register(app: BotApplication) -> None:
    app.add_handler(CommandHandler("account", account_command))
    app.add_handler(CommandHandler("privacy", privacy_command))
    app.add_handler(CommandHandler("forget", forget_command))
    app.add_handler(CallbackQueryHandler(account_button, pattern=r"^account:show$"))
    app.add_handler(CallbackQueryHandler(preferences_button, pattern=r"^acc:"))
    app.add_handler(CallbackQueryHandler(forget_button, pattern=r"^forget:"))
