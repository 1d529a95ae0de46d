"""The Telegram application: ``build_application(settings)`` registers every handler, in order.

Order matters in PTB: the first matching handler of a group wins. Conversations come first, so
that a message sent while the bot is waiting for a card number goes to the conversation and
not to the catalog search; free text as a search comes last. The store and the translations
are opened when the application starts (``post_init``), closed when it stops.
"""

from __future__ import annotations

import logging

from telegram import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeDefault,
)
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, ApplicationBuilder, ContextTypes

from bot.handlers import (
    account,
    admin,
    appointment_staff,
    appointments,
    delivery,
    desk,
    errors,
    handoff,
    handoff_staff,
    holds,
    interlibrary,
    interlibrary_staff,
    loans,
    search,
    staff_cards,
    start,
)
from bot.handlers.context import BotApplication, BotContext, BotData
from bot.i18n import N_, I18n, Translator
from bot.reminders import schedule
from bot.reminders.dispatch_job import start_dispatching, stop_dispatching
from bot.services.context import Library
from bot.settings import ConfigError, Settings
from db.store import Store

# (command, description) in the order Telegram's menu shows them.
PRIVATE_COMMANDS = (
    ("start", N_("Start, or go back to the menu")),
    ("search", N_("Search the catalog")),
    ("loans", N_("My loans and renewals")),
    ("holds", N_("My holds")),
    ("account", N_("My card, fines and preferences")),
    ("appointment", N_("Book an appointment with a librarian")),
    ("librarian", N_("Talk to a librarian")),
    ("language", N_("Change language")),
    ("privacy", N_("What the bot keeps about me")),
    ("forget", N_("Delete my data from the bot")),
    ("help", N_("What the bot can do")),
    ("cancel", N_("Stop what we are doing")),
)
GROUP_COMMANDS = (("search", N_("Search the catalog")),)
# An administrator's private chat ([telegram] admin_user_ids): the patron's menu and /admin.
ADMIN_COMMANDS = (
    *PRIVATE_COMMANDS,
    ("admin", N_("Administration: rules, statistics, reminder timing")),
)
# The staff forum group's menu ([telegram] staff_chat_id): staff read it there only.
STAFF_COMMANDS = (
    ("close", N_("End this conversation (the patron may rate it)")),
    ("canned", N_("Ready answers: /canned, or /canned KEY to send one")),
    ("ban", N_("Stop this patron writing to the librarians")),
    ("unban", N_("Let this patron write again")),
    ("checkout", N_("Lend a copy: /checkout CARD BARCODE")),
    ("checkin", N_("A copy comes back: /checkin BARCODE")),
    ("appointment_cancel", N_("Cancel an appointment: /appointment_cancel ID REASON")),
)

log = logging.getLogger("bibliobot")


def file_url(base_url: str) -> str:
    """Telegram's file downloads live beside the method calls: .../bot → .../file/bot."""
    root = base_url.removesuffix("/bot")
    return f"{root}/file/bot"


def build_application(settings: Settings) -> BotApplication:
    token = settings.telegram.token
    if not token:
        raise ConfigError(
            "config error: [telegram] token: missing (from BotFather; environment: "
            "BIBLIOBOT_TELEGRAM__TOKEN)"
        )
    app: BotApplication = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.telegram.base_url)
        .base_file_url(file_url(settings.telegram.base_url))
        .context_types(ContextTypes(context=BotContext, bot_data=BotData))
        .rate_limiter(AIORateLimiter())
        .post_init(on_start)
        .post_shutdown(on_stop)
        .build()
    )
    app.bot_data.settings = settings
    errors.register(app)
    delivery.register(app)  # group -2: sees every update first
    # Linking a card first in group 0: any other command or button ends it, then does its work
    # (a title typed after /librarian or /search is never read as a card number or a PIN).
    start.register_linking(app)
    # The interlibrary title/author dialogue next, for the same reason: a /search or a button
    # pressed while it waits ends it, and the title typed next is searched.
    interlibrary.register_dialogue(app)
    # The chat with the librarians runs first (group -1): a patron talking to a librarian is
    # not searching the catalog, and a staff reply in a topic is for the patron.
    handoff.register(app)
    handoff_staff.register(app)
    # Conversations and commands first; free text as a catalog search last (search.register).
    # The administrators' timing dialogue first: its /cancel must end it, not /start's.
    admin.register(app)
    # The staff's interlibrary dialogue (a cost typed in the staff group) before /start's: its
    # /cancel must end it, and its answers are its own.
    interlibrary_staff.register(app)
    interlibrary.register(app)
    start.register(app)
    account.register(app)
    loans.register(app)
    holds.register(app)
    desk.register(app)
    appointment_staff.register(app)
    appointments.register(app)
    search.register(app)
    start.register_last(app)  # a command nobody knows, a message that is not text
    return app


async def on_start(app: BotApplication) -> None:
    """Open the store and the translations; tell Telegram the commands in every language;
    start draining the outbox."""
    settings = app.bot_data.settings
    assert settings is not None, "build_application sets the settings"
    store = await Store.open(settings.database.path)
    app.bot_data.library = Library.from_settings(store, settings)
    app.bot_data.i18n = I18n.from_settings(settings)
    await register_commands(app, app.bot_data.i18n)
    # The notice cycles: a tick that runs what is due, the missed days first (catch-up).
    schedule.start(app)
    start_dispatching(app, rethread=staff_cards.rethreader(app))
    handoff.start_sweeping(app)  # patron messages staff have not received yet, relayed again


async def register_commands(app: BotApplication, i18n: I18n) -> None:
    def commands(t: Translator, table: tuple[tuple[str, str], ...]) -> list[BotCommand]:
        return [BotCommand(name, t.gettext(description)) for name, description in table]

    # Without a language code: for users whose language the library does not offer (the
    # default language's words); then each offered language. Groups get search only.
    for language in (None, *i18n.languages):
        t = i18n.translator(language)
        await app.bot.set_my_commands(
            commands(t, GROUP_COMMANDS), scope=BotCommandScopeDefault(), language_code=language
        )
        await app.bot.set_my_commands(
            commands(t, PRIVATE_COMMANDS),
            scope=BotCommandScopeAllPrivateChats(),
            language_code=language,
        )
    settings = app.bot_data.settings
    staff_chat_id = settings.telegram.staff_chat_id if settings else None
    if staff_chat_id is not None:
        await register_staff_commands(app, i18n, staff_chat_id)
    for admin_id in settings.telegram.admin_user_ids if settings else ():
        await register_admin_commands(app, i18n, admin_id)


async def register_admin_commands(app: BotApplication, i18n: I18n, user_id: int) -> None:
    """An administrator's private chat also lists /admin. Telegram knows that chat only once
    she has written to the bot: until then the menu is skipped (the next start sets it)."""
    try:
        for language in (None, *i18n.languages):
            t = i18n.translator(language)
            await app.bot.set_my_commands(
                [BotCommand(name, t.gettext(text)) for name, text in ADMIN_COMMANDS],
                scope=BotCommandScopeChat(user_id),
                language_code=language,
            )
    except TelegramError as error:
        log.warning("administrator %s: cannot set the command menu: %s", user_id, error)


async def register_staff_commands(app: BotApplication, i18n: I18n, chat_id: int) -> None:
    """The staff group's own menu. A bot not (yet) in that group must still start: the
    administrator adds it later, and the menu comes with the next start."""
    scope = BotCommandScopeChat(chat_id)
    try:
        for language in (None, *i18n.languages):
            t = i18n.translator(language)
            await app.bot.set_my_commands(
                [BotCommand(name, t.gettext(text)) for name, text in STAFF_COMMANDS],
                scope=scope,
                language_code=language,
            )
    except TelegramError as error:
        log.warning("staff group %s: cannot set its command menu: %s", chat_id, error)


async def set_chat_menu(context: BotContext, chat_id: int, language: str | None) -> None:
    """A patron's private chat menu in the language she chose in the bot (Telegram would
    otherwise word it after her phone's language); ``None`` (after /forget) removes it. An
    administrator's chat keeps /admin, in every language variant the start-up set."""
    settings = context.bot_data.settings
    admin = settings is not None and chat_id in settings.telegram.admin_user_ids
    scope = BotCommandScopeChat(chat_id)
    try:
        if language is None:
            if not admin:
                await context.bot.delete_my_commands(scope=scope)
            return
        t = context.i18n.translator(language)
        table = ADMIN_COMMANDS if admin else PRIVATE_COMMANDS
        menu = [BotCommand(name, t.gettext(text)) for name, text in table]
        for code in (None, *context.i18n.languages) if admin else (None,):
            await context.bot.set_my_commands(menu, scope=scope, language_code=code)
    except TelegramError as error:
        log.warning("chat %s: cannot set its command menu: %s", chat_id, error)


async def on_stop(app: BotApplication) -> None:
    await stop_dispatching(app)
    library = app.bot_data.library
    if library is not None:
        await library.store.close()
        app.bot_data.library = None
