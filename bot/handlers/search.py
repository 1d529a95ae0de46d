"""Catalog search: free text, ``/search``, result pages, a record's page, and inline mode.

Anything a patron types in a private chat outside a dialogue is a search (this module is
registered last, so conversations see their answers first); in groups only ``/search TEXT``
searches, so the bot does not answer every message of a group. Results come five a page with
‹ › buttons that edit the same message.

A query can be longer than the 64 bytes a button carries, so the query text is kept in the
chat's data under a short random token (``sr:<page>:<token>``); a button whose token is gone
(the bot restarted, or the chat searched 30 times since) says so and asks for the words
again. A record's page (``rec:<record_id>``) is read from the store at every press, so an old
message always shows the copies as they stand now.
"""

from __future__ import annotations

import secrets
from datetime import date

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Update,
)
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot.catalog.search import PAGE_SIZE, RANK_WINDOW, Hit, RecordDetail, SearchPage, record_detail
from bot.catalog.search import search as catalog_search
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
from bot.handlers.interlibrary_render import offers_interlibrary
from bot.i18n import Translator
from bot.services import identity, patrons
from bot.services.errors import Refusal
from bot.services.holds import HoldStatus
from bot.services.interlibrary import lends_any

SEARCHES_KEPT = 30  # per chat: the ‹ › of the last 30 result lists keep working
INLINE_RESULTS = 10
INLINE_CACHE_SECONDS = 30  # availability changes: shared answers must not live long
TITLE_IN_LIST = 100
QUERY_SHOWN = 60


def today(t: Translator) -> date:
    """The library's date now (due dates are library dates)."""
    return t.local_date(now())


# -- entry points ------------------------------------------------------------------------------


async def search_command(update: Update, context: BotContext) -> None:
    """``/search TEXT`` searches; ``/search`` alone asks what to look for."""
    message = update.message
    if message is None or message.text is None:
        return
    _, t = await who(update, context)
    words = message.text.split(maxsplit=1)
    text = words[1].strip() if len(words) > 1 else ""
    if not text:
        await message.reply_text(ask_text(t, is_private(update)))
        return
    await show_results(update, context, t, remember(context, text), text, page=1, edit=False)


async def free_text(update: Update, context: BotContext) -> None:
    """Text outside any dialogue, in a private chat: a catalog search."""
    message = update.message
    if message is None or message.text is None:
        return
    _, t = await who(update, context)
    text = message.text.strip()
    await show_results(update, context, t, remember(context, text), text, page=1, edit=False)


async def search_help(update: Update, context: BotContext) -> None:
    """The menus' "Search" button: say what to send."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    _, t = await who(update, context)
    await render.reply(update, context, ask_text(t, is_private(update)))


def ask_text(t: Translator, private: bool) -> str:
    if private:
        return t.gettext(
            "What are you looking for? Send me a title, an author, a subject or an ISBN: I "
            "will look in every library of the network."
        )
    return t.gettext("Send /search followed by a title, an author or an ISBN.")


async def turn_page(update: Update, context: BotContext) -> None:
    """‹ › on a result list: the same search, another page, in the same message."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    _, t = await who(update, context)
    parts = parse_callback(query.data, "sr", 2)
    page = int_part(parts[0]) if parts else None
    text = recall(context, parts[1]) if parts else None
    if page is None or parts is None or text is None:
        await render.reply(
            update,
            context,
            t.gettext(
                "That list of results is too old for me to turn its pages. Send me the words "
                "again and I will search once more."
            ),
            new_search_markup(t),
        )
        return
    await show_results(update, context, t, parts[1], text, page=max(1, page), edit=True)


# -- result pages ------------------------------------------------------------------------------


def remember(context: BotContext, text: str) -> str:
    """Keep ``text`` under a new short token for the result list's buttons."""
    token = secrets.token_hex(4)
    if context.chat_data is None:
        return token
    searches: dict[str, str] = context.chat_data.setdefault("searches", {})
    searches[token] = text
    while len(searches) > SEARCHES_KEPT:
        del searches[next(iter(searches))]
    return token


def recall(context: BotContext, token: str) -> str | None:
    searches = (context.chat_data or {}).get("searches")
    if not isinstance(searches, dict):
        return None
    found = searches.get(token)
    return found if isinstance(found, str) else None


async def run_search(context: BotContext, text: str, page: int, page_size: int) -> SearchPage:
    library = context.library
    sections = render.not_loanable_sections(library.policy)
    types = render.not_loanable_types(library.policy)
    found = await catalog_search(
        library.store,
        text,
        page=page,
        page_size=page_size,
        not_loanable_sections=sections,
        not_loanable_types=types,
    )
    if found.total and not found.hits and page > found.pages:
        # An old ‹ › after the catalog shrank: the last page there is.
        found = await catalog_search(
            library.store,
            text,
            page=found.pages,
            page_size=page_size,
            not_loanable_sections=sections,
            not_loanable_types=types,
        )
    return found


async def show_results(
    update: Update,
    context: BotContext,
    t: Translator,
    token: str,
    text: str,
    *,
    page: int,
    edit: bool,
) -> None:
    found = await run_search(context, text, page, PAGE_SIZE)
    if not found.hits:
        markup = new_search_markup(t)
        if is_private(update) and offers_interlibrary(context.library.policy):
            ask = InlineKeyboardButton(
                t.gettext("📨 Ask another library network"),
                callback_data=callback("ill", "q", token),
            )
            markup = keyboard([ask], *(list(row) for row in markup.inline_keyboard))
        if is_private(update):
            rows = [list(row) for row in markup.inline_keyboard]
            markup = keyboard(*rows, render.ask_librarian_row(t, context))
        await render.reply(update, context, nothing_found(t, text), markup, edit=edit)
        return
    body = results_text(t, found, today(t))
    await render.reply(update, context, body, results_markup(t, found, token), edit=edit)


def shown_query(text: str) -> str:
    return render.clip(text, QUERY_SHOWN)


def nothing_found(t: Translator, text: str) -> str:
    return t.gettext(
        "🔎 I found nothing for «{query}».\n\n"
        "You could try:\n"
        "• fewer words, or only the most unusual ones\n"
        "• just the author's surname\n"
        "• the ISBN, the 10 or 13 digits on the back cover\n"
        "• another spelling",
        query=shown_query(text),
    )


def search_tips(t: Translator) -> str:
    """Where inline mode's "Nothing found: tips for searching" leads (``/start tips``)."""
    return t.gettext(
        "🔎 Tips for searching the catalog:\n"
        "• fewer words, or only the most unusual ones\n"
        "• just the author's surname\n"
        "• the ISBN, the 10 or 13 digits on the back cover\n"
        "• another spelling\n\n"
        "Send me what you are looking for and I will look in every library of the network."
    )


def results_text(t: Translator, found: SearchPage, day: date) -> str:
    query = shown_query(found.query)
    if found.total_is_exact:
        head = t.ngettext(
            "🔎 {n} result for «{query}»",
            "🔎 {n} results for «{query}»",
            found.total,
            n=found.total,
            query=query,
        )
    else:
        head = t.gettext(
            "🔎 More than {limit} results for «{query}»: here are the most relevant. Add a "
            "word to narrow them down.",
            limit=RANK_WINDOW,
            query=query,
        )
    if found.pages > 1:
        head += "\n" + t.gettext("Page {page} of {pages}", page=found.page, pages=found.pages)
    first = (found.page - 1) * found.page_size + 1
    entries = [
        f"{number}. {byline(hit)}\n    {render.availability(t, hit, day)}"
        for number, hit in enumerate(found.hits, start=first)
    ]
    text, _ = render.fit_blocks(head, entries)
    return text


def byline(hit: Hit) -> str:
    """ "Title — Author (1980)": the punctuation needs no translation."""
    line = render.clip(hit.title, TITLE_IN_LIST)
    if hit.author:
        line += f" — {render.clip(hit.author, 60)}"
    if hit.year:
        line += f" ({hit.year})"
    return line


def results_markup(t: Translator, found: SearchPage, token: str) -> InlineKeyboardMarkup:
    first = (found.page - 1) * found.page_size + 1
    rows = [
        [
            InlineKeyboardButton(
                f"{number}. {render.clip(hit.title, render.BUTTON_TITLE)}",
                callback_data=callback("rec", hit.record_id),
            )
        ]
        for number, hit in enumerate(found.hits, start=first)
    ]
    turn: list[InlineKeyboardButton] = []
    if found.page > 1:
        turn.append(
            InlineKeyboardButton(
                t.gettext("‹ Previous"), callback_data=callback("sr", found.page - 1, token)
            )
        )
    if found.page < found.pages:
        turn.append(
            InlineKeyboardButton(
                t.gettext("Next ›"), callback_data=callback("sr", found.page + 1, token)
            )
        )
    return keyboard(*rows, turn)


def new_search_markup(t: Translator) -> InlineKeyboardMarkup:
    return keyboard([InlineKeyboardButton(t.gettext("🔎 New search"), callback_data="search:help")])


# -- a record's page ---------------------------------------------------------------------------


async def record_button(update: Update, context: BotContext) -> None:
    """``rec:<record_id>``: the record's page, as a new message under the results."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    parts = parse_callback(query.data, "rec", 1)
    record_id = int_part(parts[0]) if parts else None
    if record_id is None:
        return  # not a button the bot made: nothing to show
    await send_record(update, context, record_id)


async def send_record(update: Update, context: BotContext, record_id: int) -> None:
    """A record's page for whoever asked, with what she may do next (reserve, link, search).

    Public so that a ``/start rec-<record_id>`` deep link (the inline results' button) can
    open it too.
    """
    account, t = await who(update, context)
    library = context.library
    detail = await record_detail(
        library.store,
        record_id,
        render.not_loanable_sections(library.policy),
        render.not_loanable_types(library.policy),
    )
    if detail is None:
        await render.reply(
            update,
            context,
            t.gettext("This title is no longer in the catalog. Shall we look for something else?"),
            new_search_markup(t),
        )
        return
    names = await render.branch_names(library)
    private = is_private(update)
    holds = await own_holds(context, account) if private else ()
    held = next((hold for hold in holds if hold.record_id == record_id), None)
    footer, buttons = reserve_part(t, context, account, detail, held, names, private)
    if private and account.patron is not None and may_ask_elsewhere(context, detail):
        ask = t.gettext("📨 Ask another library network")
        buttons.append([InlineKeyboardButton(ask, callback_data=callback("ill", "rec", record_id))])
    text = render.record_text(t, detail, today(t), footer)
    buttons.append([InlineKeyboardButton(t.gettext("🔎 New search"), callback_data="search:help")])
    await render.reply(update, context, text, keyboard(*buttons))


async def own_holds(context: BotContext, account: identity.Account) -> tuple[HoldStatus, ...]:
    if account.patron is None:
        return ()
    try:
        found = await patrons.summary(context.library, card=account.patron.card, now=now())
    except Refusal:
        return ()
    return found.holds


def may_ask_elsewhere(context: BotContext, detail: RecordDetail) -> bool:
    """Whether the page offers an interlibrary request: the regulation offers it, and (G18) the
    network has no copy it can lend, unless the regulation asks elsewhere anyway."""
    ill = context.library.policy.interlibrary
    if ill is None or not offers_interlibrary(context.library.policy):
        return False
    if not ill.refuse_if_held_locally:
        return True
    return not lends_any(detail.copies)


def reserve_part(
    t: Translator,
    context: BotContext,
    account: identity.Account,
    detail: RecordDetail,
    held: HoldStatus | None,
    names: dict[str, str],
    private: bool,
) -> tuple[str, list[list[InlineKeyboardButton]]]:
    """The line under the copies and the buttons to go on: reserve, or why not."""
    record_id = detail.record.record_id
    if not private:
        url = f"{render.private_chat_url(context)}?start=rec-{record_id}"
        label = t.gettext("📌 Reserve it in a private chat")
        return "", [[InlineKeyboardButton(label, url=url)]]
    if account.patron is None:
        label = t.gettext("🪪 Link your card to reserve")
        return "", [[InlineKeyboardButton(label, callback_data="link:start")]]
    my_holds = [InlineKeyboardButton(t.gettext("📌 My holds"), callback_data="holds:list")]
    if held is not None:
        line = (
            t.gettext("📌 You have reserved this title.") + "\n" + render.hold_state(t, held, names)
        )
        return line, [my_holds]
    lendable = [copy for copy in detail.copies if not copy.not_loanable]
    if not lendable:
        return t.gettext("There are no copies of this title that can be reserved."), [my_holds]
    on_shelf = [copy for copy in lendable if copy.status == "available"]
    if on_shelf and not context.library.policy.holds.on_available_items:
        line = t.gettext(
            "A copy is on the shelf at {branch}, so there is no need to reserve it: come and "
            "borrow it!",
            branch=on_shelf[0].branch_name,
        )
        return line, [my_holds]
    reserve = InlineKeyboardButton(
        t.gettext("📌 Reserve"), callback_data=callback("hold", "new", record_id)
    )
    return "", [[reserve]]


# -- inline mode -------------------------------------------------------------------------------


async def inline_search(update: Update, context: BotContext) -> None:
    """``@bot words``: up to ten records to share in any chat."""
    query = update.inline_query
    if query is None:
        return
    _, t = await who(update, context)
    text = query.query.strip()
    if not text:
        hint = InlineQueryResultsButton(
            text=t.gettext("Type a title, an author or an ISBN"), start_parameter="search"
        )
        await query.answer([], cache_time=INLINE_CACHE_SECONDS, button=hint)
        return
    found = await run_search(context, text, 1, INLINE_RESULTS)
    day = today(t)
    results = [inline_result(t, context, hit, day) for hit in found.hits]
    button = None
    if not results:
        button = InlineQueryResultsButton(
            text=t.gettext("Nothing found: tips for searching"), start_parameter="tips"
        )
    await query.answer(results, cache_time=INLINE_CACHE_SECONDS, button=button)


def inline_result(
    t: Translator, context: BotContext, hit: Hit, day: date
) -> InlineQueryResultArticle:
    where = render.availability(t, hit, day)
    facts = [render.clip(hit.author, 60)] if hit.author else []
    if hit.year:
        facts.append(str(hit.year))
    details = " · ".join(facts)
    message = "\n".join(
        part for part in (f"📖 {render.clip(hit.title, 300)}", details, where) if part
    )
    url = f"{render.private_chat_url(context)}?start=rec-{hit.record_id}"
    return InlineQueryResultArticle(
        id=f"rec{hit.record_id}",
        title=render.clip(hit.title, 100) or str(hit.record_id),
        description="\n".join(part for part in (details, where) if part),
        input_message_content=InputTextMessageContent(message),
        reply_markup=keyboard(
            [InlineKeyboardButton(t.gettext("📚 Open in the library's bot"), url=url)]
        ),
    )


def register(app: BotApplication) -> None:
    """Last in the application: free text that nothing else wanted is a search."""
    app.add_handler(CommandHandler("search", search_command, filters=filters.UpdateType.MESSAGE))
    app.add_handler(CallbackQueryHandler(search_help, pattern=r"^search:help$"))
    app.add_handler(CallbackQueryHandler(turn_page, pattern=r"^sr:"))
    app.add_handler(CallbackQueryHandler(record_button, pattern=r"^rec:"))
    app.add_handler(InlineQueryHandler(inline_search))
    # A message posted through inline mode (``via_bot``: a record shared from the results) is
    # not the patron typing a search, even when she shares it into the bot's own chat.
    app.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE
            & filters.ChatType.PRIVATE
            & filters.TEXT
            & ~filters.COMMAND
            & ~filters.VIA_BOT,
            free_text,
        )
    )
