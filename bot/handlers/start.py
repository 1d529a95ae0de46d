"""Welcome, language and identity: ``/start``, ``/language``, linking a card, ``/help``.

A first ``/start`` asks the language, then says what the bot can do. Searching works for
everyone; loans, holds and the account need a linked card: card number and PIN in a short
conversation (the PIN message is deleted from the chat as soon as it is read), or a one-time
code from the desk (``/start link-CODE``). Every reply ends with the next steps as buttons.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from datetime import datetime

from telegram import InlineKeyboardButton, Update
from telegram.error import TelegramError
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.handlers import render
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
from bot.handlers.dialogue import pass_on
from bot.handlers.staff_access import in_staff_chat, staff_translator
from bot.i18n import Translator, language_name, reason_message
from bot.services import identity
from bot.services.errors import Refusal
from bot.services.pins import BadPin, check_pin_format

ASK_CARD, ASK_PIN = range(2)
LINKING = "linking"  # the conversation's name
LINKING_TIMEOUT = 600  # seconds the dialogue waits for a card number or a PIN


def main_menu(t: Translator, linked: bool) -> list[list[InlineKeyboardButton]]:
    """The next steps offered after most answers."""
    if not linked:
        return [
            [InlineKeyboardButton(t.gettext("🔎 Search the catalog"), callback_data="search:help")],
            [
                InlineKeyboardButton(
                    t.gettext("🪪 Link my library card"), callback_data="link:start"
                )
            ],
        ]
    return [
        [
            InlineKeyboardButton(t.gettext("📚 My loans"), callback_data="loans:list"),
            InlineKeyboardButton(t.gettext("📌 My holds"), callback_data="holds:list"),
        ],
        [
            InlineKeyboardButton(t.gettext("🔎 Search"), callback_data="search:help"),
            InlineKeyboardButton(t.gettext("👤 My account"), callback_data="account:show"),
        ],
    ]


def language_keyboard(context: BotContext) -> list[list[InlineKeyboardButton]]:
    return [
        [
            InlineKeyboardButton(language_name(code), callback_data=callback("lang", code))
            for code in context.i18n.languages
        ]
    ]


async def start(update: Update, context: BotContext) -> None:
    if update.message is None:
        return
    account, t = await who(update, context)
    # Imported here: search's buttons come back to this module's menu.
    from bot.handlers import search

    if not is_private(update):  # in a group only /search searches (free text is the group's)
        await update.message.reply_text(search.ask_text(t, False))
        return
    payload = context.args[0] if context.args else ""
    if payload.startswith("link-"):
        await _link_with_code(update, context, payload.removeprefix("link-"))
        return
    # Links from shared search results and from group chats (t.me/<bot>?start=...).
    record = int_part(payload.removeprefix("rec-")) if payload.startswith("rec-") else None
    if record is not None:
        await search.send_record(update, context, record)
        return
    if payload == "search":
        await update.message.reply_text(search.ask_text(t, True))
        return
    if payload == "tips":  # inline mode found nothing: "tips for searching"
        await update.message.reply_text(
            search.search_tips(t), reply_markup=search.new_search_markup(t)
        )
        return
    if account.language is None:
        await update.message.reply_text(
            t.gettext(
                "Hello! I am the library's assistant. Which language do you prefer?\n"
                "Ciao! Sono l'assistente della biblioteca. In che lingua preferisci?"
            ),
            reply_markup=keyboard(*language_keyboard(context)),
        )
        return
    await update.message.reply_text(
        _welcome(t, account), reply_markup=keyboard(*main_menu(t, account.linked))
    )


def _welcome(t: Translator, account: identity.Account) -> str:
    if account.patron is not None:
        return t.gettext(
            "Welcome back, {name}! What would you like to do? You can also just send me a "
            "title or an author to search the catalog.",
            name=account.patron.name.split()[0],
        )
    return t.gettext(
        "I can search the library's catalog for you: just send me a title or an author.\n\n"
        "To see your loans, renew them and place holds, link your library card: you need "
        "its number and your PIN (ask at the desk if you do not have one)."
    )


async def _link_with_code(update: Update, context: BotContext, code: str) -> None:
    assert update.message is not None
    assert update.effective_user is not None
    account, t = await who(update, context)
    try:
        patron = await identity.link_with_code(
            context.library,
            telegram_user_id=update.effective_user.id,
            chat_id=update.message.chat_id,
            code=code,
            now=now(),
        )
    except Refusal as refusal:
        await update.message.reply_text(
            _link_refusal(t, refusal, now()), reply_markup=keyboard(*main_menu(t, account.linked))
        )
        return
    await keep_language(context, account, t, update.effective_user.id)
    await update.message.reply_text(
        t.gettext(
            "Your card {card} is now linked to this chat. Welcome, {name}!",
            card=patron.card,
            name=patron.name.split()[0],
        ),
        reply_markup=keyboard(*main_menu(t, True)),
    )


async def keep_language(
    context: BotContext, account: identity.Account, t: Translator, user_id: int
) -> None:
    """A patron who never chose a language (she came by ``/link`` or a desk code, not by
    ``/start``'s question) keeps the one she has been reading: linking must not switch the
    chat to the card's language unasked. It becomes her choice, for notices too."""
    if account.language is None:
        await identity.choose_language(
            context.library, telegram_user_id=user_id, language=t.language, now=now()
        )


def _link_refusal(t: Translator, refusal: Refusal, at: datetime) -> str:
    if refusal.code == "wrong_card_or_pin":
        left = int_part(refusal.detail or "") or 0
        return t.ngettext(
            "The card number or the PIN is not right. You can try {n} more time.",
            "The card number or the PIN is not right. You can try {n} more times.",
            left,
            n=left,
        )
    if refusal.code == "card_locked":
        until = _locked_until(refusal, at)
        minutes = max(1, math.ceil((until - at).total_seconds() / 60))
        return t.ngettext(
            "Too many wrong PINs: for your safety, linking is paused for {n} minute, until "
            "{time}. If you have forgotten your PIN, the desk can give you a new one.",
            "Too many wrong PINs: for your safety, linking is paused for {n} minutes, until "
            "{time}. If you have forgotten your PIN, the desk can give you a new one.",
            minutes,
            n=minutes,
            time=t.format_time(until),
        )
    if refusal.code == "card_linked_elsewhere":
        return t.gettext(
            "This card is already linked to another Telegram account. Unlink it from there "
            "(/account), or ask at the desk."
        )
    if refusal.code == "already_linked":
        return t.gettext("This chat is already linked to a card: see /account.")
    if refusal.code == "bad_link_code":
        return t.gettext(
            "This link code is not valid any more (each code works once, for 7 days). Ask "
            "the desk for a new one, or link with your card number and PIN."
        )
    return reason_message(t, refusal.code)


def _locked_until(refusal: Refusal, at: datetime) -> datetime:
    """When the lock ends: the refusal carries it (ISO); the full lock if it is unreadable."""
    try:
        until = datetime.fromisoformat(refusal.detail or "")
    except ValueError:
        return at + identity.LOCK
    return until if until.tzinfo is not None else at + identity.LOCK


async def choose_language(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None or update.effective_user is None:
        return
    parts = parse_callback(query.data, "lang", 1)
    if parts is None or parts[0] not in context.i18n.languages:
        await query.answer()
        return
    await identity.choose_language(
        context.library, telegram_user_id=update.effective_user.id, language=parts[0], now=now()
    )
    account, t = await who(update, context)
    await query.answer(t.gettext("Language: {language}", language=language_name(parts[0])))
    if is_private(update):
        from bot.app import set_chat_menu  # the application's menus (app imports handlers)

        await set_chat_menu(context, update.effective_user.id, parts[0])
    if query.message is not None and is_private(update):
        await context.bot.send_message(
            query.message.chat.id,
            _welcome(t, account),
            reply_markup=keyboard(*main_menu(t, account.linked)),
        )


async def language_command(update: Update, context: BotContext) -> None:
    if update.message is None:
        return
    _, t = await who(update, context)
    await update.message.reply_text(
        t.gettext("Choose your language:"), reply_markup=keyboard(*language_keyboard(context))
    )


async def help_command(update: Update, context: BotContext) -> None:
    if update.message is None:
        return
    if in_staff_chat(update, context):  # the librarians' own commands, in the group's language
        await update.message.reply_text(staff_help_text(staff_translator(context)))
        return
    account, t = await who(update, context)
    if not is_private(update):  # in a group the bot only searches
        await update.message.reply_text(
            render.private_only_text(t), reply_markup=render.private_only_markup(t, context)
        )
        return
    await update.message.reply_text(
        help_text(t),
        reply_markup=keyboard(*main_menu(t, account.linked), render.ask_librarian_row(t, context)),
    )


def help_text(t: Translator) -> str:
    return t.gettext(
        "Here is what I can do:\n"
        "• send me a title, an author or an ISBN to search the catalog (/search)\n"
        "• /loans: your loans, with due dates and renewals\n"
        "• /holds: your holds and where to collect them\n"
        "• /account: your card, fines and preferences\n"
        "• /language: change language\n"
        "• /privacy: what I keep about you, and /forget to delete it\n"
        "• /librarian: talk to a librarian\n"
        "• /appointment: book an appointment with a librarian\n"
        "• /cancel: stop what we are doing"
    )


def staff_help_text(t: Translator) -> str:
    """What the staff group can do (docs/STAFF.md, "The commands, at a glance")."""
    return t.gettext(
        "Commands for the library's staff, here in the staff group:\n"
        "• /close: end the conversation in a patron's topic (the patron may rate it)\n"
        "• /canned: the ready answers; /canned KEY sends one to the patron\n"
        "• /ban, /unban: stop a patron writing to the librarians, or let her write again\n"
        "• /checkout CARD BARCODE: lend a copy\n"
        "• /checkin BARCODE: a copy comes back\n"
        "• /appointment_cancel ID REASON: cancel an appointment (the patron reads the reason)\n"
        "• #note …: a message that starts with #note stays among staff\n"
        "Anything else you write in a patron's topic reaches the patron."
    )


# Linking with card number and PIN -------------------------------------------------------------


async def link_begin(update: Update, context: BotContext) -> int:
    account, t = await who(update, context)
    if update.callback_query is not None:
        await update.callback_query.answer()
    chat = update.effective_chat
    if chat is None:
        return ConversationHandler.END
    if not is_private(update):
        await context.bot.send_message(
            chat.id,
            t.gettext("For your privacy, let's link your card in a private chat."),
            reply_markup=render.private_only_markup(t, context),
        )
        return ConversationHandler.END
    if account.linked:
        await context.bot.send_message(
            chat.id,
            t.gettext("This chat is already linked to a card: see /account."),
            reply_markup=keyboard(*main_menu(t, True)),
        )
        return ConversationHandler.END
    await context.bot.send_message(
        chat.id,
        t.gettext(
            "Please send me your library card number (you find it on the card). "
            "Send /cancel to stop."
        ),
    )
    return ASK_CARD


async def link_card(update: Update, context: BotContext) -> int:
    if update.message is None or update.message.text is None:
        return ASK_CARD
    _, t = await who(update, context)
    card = update.message.text.strip()
    if not card or len(card) > 32 or any(ch.isspace() for ch in card):
        await update.message.reply_text(
            t.gettext(
                "That does not look like a card number. Please send just the number, or "
                "/cancel to stop."
            )
        )
        return ASK_CARD
    if context.user_data is not None:
        context.user_data["linking_card"] = card
    await update.message.reply_text(
        t.gettext("Now your PIN, please. I will delete your message as soon as I have read it.")
    )
    return ASK_PIN


async def link_pin(update: Update, context: BotContext) -> int:
    message = update.message
    if message is None or message.text is None or update.effective_user is None:
        return ASK_PIN
    account, t = await who(update, context)
    pin = message.text.strip()
    card = (context.user_data or {}).get("linking_card", "")
    # The PIN does not stay in the chat; deleting is a courtesy, linking goes on without it.
    with contextlib.suppress(TelegramError):
        await message.delete()
    try:
        check_pin_format(pin)
    except BadPin:
        # Not a PIN at all (letters, too short): a slip, not a guess, so it is not counted.
        await context.bot.send_message(
            message.chat_id,
            t.gettext("A PIN is 4 to 8 digits. Please send it again, or /cancel to stop."),
        )
        return ASK_PIN
    try:
        patron = await identity.link_with_pin(
            context.library,
            telegram_user_id=update.effective_user.id,
            chat_id=message.chat_id,
            card=card,
            pin=pin,
            now=now(),
        )
    except Refusal as refusal:
        if refusal.code == "wrong_card_or_pin":
            await context.bot.send_message(
                message.chat_id,
                _link_refusal(t, refusal, now())
                + "\n\n"
                + t.gettext("Please send your card number."),
            )
            return ASK_CARD
        await context.bot.send_message(
            message.chat_id,
            _link_refusal(t, refusal, now()),
            reply_markup=keyboard(*main_menu(t, account.linked)),
        )
        return ConversationHandler.END
    finally:
        if context.user_data is not None:
            context.user_data.pop("linking_card", None)
    await keep_language(context, account, t, update.effective_user.id)
    await context.bot.send_message(
        message.chat_id,
        t.gettext(
            "Your card {card} is now linked to this chat. Welcome, {name}!",
            card=patron.card,
            name=patron.name.split()[0],
        ),
        reply_markup=keyboard(*main_menu(t, True)),
    )
    return ConversationHandler.END


async def cancel(update: Update, context: BotContext) -> int:
    account, t = await who(update, context)
    if context.user_data is not None:
        context.user_data.pop("linking_card", None)
    if update.effective_chat is not None:
        await context.bot.send_message(
            update.effective_chat.id,
            t.gettext("All right, stopped. What next?"),
            reply_markup=keyboard(*main_menu(t, account.linked)),
        )
    return ConversationHandler.END


async def leave_linking(update: Update, context: BotContext) -> int:
    """Another command, or a button, while the bot waits for a card number or a PIN: linking
    stops and the command or the button does what it always does. Otherwise the title typed
    after a search would be read as a card number, and the next one as a PIN."""
    if context.user_data is not None:
        context.user_data.pop("linking_card", None)
    await pass_on(update, context, LINKING)
    return ConversationHandler.END


async def linking_timed_out(update: Update, context: BotContext) -> None:
    """Ten minutes without an answer: linking stops and says so, so that a PIN sent later is
    not taken in silence for a catalog search."""
    if context.user_data is not None:
        context.user_data.pop("linking_card", None)
    chat = update.effective_chat
    if chat is None or update.effective_user is None:
        return
    _, t = await who(update, context)
    await context.bot.send_message(
        chat.id,
        t.gettext(
            "I have stopped waiting for your card number and PIN. When you are ready, press "
            "the button to link your card."
        ),
        reply_markup=keyboard(
            [InlineKeyboardButton(t.gettext("🪪 Link my library card"), callback_data="link:start")]
        ),
    )


def linking_conversation() -> ConversationHandler[BotContext]:
    # The dialogue starts from a button but goes on with text messages, so it is tracked per
    # chat and user, not per message: PTB warns about exactly that choice, which is ours.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)
        return ConversationHandler(
            entry_points=[
                CallbackQueryHandler(link_begin, pattern=r"^link:start$"),
                CommandHandler("link", link_begin),
            ],
            states={
                ASK_CARD: [MessageHandler(filters.TEXT & ~filters.COMMAND, link_card)],
                ASK_PIN: [MessageHandler(filters.TEXT & ~filters.COMMAND, link_pin)],
                ConversationHandler.TIMEOUT: [TypeHandler(Update, linking_timed_out)],
            },
            fallbacks=[
                CommandHandler("cancel", cancel),
                MessageHandler(filters.COMMAND, leave_linking),
                CallbackQueryHandler(leave_linking),
            ],
            name=LINKING,
            per_message=False,
            allow_reentry=True,  # /link or "Link my card" again starts over
            conversation_timeout=LINKING_TIMEOUT,
        )


# What nothing else answered, in a private chat ----------------------------------------------


async def unknown_command(update: Update, context: BotContext) -> None:
    """A command the bot does not have (``/prestiti``): say so, and what it can do."""
    message = update.message
    if message is None or message.text is None:
        return
    account, t = await who(update, context)
    command = render.clip(message.text.split(maxsplit=1)[0], 40)
    await message.reply_text(
        t.gettext("I do not know the command {command}.", command=command) + "\n\n" + help_text(t),
        reply_markup=keyboard(*main_menu(t, account.linked)),
    )


async def not_text(update: Update, context: BotContext) -> None:
    """A photo, a sticker, a voice message outside a chat with a librarian."""
    if update.message is None:
        return
    account, t = await who(update, context)
    await update.message.reply_text(
        t.gettext(
            "I can only read text messages. Send me a title, an author or an ISBN and I will "
            "search the catalog, or choose below."
        ),
        reply_markup=keyboard(*main_menu(t, account.linked)),
    )


def register_last(app: BotApplication) -> None:
    """After every other handler (``build_application`` calls it last): in a private chat, a
    command nobody handles and a message that is not text still get an answer."""
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    app.add_handler(MessageHandler(private & filters.COMMAND, unknown_command))
    app.add_handler(MessageHandler(private & ~filters.TEXT & ~filters.StatusUpdate.ALL, not_text))


def register_linking(app: BotApplication) -> None:
    """First in group 0 (``build_application`` calls it before the others): while it waits for
    a card number or a PIN, every other command or button ends it before doing its own work
    (see :func:`leave_linking`), /librarian and the interlibrary buttons included."""
    app.add_handler(linking_conversation())


def register(app: BotApplication) -> None:
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("language", language_command))
    app.add_handler(CommandHandler("help", help_command))
    app.add_handler(CommandHandler("cancel", cancel))
    app.add_handler(CallbackQueryHandler(choose_language, pattern=r"^lang:"))
