"""Asking another library network for a title (G18), and answering its cost (G20), from chat.

Two ways in: a record's page, when the network has no copy to lend (``ill:rec:<record_id>``),
and a search that found nothing (``ill:q:<token>``, the search's own token: the query becomes
the title, which the patron may correct, with the author, in a short dialogue). The patron then
picks the network (the scopes the regulation offers, free or at her cost) and the request is
made at once; the service refuses beyond the regulation's limits, and the refusal is shown in
her words. The request then appears as a card in the staff group.

For a paid network, staff set the cost and the patron answers "I agree to pay €X" or "No
thanks" (``ill:ok:<id>:<cents>`` / ``ill:no:<id>``): the cents are in the button so that
agreeing to an old price never counts as agreeing to a new one. ``/holds`` lists the requests
and offers to withdraw them (``ill:wd`` asks, ``ill:wdok`` does), saying first when withdrawing
still owes the cost (G20). Every press is checked again: the request must be the pressing
patron's, in a state that allows it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
)
from telegram.ext import filters as ptb_filters
from telegram.warnings import PTBUserWarning

from bot.catalog.search import record_detail
from bot.circulation import IllScope
from bot.handlers import holds, render, search
from bot.handlers.context import (
    BotApplication,
    BotContext,
    callback,
    int_part,
    keyboard,
    now,
    parse_callback,
    who,
)
from bot.handlers.dialogue import pass_on
from bot.handlers.interlibrary_render import (
    consent_buttons,
    money,
    offered_scopes,
    quoted,
    scope_label,
    scope_name,
)
from bot.handlers.interlibrary_staff import post_card, refresh_card
from bot.i18n import Translator
from bot.services import interlibrary
from bot.services.errors import Refusal
from db.circulation import PatronRow

DRAFT_KEY = "ill_draft"
DIALOGUE = "ill_draft"  # the title/author dialogue's name (bot.handlers.dialogue)
DIALOGUE_TIMEOUT = 600  # seconds it waits for the title or the author
ASK_TITLE, ASK_AUTHOR = range(2)
TITLE_LIMIT = 300
AUTHOR_LIMIT = 120


@dataclass(frozen=True, slots=True)
class Draft:
    """What the patron is about to ask for; ``record_id`` 0: typed, kept in her user data."""

    title: str
    author: str | None = None
    isbn: str | None = None
    record_id: int = 0


# -- starting a request ------------------------------------------------------------------------


async def from_record(update: Update, context: BotContext) -> None:
    """``ill:rec:<record_id>``: the record's title, author and ISBN, and the networks."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    parts = parse_callback(query.data, "ill", 2)
    record_id = int_part(parts[1]) if parts else None
    if record_id is None:
        return
    found = await holds.patron_in_private(update, context)
    if found is None:
        return
    _, t = found
    draft = await record_draft(context, record_id)
    if draft is None:
        await render.reply(update, context, holds.gone_record(t), holds.search_markup(t))
        return
    await show_draft(update, context, t, draft, edit=False)


async def from_query(update: Update, context: BotContext) -> None:
    """``ill:q:<token>``: a search that found nothing; its words become the title."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    parts = parse_callback(query.data, "ill", 2)
    text = search.recall(context, parts[1]) if parts else None
    found = await holds.patron_in_private(update, context)
    if found is None:
        return
    _, t = found
    if text is None:
        await render.reply(update, context, too_old(t), holds.search_markup(t))
        return
    draft = Draft(title=render.clip(" ".join(text.split()), TITLE_LIMIT))
    keep_draft(context, draft)
    await show_draft(update, context, t, draft, edit=False)


async def record_draft(context: BotContext, record_id: int) -> Draft | None:
    detail = await record_detail(context.library.store, record_id)
    if detail is None:
        return None
    record = detail.record
    author = record.authors[0] if record.authors else None
    isbn = record.isbns[0] if record.isbns else None
    return Draft(title=record.title, author=author, isbn=isbn, record_id=record_id)


def keep_draft(context: BotContext, draft: Draft) -> None:
    if context.user_data is not None:
        context.user_data[DRAFT_KEY] = {"title": draft.title, "author": draft.author}


def kept_draft(context: BotContext) -> Draft | None:
    kept = (context.user_data or {}).get(DRAFT_KEY)
    if not isinstance(kept, dict) or not isinstance(kept.get("title"), str):
        return None
    author = kept.get("author")
    return Draft(title=kept["title"], author=author if isinstance(author, str) else None)


def too_old(t: Translator) -> str:
    return t.gettext(
        "I no longer remember that request. Search for the title again, and ask from there."
    )


async def show_draft(
    update: Update,
    context: BotContext,
    t: Translator,
    draft: Draft,
    *,
    edit: bool,
    notice: str = "",
) -> None:
    lines = [notice, ""] if notice else []
    lines += [
        t.gettext("📨 Ask another library network for this title:"),
        "",
        t.gettext("Title: {title}", title=render.clip(draft.title, TITLE_LIMIT)),
        t.gettext("Author: {author}", author=draft.author or "—"),
    ]
    if draft.isbn:
        lines.append(t.gettext("ISBN: {isbn}", isbn=draft.isbn))
    lines += [
        "",
        t.gettext(
            "Which network should the library ask? Free ones first. For one at your cost, the "
            "library tells you the cost first: nothing is ordered, and you owe nothing, until "
            "you agree."
        ),
    ]
    rows = [
        [
            InlineKeyboardButton(
                scope_label(t, scope, pays),
                callback_data=callback("ill", "sc", scope.value, draft.record_id),
            )
        ]
        for scope, pays in offered_scopes(context.library.policy)
    ]
    if draft.record_id == 0:
        rows.append(
            [
                InlineKeyboardButton(t.gettext("✏️ Change title"), callback_data="ill:ed:t"),
                InlineKeyboardButton(t.gettext("✏️ Change author"), callback_data="ill:ed:a"),
            ]
        )
    rows.append([InlineKeyboardButton(t.gettext("🔎 Search"), callback_data="search:help")])
    await render.reply(update, context, "\n".join(lines), keyboard(*rows), edit=edit)


# -- sending it ---------------------------------------------------------------------------------


async def choose_scope(update: Update, context: BotContext) -> None:
    """``ill:sc:<scope>:<record_id>``: make the request, then show how it went."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    parts = parse_callback(query.data, "ill", 3)
    record_id = int_part(parts[2]) if parts else None
    if parts is None or record_id is None:
        return
    try:
        scope = IllScope(parts[1])
    except ValueError:
        return  # not a button the bot made
    found = await holds.patron_in_private(update, context)
    if found is None:
        return
    patron, t = found
    draft = await record_draft(context, record_id) if record_id else kept_draft(context)
    if draft is None:
        await render.reply(update, context, too_old(t), holds.search_markup(t), edit=True)
        return
    try:
        made = await interlibrary.request(
            context.library,
            card=patron.card,
            scope=scope,
            title=draft.title,
            author=draft.author,
            isbn=draft.isbn,
            record_id=draft.record_id or None,
            now=now(),
        )
    except Refusal as refusal:
        await render.reply(
            update, context, await refusal_text(context, t, refusal), after_markup(t), edit=True
        )
        return
    if context.user_data is not None:
        context.user_data.pop(DRAFT_KEY, None)
    # Staff first: once the patron reads "sent", the card is in the staff group (or queued).
    request = await interlibrary.view(context.library, made.request_id)
    if request is not None:
        await post_card(context, request)
    await render.reply(update, context, made_text(t, made, draft), after_markup(t), edit=True)


def made_text(t: Translator, made: interlibrary.IllStatus, draft: Draft) -> str:
    title = quoted(draft.title)
    network = scope_name(t, made.scope)
    if made.state == "awaiting_consent":
        return t.gettext(
            "✅ Request sent: the library will look for {title} in the {network}, which is at "
            "your cost. They will tell you the cost here first: nothing is ordered, and you owe "
            "nothing, until you agree.",
            title=title,
            network=network,
        )
    if made.deliver_by is not None:
        return t.gettext(
            "✅ Request sent: the library will ask the {network} for {title}, free of charge. "
            "It should arrive by: {date}. I will tell you here how it goes.",
            title=title,
            network=network,
            date=t.format_date(made.deliver_by),
        )
    return t.gettext(
        "✅ Request sent: the library will ask the {network} for {title}. I will tell you here "
        "how it goes.",
        title=title,
        network=network,
    )


async def refusal_text(context: BotContext, t: Translator, refusal: Refusal) -> str:
    """The service's refusal in plain words (the limit as a number, G18)."""
    if refusal.code == "ill_already_requested":
        # Most often the same button pressed twice: the first press made the request.
        return t.gettext(
            "You have already asked for this title: that request is open, and I will tell you "
            'here how it goes. "My holds" shows it.'
        )
    extra: dict[str, object] = {}
    ill = context.library.policy.interlibrary
    if refusal.code == "ill_limit" and ill is not None and refusal.detail in ill.quotas:
        extra["limit"] = ill.quotas[refusal.detail].max_open
    names = await render.branch_names(context.library)
    return render.refusal_text(t, refusal, names, **extra)


def after_markup(t: Translator) -> InlineKeyboardMarkup:
    return keyboard(
        [
            InlineKeyboardButton(t.gettext("📌 My holds"), callback_data="holds:list"),
            InlineKeyboardButton(t.gettext("🔎 Search"), callback_data="search:help"),
        ]
    )


# -- correcting a typed title or author ---------------------------------------------------------


async def ask_field(update: Update, context: BotContext) -> int:
    """``ill:ed:t`` / ``ill:ed:a``: the next message is the title (or the author)."""
    query = update.callback_query
    if query is None:
        return ConversationHandler.END
    await query.answer()
    found = await holds.patron_in_private(update, context)
    if found is None:
        return ConversationHandler.END
    _, t = found
    if kept_draft(context) is None:
        await render.reply(update, context, too_old(t), holds.search_markup(t))
        return ConversationHandler.END
    if query.data == "ill:ed:a":
        text = t.gettext("Send me the author's name (or - if you do not know it). /cancel to stop.")
        state = ASK_AUTHOR
    else:
        text = t.gettext("Send me the title as you would like it asked for. /cancel to stop.")
        state = ASK_TITLE
    await render.reply(update, context, text)
    return state


async def take_title(update: Update, context: BotContext) -> int:
    return await take_field(update, context, "title")


async def take_author(update: Update, context: BotContext) -> int:
    return await take_field(update, context, "author")


async def take_field(update: Update, context: BotContext, field: str) -> int:
    message = update.message
    if message is None or message.text is None:
        return ConversationHandler.END
    found = await holds.patron_in_private(update, context)
    draft = kept_draft(context)
    if found is None:
        return ConversationHandler.END
    _, t = found
    if draft is None:
        await render.reply(update, context, too_old(t), holds.search_markup(t))
        return ConversationHandler.END
    text = " ".join(message.text.split())
    if field == "title":
        if not text or len(text) > TITLE_LIMIT:
            await message.reply_text(
                t.gettext("Please send a title of at most {limit} characters.", limit=TITLE_LIMIT)
            )
            return ASK_TITLE
        draft = Draft(title=text, author=draft.author)
    else:
        if len(text) > AUTHOR_LIMIT:
            await message.reply_text(
                t.gettext("Please send a name of at most {limit} characters.", limit=AUTHOR_LIMIT)
            )
            return ASK_AUTHOR
        draft = Draft(title=draft.title, author=None if text in ("", "-") else text)
    keep_draft(context, draft)
    await show_draft(update, context, t, draft, edit=False)
    return ConversationHandler.END


async def cancel_field(update: Update, context: BotContext) -> int:
    found = await holds.patron_in_private(update, context)
    if found is not None and update.message is not None:
        await update.message.reply_text(
            found[1].gettext("All right, stopped. What next?"), reply_markup=after_markup(found[1])
        )
    return ConversationHandler.END


async def leave_field(update: Update, context: BotContext) -> int:
    """Another command, or another button, while the bot waits for a title or an author:
    the dialogue ends and the command or the button does what it always does, so that a
    title typed after /search is searched, not taken for the request (the draft is kept)."""
    await pass_on(update, context, DIALOGUE)
    return ConversationHandler.END


async def field_timed_out(update: Update, context: BotContext) -> None:
    """Ten minutes without a title or an author: the dialogue ends and says so, with the
    request as it stands (nothing was sent), so that a title typed later is not taken in
    silence for a search."""
    chat = update.effective_chat
    if chat is None or update.effective_user is None:
        return
    account, t = await who(update, context)
    draft = kept_draft(context)
    stopped = t.gettext(
        "I have stopped waiting for the title or the author. Your request is not sent yet: "
        "here it is, to change or to send."
    )
    if account.patron is None or draft is None:
        await context.bot.send_message(chat.id, stopped, reply_markup=holds.search_markup(t))
        return
    await show_draft(update, context, t, draft, edit=False, notice=stopped)


def editing_conversation() -> ConversationHandler[BotContext]:
    # Started by a button, answered with a text message: per chat and user (PTB warns about
    # that choice, which is ours).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)
        return ConversationHandler(
            entry_points=[CallbackQueryHandler(ask_field, pattern=r"^ill:ed:[ta]$")],
            states={
                ASK_TITLE: [MessageHandler(ptb_filters.TEXT & ~ptb_filters.COMMAND, take_title)],
                ASK_AUTHOR: [MessageHandler(ptb_filters.TEXT & ~ptb_filters.COMMAND, take_author)],
                ConversationHandler.TIMEOUT: [TypeHandler(Update, field_timed_out)],
            },
            fallbacks=[
                CommandHandler("cancel", cancel_field),
                MessageHandler(ptb_filters.COMMAND, leave_field),
                CallbackQueryHandler(leave_field),
            ],
            name=DIALOGUE,
            per_message=False,
            allow_reentry=True,  # "Change title" then "Change author": the last one asked
            conversation_timeout=DIALOGUE_TIMEOUT,
        )


# -- the cost: agreeing or not (G20) --------------------------------------------------------------


async def own_action(update: Update, context: BotContext) -> None:
    """``ill:ok|no|wd|wdok:<id>[:<cents>]``: the patron acting on one of her requests."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    pieces = (query.data or "").split(":")
    if len(pieces) < 3:
        return
    action, numbers = pieces[1], [int_part(piece) for piece in pieces[2:]]
    if any(number is None for number in numbers):
        return
    found = await holds.patron_in_private(update, context)
    if found is None:
        return
    patron, t = found
    request_id = numbers[0]
    assert request_id is not None
    if action == "ok" and len(numbers) == 2:
        await agree(update, context, patron, t, request_id, numbers[1])
    elif action == "no" and len(numbers) == 1:
        await decline(update, context, patron, t, request_id)
    elif action == "wd" and len(numbers) == 1:
        await ask_withdraw(update, context, patron, t, request_id)
    elif action == "wdok" and len(numbers) == 1:
        await withdraw(update, context, patron, t, request_id)


async def agree(
    update: Update,
    context: BotContext,
    patron: PatronRow,
    t: Translator,
    request_id: int,
    cents: int | None,
) -> None:
    try:
        done = await interlibrary.consent(
            context.library, card=patron.card, request_id=request_id, now=now(), cost_cents=cents
        )
    except Refusal as refusal:
        await answer_refusal(update, context, patron, t, request_id, refusal)
        return
    text = t.gettext(
        "✅ Thank you: you agreed to pay {cost} for {title}. The library will order it now and "
        "I will tell you here when it arrives. The cost stays due even if you change your mind.",
        cost=money(t, done.cost_cents),
        title=quoted(done.title),
    )
    await render.reply(update, context, text, after_markup(t), edit=True)
    await refresh_card(context, request_id)


async def decline(
    update: Update, context: BotContext, patron: PatronRow, t: Translator, request_id: int
) -> None:
    try:
        done = await interlibrary.decline(
            context.library, card=patron.card, request_id=request_id, now=now()
        )
    except Refusal as refusal:
        await answer_refusal(update, context, patron, t, request_id, refusal)
        return
    text = t.gettext(
        "All right: the request for {title} is closed, and you owe nothing.",
        title=quoted(done.title),
    )
    await render.reply(update, context, text, after_markup(t), edit=True)
    await refresh_card(context, request_id)


async def answer_refusal(
    update: Update,
    context: BotContext,
    patron: PatronRow,
    t: Translator,
    request_id: int,
    refusal: Refusal,
) -> None:
    """Why the answer is not taken, with the buttons that apply now."""
    current = await own_request(context, patron, request_id)
    markup = after_markup(t)
    if current is None:
        text = t.gettext("That request is not among your open requests any more.")
    elif refusal.code == "cost_changed":
        text = t.gettext(
            "The cost of {title} has changed since that message: it is now {cost}.",
            title=quoted(current.title),
            cost=money(t, current.cost_cents),
        )
        buttons = [
            InlineKeyboardButton(label, callback_data=data)
            for label, data in consent_buttons(t, current)
        ]
        markup = keyboard(buttons, *(list(row) for row in markup.inline_keyboard))
    else:
        text = t.gettext("That request no longer waits for your answer.")
    await render.reply(update, context, text, markup, edit=True)


async def own_request(
    context: BotContext, patron: PatronRow, request_id: int
) -> interlibrary.IllView | None:
    found = await interlibrary.requests(context.library, card=patron.card)
    return next((request for request in found if request.request_id == request_id), None)


# -- withdrawing (from /holds) --------------------------------------------------------------------


async def ask_withdraw(
    update: Update, context: BotContext, patron: PatronRow, t: Translator, request_id: int
) -> None:
    request = await own_request(context, patron, request_id)
    if request is None:
        await holds.show_list(update, context, patron, t, notice=not_open(t), edit=True)
        return
    title = quoted(request.title)
    if request.withdrawal_owes:
        text = t.gettext(
            "Withdraw your request for {title}? You agreed to pay {cost}, so the library may "
            "already have ordered it: the cost stays due even if you withdraw, and until it is "
            "paid you cannot borrow or reserve.",
            title=title,
            cost=money(t, request.cost_cents),
        )
    else:
        text = t.gettext("Withdraw your request for {title}? You owe nothing for it.", title=title)
    markup = keyboard(
        [
            InlineKeyboardButton(
                t.gettext("Yes, withdraw it"), callback_data=callback("ill", "wdok", request_id)
            ),
            InlineKeyboardButton(t.gettext("No, keep it"), callback_data="hold:ls"),
        ]
    )
    await render.reply(update, context, text, markup, edit=True)


async def withdraw(
    update: Update, context: BotContext, patron: PatronRow, t: Translator, request_id: int
) -> None:
    request = await own_request(context, patron, request_id)
    notice = not_open(t)
    if request is not None:
        try:
            owed = await interlibrary.withdraw(
                context.library, card=patron.card, request_id=request_id, now=now()
            )
        except Refusal:
            owed = None
        if owed is not None:
            notice = t.gettext(
                "🗑 Your request for {title} is withdrawn.", title=quoted(request.title)
            )
            if owed:
                notice += " " + t.gettext(
                    "The agreed cost, {cost}, is still due: until it is paid you cannot borrow "
                    "or reserve.",
                    cost=t.format_money(owed),
                )
            await refresh_card(context, request_id)
    await holds.show_list(update, context, patron, t, notice=notice, edit=True)


def not_open(t: Translator) -> str:
    return t.gettext("That request is not among your open requests any more. Here they are now:")


def register_dialogue(app: BotApplication) -> None:
    """In group 0 right after linking (``build_application``): while it waits for a title or
    an author, every other command or button ends it before doing its own work (see
    :func:`leave_field`), /admin, /librarian and the staff's buttons included."""
    app.add_handler(editing_conversation())


def register(app: BotApplication) -> None:
    app.add_handler(CallbackQueryHandler(from_record, pattern=r"^ill:rec:"))
    app.add_handler(CallbackQueryHandler(from_query, pattern=r"^ill:q:"))
    app.add_handler(CallbackQueryHandler(choose_scope, pattern=r"^ill:sc:"))
    app.add_handler(CallbackQueryHandler(own_action, pattern=r"^ill:(ok|no|wd|wdok):"))
