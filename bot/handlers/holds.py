"""Holds: reserve a title from its page, and ``/holds`` to see, cancel, suspend and resume them.

Reserving is three steps on one message: the pickup library (the patron's home branch
first), a confirmation, then the answer (queue position, ready to collect, or on its way).
The list edits itself as the patron acts on it, with the outcome on top.

Every press is checked again against the store: the hold must be among the active holds of
the card linked to the account pressing, and the action still allowed (the services refuse
the rest). A press on an old message (a hold cancelled since, a confirmation pressed twice)
answers with how things stand now; a forged id gets the same answer as a hold that is gone,
so ids reveal nothing. Holds are personal: in groups the bot only points to a private chat.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.catalog.search import RecordDetail, record_detail
from bot.handlers import interlibrary_render as ill_render
from bot.handlers import render
from bot.handlers.context import (
    BotApplication,
    BotContext,
    callback,
    int_part,
    is_private,
    keyboard,
    now,
    who,
)
from bot.i18n import Translator
from bot.services import holds as hold_service
from bot.services import interlibrary, patrons
from bot.services.errors import Refusal
from bot.services.holds import HoldStatus
from db.circulation import PatronRow

SUSPEND_DAYS = (14, 30)  # the choices offered: two weeks, a month
TITLE_IN_TEXT = 80
GONE = ("unknown_hold", "hold_closed")


# -- who may act -------------------------------------------------------------------------------


async def patron_in_private(
    update: Update, context: BotContext
) -> tuple[PatronRow, Translator] | None:
    """The linked patron of a private chat; otherwise say what to do instead, and None."""
    account, t = await who(update, context)
    if not is_private(update):
        await render.reply(
            update, context, render.private_only_text(t), render.private_only_markup(t, context)
        )
        return None
    if account.patron is None:
        text, markup = render.link_first(t)
        await render.reply(update, context, text, markup)
        return None
    return account.patron, t


# -- the list ----------------------------------------------------------------------------------


async def holds_command(update: Update, context: BotContext) -> None:
    if update.message is None:
        return
    found = await patron_in_private(update, context)
    if found is not None:
        await show_list(update, context, *found)


async def holds_button(update: Update, context: BotContext) -> None:
    """``holds:list`` (menus, new message) and ``hold:ls`` (back, in place)."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    found = await patron_in_private(update, context)
    if found is not None:
        await show_list(update, context, *found, edit=query.data == "hold:ls")


async def current_holds(context: BotContext, patron: PatronRow) -> tuple[HoldStatus, ...]:
    try:
        summary = await patrons.summary(context.library, card=patron.card, now=now())
    except Refusal:  # the card was removed since the account was read
        return ()
    return summary.holds


async def show_list(
    update: Update,
    context: BotContext,
    patron: PatronRow,
    t: Translator,
    *,
    notice: str = "",
    edit: bool = False,
) -> None:
    text, markup = await list_screen(context, patron, t, notice)
    await render.reply(update, context, text, markup, edit=edit)


async def list_screen(
    context: BotContext, patron: PatronRow, t: Translator, notice: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    """The patron's holds as they stand, what to collect first, with a row of buttons each;
    then her requests to other library networks (G18), with what she may do about each."""
    top = f"{notice}\n\n" if notice else ""
    search_row = [InlineKeyboardButton(t.gettext("🔎 Search"), callback_data="search:help")]
    holds = render.holds_in_order(await current_holds(context, patron))
    requests = await current_requests(context, patron)
    if not holds and not requests:
        text = top + t.gettext(
            "You have no holds at the moment. Find a title and press “Reserve” on its page."
        )
        return text, keyboard(search_row)
    names = await render.branch_names(context.library)
    if holds:
        head = top + t.ngettext("📌 Your hold:", "📌 Your {n} holds:", len(holds), n=len(holds))
    else:
        head = top + t.gettext("📌 You have no holds at the moment.")
    blocks = [
        f"{number}. {render.clip(hold.title, TITLE_IN_TEXT)}\n    "
        + render.hold_state(t, hold, names)
        for number, hold in enumerate(holds, start=1)
    ]
    branch = names.get(patron.home_branch, patron.home_branch)
    for number, request in enumerate(requests, start=len(holds) + 1):
        block = (
            f"{number}. {render.clip(request.title, TITLE_IN_TEXT)}\n    "
            + t.gettext("From: {network}", network=ill_render.scope_name(t, request.scope))
            + "\n    "
            + ill_render.patron_state(t, request, branch)
        )
        if number == len(holds) + 1:
            heading = t.ngettext(
                "📨 Your request to other libraries:",
                "📨 Your {n} requests to other libraries:",
                len(requests),
                n=len(requests),
            )
            block = f"{heading}\n{block}"
        blocks.append(block)

    def more(n: int) -> str:
        if not requests:
            return t.ngettext("… and {n} more hold", "… and {n} more holds", n, n=n)
        return t.ngettext("… and {n} more", "… and {n} more", n, n=n)

    text, shown = render.fit_blocks(head, blocks, more)
    rows = [hold_buttons(t, number, hold) for number, hold in enumerate(holds[:shown], start=1)]
    rows += [
        request_buttons(t, number, request)
        for number, request in enumerate(
            requests[: max(0, shown - len(holds))], start=len(holds) + 1
        )
    ]
    return text, keyboard(*rows, search_row)


async def current_requests(context: BotContext, patron: PatronRow) -> list[interlibrary.IllView]:
    try:
        return await interlibrary.requests(context.library, card=patron.card)
    except Refusal:  # the card was removed since the account was read
        return []


def request_buttons(
    t: Translator, number: int, request: interlibrary.IllView
) -> list[InlineKeyboardButton]:
    """Agree to the cost or not (G20) while it waits for that, else withdraw."""
    consent = ill_render.consent_buttons(t, request)
    if consent:
        return [InlineKeyboardButton(label, callback_data=data) for label, data in consent]
    return [
        InlineKeyboardButton(
            t.gettext("✖ Withdraw {number}", number=number),
            callback_data=callback("ill", "wd", request.request_id),
        )
    ]


def hold_buttons(t: Translator, number: int, hold: HoldStatus) -> list[InlineKeyboardButton]:
    row = [
        InlineKeyboardButton(
            t.gettext("✖ Cancel {number}", number=number),
            callback_data=callback("hold", "cx", hold.hold_id),
        )
    ]
    if hold.state == "waiting":
        row.append(
            InlineKeyboardButton(
                t.gettext("⏸ Suspend {number}", number=number),
                callback_data=callback("hold", "su", hold.hold_id),
            )
        )
    elif hold.state == "suspended":
        row.append(
            InlineKeyboardButton(
                t.gettext("▶ Resume {number}", number=number),
                callback_data=callback("hold", "res", hold.hold_id),
            )
        )
    return row


def back_to_list(t: Translator) -> InlineKeyboardButton:
    return InlineKeyboardButton(t.gettext("‹ Back to my holds"), callback_data="hold:ls")


def quoted(title: str) -> str:
    return f"«{render.clip(title, TITLE_IN_TEXT)}»"


# -- acting on one hold ------------------------------------------------------------------------


async def hold_action(update: Update, context: BotContext) -> None:
    """Every ``hold:…`` button: parse, check who is pressing, then the step asked for."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    pieces = (query.data or "").split(":")
    action, args = (pieces[1], pieces[2:]) if len(pieces) > 1 else ("", [])
    step = STEPS.get((action, len(args)))
    numbers = [int_part(arg) for arg in args]
    if step is None or numbers[0] is None:
        return  # not a button the bot made
    found = await patron_in_private(update, context)
    if found is None:
        return
    patron, t = found
    await step(update, context, patron, t, numbers[0], args[1:])


async def ask_cancel(
    update: Update,
    context: BotContext,
    patron: PatronRow,
    t: Translator,
    hold_id: int,
    _: list[str],
) -> None:
    hold = await own_hold(context, patron, hold_id)
    if hold is None:
        await show_list(update, context, patron, t, notice=no_longer(t), edit=True)
        return
    if hold.state == "ready":
        text = t.gettext(
            "Cancel your hold on {title}? The copy waiting for you will go to the next reader.",
            title=quoted(hold.title),
        )
    else:
        text = t.gettext(
            "Cancel your hold on {title}? You will lose your place in the queue.",
            title=quoted(hold.title),
        )
    markup = keyboard(
        [
            InlineKeyboardButton(
                t.gettext("Yes, cancel it"), callback_data=callback("hold", "cxok", hold_id)
            ),
            InlineKeyboardButton(t.gettext("No, keep it"), callback_data="hold:ls"),
        ]
    )
    await render.reply(update, context, text, markup, edit=True)


async def cancel(
    update: Update,
    context: BotContext,
    patron: PatronRow,
    t: Translator,
    hold_id: int,
    _: list[str],
) -> None:
    hold = await own_hold(context, patron, hold_id)
    notice = no_longer(t)
    if hold is not None:
        try:
            await hold_service.cancel_hold(
                context.library, card=patron.card, hold_id=hold_id, now=now()
            )
            notice = t.gettext("🗑 Your hold on {title} is cancelled.", title=quoted(hold.title))
        except Refusal as refusal:
            notice = await refusal_notice(context, t, refusal)
    await show_list(update, context, patron, t, notice=notice, edit=True)


async def ask_suspend(
    update: Update,
    context: BotContext,
    patron: PatronRow,
    t: Translator,
    hold_id: int,
    _: list[str],
) -> None:
    hold = await own_hold(context, patron, hold_id)
    if hold is None or hold.state != "waiting":
        notice = no_longer(t) if hold is None else only_waiting(t)
        await show_list(update, context, patron, t, notice=notice, edit=True)
        return
    text = t.gettext(
        "For how long should your hold on {title} wait? Until then no copy is set aside for "
        "you, and you keep your place in the queue.",
        title=quoted(hold.title),
    )
    two_weeks, month = SUSPEND_DAYS
    markup = keyboard(
        [
            InlineKeyboardButton(
                t.gettext("2 weeks"), callback_data=callback("hold", "sus", hold_id, two_weeks)
            ),
            InlineKeyboardButton(
                t.gettext("1 month"), callback_data=callback("hold", "sus", hold_id, month)
            ),
        ],
        [back_to_list(t)],
    )
    await render.reply(update, context, text, markup, edit=True)


async def suspend(
    update: Update,
    context: BotContext,
    patron: PatronRow,
    t: Translator,
    hold_id: int,
    rest: list[str],
) -> None:
    days = int_part(rest[0]) if rest else None
    if days not in SUSPEND_DAYS:  # not a button this version of the bot made
        notice = t.gettext("That button does not work any more. Here are your holds now:")
        await show_list(update, context, patron, t, notice=notice, edit=True)
        return
    until = t.local_date(now()) + timedelta(days=days)
    try:
        done = await hold_service.suspend_hold(
            context.library, card=patron.card, hold_id=hold_id, until=until, now=now()
        )
        notice = t.gettext(
            "⏸ Your hold on {title} is suspended until: {date}. You keep your place in the queue.",
            title=quoted(done.title),
            date=t.format_date(until),
        )
    except Refusal as refusal:
        notice = await refusal_notice(context, t, refusal)
    await show_list(update, context, patron, t, notice=notice, edit=True)


async def resume(
    update: Update,
    context: BotContext,
    patron: PatronRow,
    t: Translator,
    hold_id: int,
    _: list[str],
) -> None:
    try:
        done = await hold_service.resume_hold(
            context.library, card=patron.card, hold_id=hold_id, now=now()
        )
        notice = t.gettext("▶ Your hold on {title} is active again.", title=quoted(done.title))
    except Refusal as refusal:
        notice = await refusal_notice(context, t, refusal)
    await show_list(update, context, patron, t, notice=notice, edit=True)


async def own_hold(context: BotContext, patron: PatronRow, hold_id: int) -> HoldStatus | None:
    """The hold if it is one of this patron's active holds (the services check again)."""
    return next(
        (hold for hold in await current_holds(context, patron) if hold.hold_id == hold_id), None
    )


def no_longer(t: Translator) -> str:
    return t.gettext("That hold is not among your active holds any more. Here they are now:")


def only_waiting(t: Translator) -> str:
    return t.gettext("Only a hold that is waiting in the queue can be suspended.")


async def refusal_notice(context: BotContext, t: Translator, refusal: Refusal) -> str:
    if refusal.code in GONE:
        return no_longer(t)
    if refusal.code == "hold_not_waiting":
        return only_waiting(t)
    if refusal.code == "hold_not_suspended":
        return t.gettext("That hold is not suspended.")
    return render.refusal_text(t, refusal, await render.branch_names(context.library))


# -- reserving ---------------------------------------------------------------------------------


async def choose_pickup(
    update: Update,
    context: BotContext,
    patron: PatronRow,
    t: Translator,
    record_id: int,
    _: list[str],
) -> None:
    """``hold:new``: a new message under the record's page."""
    await pickup_choice(update, context, patron, t, record_id, edit=False)


async def change_pickup(
    update: Update,
    context: BotContext,
    patron: PatronRow,
    t: Translator,
    record_id: int,
    _: list[str],
) -> None:
    """``hold:where``: back from the confirmation to the libraries, in place."""
    await pickup_choice(update, context, patron, t, record_id, edit=True)


async def pickup_choice(
    update: Update,
    context: BotContext,
    patron: PatronRow,
    t: Translator,
    record_id: int,
    *,
    edit: bool,
) -> None:
    detail = await reservable(update, context, patron, t, record_id, edit=edit)
    if detail is None:
        return
    # What no pickup library would change (a suspended card, the title on loan, the hold limit,
    # a title that cannot be reserved) is told now, in the words "Confirm" would use, before
    # she chooses a library for nothing. "Confirm" still decides.
    refusal = await hold_service.reserve_refusal(
        context.library, card=patron.card, record_id=record_id, now=now()
    )
    if refusal is not None:
        await refuse_placing(update, context, patron, t, refusal, record_id, edit=edit)
        return
    branches = [branch for branch in await render.branches(context.library) if branch.pickup]
    branches.sort(key=lambda branch: branch.code != patron.home_branch)  # home first, stable
    buttons: list[InlineKeyboardButton] = []
    for branch in branches:
        try:
            data = callback("hold", "pick", record_id, branch.code)
        except ValueError:
            continue  # a branch code too long for a button: not offered
        home = branch.code == patron.home_branch
        label = f"🏠 {branch.name}" if home else branch.name
        buttons.append(InlineKeyboardButton(label, callback_data=data))
    rows = [buttons[:1], *[buttons[i : i + 2] for i in range(1, len(buttons), 2)]]
    back = InlineKeyboardButton(
        t.gettext("‹ Back to the title"), callback_data=callback("rec", record_id)
    )
    text = t.gettext("Where would you like to collect {title}?", title=quoted(detail.record.title))
    await render.reply(update, context, text, keyboard(*rows, [back]), edit=edit)


async def reservable(
    update: Update,
    context: BotContext,
    patron: PatronRow,
    t: Translator,
    record_id: int,
    *,
    edit: bool,
) -> RecordDetail | None:
    """The record, unless it is gone or already reserved (then say so, and None)."""
    detail = await record_detail(context.library.store, record_id)
    if detail is None:
        await render.reply(update, context, gone_record(t), search_markup(t), edit=edit)
        return None
    held = next((h for h in await current_holds(context, patron) if h.record_id == record_id), None)
    if held is not None:
        names = await render.branch_names(context.library)
        text = (
            t.gettext("You have already reserved this title.")
            + "\n"
            + render.hold_state(t, held, names)
        )
        await render.reply(update, context, text, after_hold_markup(t), edit=edit)
        return None
    return detail


async def confirm_pickup(
    update: Update,
    context: BotContext,
    patron: PatronRow,
    t: Translator,
    record_id: int,
    rest: list[str],
) -> None:
    code = rest[0]
    branches = {b.code: b for b in await render.branches(context.library) if b.pickup}
    if code not in branches:  # a library that closed since, or a forged code
        await pickup_choice(update, context, patron, t, record_id, edit=True)
        return
    detail = await reservable(update, context, patron, t, record_id, edit=True)
    if detail is None:
        return
    text = t.gettext(
        "Reserve {title}?\nPickup: {branch}\n\nI will tell you here when it is ready to collect.",
        title=quoted(detail.record.title),
        branch=branches[code].name,
    )
    markup = keyboard(
        [
            InlineKeyboardButton(
                t.gettext("✅ Confirm"), callback_data=callback("hold", "ok", record_id, code)
            )
        ],
        [
            InlineKeyboardButton(
                t.gettext("🏛 Another library"), callback_data=callback("hold", "where", record_id)
            )
        ],
    )
    await render.reply(update, context, text, markup, edit=True)


async def place(
    update: Update,
    context: BotContext,
    patron: PatronRow,
    t: Translator,
    record_id: int,
    rest: list[str],
) -> None:
    library = context.library
    names = await render.branch_names(library)
    try:
        hold = await hold_service.place_hold(
            library, card=patron.card, record_id=record_id, pickup=rest[0], now=now()
        )
    except Refusal as refusal:
        await refuse_placing(update, context, patron, t, refusal, record_id, edit=True)
        return
    await render.reply(update, context, placed(t, hold, names), after_hold_markup(t), edit=True)


async def refuse_placing(
    update: Update,
    context: BotContext,
    patron: PatronRow,
    t: Translator,
    refusal: Refusal,
    record_id: int,
    *,
    edit: bool,
) -> None:
    """Why she cannot reserve, with the way back to the title and to her holds (and to a
    librarian, who can help with a suspension)."""
    names = await render.branch_names(context.library)
    text = await placing_refused(context, patron, t, refusal, record_id, names)
    markup = keyboard(
        [
            InlineKeyboardButton(
                t.gettext("‹ Back to the title"), callback_data=callback("rec", record_id)
            ),
            InlineKeyboardButton(t.gettext("📌 My holds"), callback_data="holds:list"),
        ],
        render.ask_librarian_row(t, context),
    )
    await render.reply(update, context, text, markup, edit=edit)


def placed(t: Translator, hold: HoldStatus, names: dict[str, str]) -> str:
    branch = names.get(hold.pickup, hold.pickup)
    title = quoted(hold.title)
    if hold.state == "ready" and hold.expires_on is not None:
        return t.gettext(
            "✅ Reserved! {title} is ready for you at {branch}. Collect by: {date}.",
            title=title,
            branch=branch,
            date=t.format_date(hold.expires_on),
        )
    if hold.state == "in_transit":
        return t.gettext(
            "✅ Reserved! A copy of {title} is on its way to {branch}: I will tell you here "
            "when it is ready to collect.",
            title=title,
            branch=branch,
        )
    if hold.state == "waiting" and hold.position is not None:
        return t.gettext(
            "✅ Reserved! You are number {position} in the queue for {title}. Pickup: {branch}. "
            "I will tell you here when it is ready to collect.",
            position=hold.position,
            title=title,
            branch=branch,
        )
    return (
        t.gettext("✅ Reserved: {title}.", title=title) + "\n" + render.hold_state(t, hold, names)
    )


async def placing_refused(
    context: BotContext,
    patron: PatronRow,
    t: Translator,
    refusal: Refusal,
    record_id: int,
    names: dict[str, str],
) -> str:
    """The refusal in plain words, with how things stand when that helps."""
    if refusal.code == "unknown_record":
        return gone_record(t)
    extra: dict[str, object] = {}
    if refusal.code == "item_available":
        detail = await record_detail(context.library.store, record_id)
        shelf = [
            copy
            for copy in (detail.copies if detail else ())
            if copy.status == "available" and not copy.not_loanable
        ]
        if shelf:
            extra["branch"] = shelf[0].branch_name
    text = render.refusal_text(t, refusal, names, **extra)
    if refusal.code == "already_held":
        held = next(
            (h for h in await current_holds(context, patron) if h.record_id == record_id), None
        )
        if held is not None:
            text += "\n" + render.hold_state(t, held, names)
    return text


def gone_record(t: Translator) -> str:
    return t.gettext("This title is no longer in the catalog. Shall we look for something else?")


def search_markup(t: Translator) -> InlineKeyboardMarkup:
    return keyboard([InlineKeyboardButton(t.gettext("🔎 Search"), callback_data="search:help")])


def after_hold_markup(t: Translator) -> InlineKeyboardMarkup:
    return keyboard(
        [
            InlineKeyboardButton(t.gettext("📌 My holds"), callback_data="holds:list"),
            InlineKeyboardButton(t.gettext("🔎 Search"), callback_data="search:help"),
        ]
    )


Step = Callable[[Update, BotContext, PatronRow, Translator, int, list[str]], Awaitable[None]]

# (action, number of parts after it) → step; the first part is always a number (an id).
STEPS: dict[tuple[str, int], Step] = {
    ("new", 1): choose_pickup,
    ("where", 1): change_pickup,
    ("pick", 2): confirm_pickup,
    ("ok", 2): place,
    ("cx", 1): ask_cancel,
    ("cxok", 1): cancel,
    ("su", 1): ask_suspend,
    ("sus", 2): suspend,
    ("res", 1): resume,
}


def register(app: BotApplication) -> None:
    app.add_handler(CommandHandler("holds", holds_command))
    app.add_handler(CallbackQueryHandler(holds_button, pattern=r"^(holds:list|hold:ls)$"))
    app.add_handler(CallbackQueryHandler(hold_action, pattern=r"^hold:"))
