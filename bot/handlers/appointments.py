"""``/appointment``: a patron's upcoming appointments, and booking one in four presses.

The screen lists what she has booked (each with a Cancel button) and the services on offer;
then service → day → time → confirm, all on one message that edits itself. The dialogue is
stateless: every button carries what it needs (``ap:t:<service>:<UTC yyyymmddHHMM>``, well
under 64 bytes) and every press is checked again against the store, so an old message, a slot
taken meanwhile or a forged button gets a plain answer and changes nothing. ``/cancel`` needs
no special handling: nothing waits for a reply.

A booking is a request: the card goes to the staff group (:mod:`bot.handlers.appointment_staff`),
and the patron hears the decision through the outbox, with the .ics file when confirmed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.appointments import AppointmentReason, bookable_days, can_cancel
from bot.appointments.notices import when
from bot.handlers import appointment_staff, render
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
from bot.handlers.staff_access import staff_chat_id
from bot.i18n import Translator
from bot.services import appointments as service
from bot.services.errors import Refusal
from db.appointments import AppointmentRow, ServiceRow
from db.circulation import PatronRow

DAYS_PER_PAGE = 12
STAMP = "%Y%m%d%H%M"


# -- parsing the buttons' data ---------------------------------------------------------------


def stamp(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime(STAMP)


def parse_stamp(text: str) -> datetime | None:
    if len(text) != 12 or not (text.isascii() and text.isdigit()):
        return None
    try:
        return datetime.strptime(text, STAMP).replace(tzinfo=UTC)
    except ValueError:
        return None


def parse_day(text: str) -> date | None:
    if len(text) != 8 or not (text.isascii() and text.isdigit()):
        return None
    try:
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return None


def number(text: str) -> int | None:
    """An id from a button: ASCII digits only (:func:`~bot.handlers.context.int_part`)."""
    return int_part(text)


# -- answering ---------------------------------------------------------------------------------


async def show(
    update: Update,
    context: BotContext,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
    *,
    edit: bool = False,
) -> None:
    """:func:`bot.handlers.render.reply` for HTML text (names are escaped where they go in)."""
    query = update.callback_query
    if edit and query is not None and isinstance(query.message, Message):
        try:
            await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
            return
        except BadRequest as error:
            if "not modified" in str(error).lower():
                return
    chat = update.effective_chat
    if chat is not None:
        await context.bot.send_message(
            chat.id, text, parse_mode=ParseMode.HTML, reply_markup=markup
        )


# -- who may book ------------------------------------------------------------------------------


async def patron_here(update: Update, context: BotContext) -> tuple[PatronRow, Translator] | None:
    """The linked patron of a private chat; otherwise say what to do instead, and None."""
    account, t = await who(update, context)
    if not is_private(update):
        await show(
            update,
            context,
            t.gettext("Appointments are personal: let's book them in a private chat with me."),
            render.private_only_markup(t, context),
        )
        return None
    if account.patron is None:
        _, markup = render.link_first(t)
        await show(
            update,
            context,
            t.gettext(
                "To book an appointment with the library, link your library card first: you "
                "need its number and your PIN, or a code from the desk."
            ),
            markup,
        )
        return None
    return account.patron, t


# -- the main screen ---------------------------------------------------------------------------


def state_label(t: Translator, appointment: AppointmentRow) -> str:
    if appointment.state == "confirmed":
        return t.gettext("confirmed")
    return t.gettext("waiting for the library to confirm")


def service_label(t: Translator, row: ServiceRow) -> str:
    return t.gettext("{service} ({branch})", service=row.name(t.language), branch=row.branch_name)


async def main_screen(
    context: BotContext, patron: PatronRow, t: Translator, notice: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    library = context.library
    mine = await service.upcoming(library, patron.patron_id, now())
    offer = await service.services_on_offer(library) if staff_chat_id(context) else []
    parts = [notice] if notice else []
    rows: list[list[InlineKeyboardButton]] = []
    if mine:
        lines = [t.ngettext("📅 Your appointment:", "📅 Your {n} appointments:", len(mine))]
        for index, appointment in enumerate(mine, start=1):
            lines.append(
                f"{index}. <b>{escape(appointment.service.name(t.language))}</b>, "
                f"{when(t, appointment.starts_at)}, {escape(appointment.service.branch_name)}"
                f" — {state_label(t, appointment)}"
            )
            rows.append(
                [
                    InlineKeyboardButton(
                        t.gettext("✖ Cancel {number}", number=index),
                        callback_data=callback("ap", "cx", appointment.appointment_id),
                    )
                ]
            )
        parts.append("\n".join(lines))
    else:
        parts.append(t.gettext("You have no appointments booked."))
    if offer:
        parts.append(t.gettext("Book an appointment with a librarian: what do you need?"))
        rows.extend(
            [
                InlineKeyboardButton(
                    service_label(t, row), callback_data=callback("ap", "s", row.service_id, 0)
                )
            ]
            for row in offer
        )
    else:
        parts.append(t.gettext("No appointments can be booked here at the moment."))
    return "\n\n".join(parts), keyboard(*rows)


async def appointment_command(update: Update, context: BotContext) -> None:
    if update.message is None:
        return
    found = await patron_here(update, context)
    if found is not None:
        text, markup = await main_screen(context, *found)
        await show(update, context, text, markup)


# -- the steps ---------------------------------------------------------------------------------


Step = Callable[[Update, BotContext, PatronRow, Translator, list[str]], Awaitable[None]]


async def show_main(
    update: Update, context: BotContext, patron: PatronRow, t: Translator, args: list[str]
) -> None:
    """``ap:ls`` (from a notice: a new message) and ``ap:home`` (back: in place)."""
    text, markup = await main_screen(context, patron, t)
    query = update.callback_query
    await show(update, context, text, markup, edit=query is not None and query.data == "ap:home")


def home_button(t: Translator) -> InlineKeyboardButton:
    return InlineKeyboardButton(t.gettext("‹ My appointments"), callback_data="ap:home")


def refusal_sentence(t: Translator, refusal: Refusal, branch: str = "") -> str:
    """A booking or cancellation refused, in plain words."""
    code = refusal.code
    if code == AppointmentReason.SLOT_FULL:
        return t.gettext("Sorry, someone has just taken that time. Please choose another one.")
    if code == AppointmentReason.ALREADY_BOOKED:
        return t.gettext("You have already booked this time.")
    if code == AppointmentReason.TOO_SOON:
        return t.gettext("That time is too close now to be booked. Please choose a later one.")
    if code == AppointmentReason.PAST_CUTOFF:
        return t.gettext(
            "It is too late to cancel this appointment here. Please phone or write to the "
            "{branch} library to tell them.",
            branch=branch,
        )
    if code in (AppointmentReason.UNKNOWN_APPOINTMENT, AppointmentReason.UNKNOWN_SERVICE):
        return t.gettext("That appointment or service is no longer available.")
    return t.gettext("That time cannot be booked any more. Please choose another one.")


async def refuse(
    update: Update, context: BotContext, patron: PatronRow, t: Translator, sentence: str
) -> None:
    text, markup = await main_screen(context, patron, t, sentence)
    await show(update, context, text, markup, edit=True)


async def as_it_stands(
    update: Update, context: BotContext, patron: PatronRow, t: Translator
) -> None:
    """A button the bot did not make (a forged or garbled id): her appointments as they are
    now, in place of the pressed message, and nothing changed."""
    await refuse(update, context, patron, t, "")


async def choose_day(
    update: Update, context: BotContext, patron: PatronRow, t: Translator, args: list[str]
) -> None:
    """``ap:s:<service>:<first day index>``: the days with a free slot, a page at a time."""
    service_id, offset = number(args[0]), number(args[1])
    if service_id is None or offset is None:
        await as_it_stands(update, context, patron, t)
        return
    try:
        offer = await service.availability(context.library, service_id, now())
    except Refusal as refusal:
        await refuse(update, context, patron, t, refusal_sentence(t, refusal))
        return
    days = bookable_days(offer.slots, context.library.zone)
    label = escape(service_label(t, offer.service))
    if not days:
        text = t.gettext(
            "<b>{service}</b>: there are no free times in the coming days. Please try again later.",
            service=label,
        )
        await show(update, context, text, keyboard([home_button(t)]), edit=True)
        return
    page = days[offset : offset + DAYS_PER_PAGE]
    buttons = [
        InlineKeyboardButton(
            t.format_date(day, "weekday"),
            callback_data=callback("ap", "d", service_id, day.strftime("%Y%m%d")),
        )
        for day in page
    ]
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    paging: list[InlineKeyboardButton] = []
    if offset > 0:
        back = max(0, offset - DAYS_PER_PAGE)
        paging.append(
            InlineKeyboardButton(
                t.gettext("‹ Earlier"), callback_data=callback("ap", "s", service_id, back)
            )
        )
    if offset + DAYS_PER_PAGE < len(days):
        paging.append(
            InlineKeyboardButton(
                t.gettext("Later ›"),
                callback_data=callback("ap", "s", service_id, offset + DAYS_PER_PAGE),
            )
        )
    text = t.gettext(
        "<b>{service}</b>, {minutes} minutes. Which day suits you?",
        service=label,
        minutes=offer.service.duration_minutes,
    )
    await show(update, context, text, keyboard(*rows, paging, [home_button(t)]), edit=True)


async def choose_time(
    update: Update, context: BotContext, patron: PatronRow, t: Translator, args: list[str]
) -> None:
    """``ap:d:<service>:<yyyymmdd>``: that day's free times."""
    service_id, day = number(args[0]), parse_day(args[1])
    if service_id is None or day is None:
        await as_it_stands(update, context, patron, t)
        return
    try:
        offer = await service.availability(context.library, service_id, now())
    except Refusal as refusal:
        await refuse(update, context, patron, t, refusal_sentence(t, refusal))
        return
    zone = context.library.zone
    slots = [slot for slot in offer.slots if slot.starts_at.astimezone(zone).date() == day]
    back = InlineKeyboardButton(
        t.gettext("‹ Other days"), callback_data=callback("ap", "s", service_id, 0)
    )
    if not slots:
        text = t.gettext("There are no free times that day any more. Please choose another day.")
        await show(update, context, text, keyboard([back]), edit=True)
        return
    buttons = []
    for slot in slots:
        label = t.format_time(slot.starts_at)
        if offer.service.capacity > 1:
            label = t.ngettext("{time} ({n} place)", "{time} ({n} places)", slot.free, time=label)
        buttons.append(
            InlineKeyboardButton(
                label, callback_data=callback("ap", "t", service_id, stamp(slot.starts_at))
            )
        )
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    text = t.gettext(
        "<b>{service}</b>, {date}. At what time?",
        service=escape(service_label(t, offer.service)),
        date=t.format_date(day, "full"),
    )
    await show(update, context, text, keyboard(*rows, [back]), edit=True)


async def confirm_time(
    update: Update, context: BotContext, patron: PatronRow, t: Translator, args: list[str]
) -> None:
    """``ap:t:<service>:<stamp>``: what she is about to ask for, with Book and Back."""
    service_id, starts_at = number(args[0]), parse_stamp(args[1])
    if service_id is None or starts_at is None:
        await as_it_stands(update, context, patron, t)
        return
    try:
        offer = await service.availability(context.library, service_id, now())
    except Refusal as refusal:
        await refuse(update, context, patron, t, refusal_sentence(t, refusal))
        return
    day = starts_at.astimezone(context.library.zone).strftime("%Y%m%d")
    back = InlineKeyboardButton(
        t.gettext("‹ Other times"), callback_data=callback("ap", "d", service_id, day)
    )
    if starts_at not in {slot.starts_at for slot in offer.slots}:
        text = t.gettext("That time cannot be booked any more. Please choose another one.")
        await show(update, context, text, keyboard([back]), edit=True)
        return
    row = offer.service
    text = t.gettext(
        "Book <b>{service}</b>, {when}, at the {branch} library ({minutes} minutes)?\n\n"
        "The library will confirm your request with a message here.",
        service=escape(row.name(t.language)),
        when=when(t, starts_at),
        branch=escape(row.branch_name),
        minutes=row.duration_minutes,
    )
    book_button = InlineKeyboardButton(
        t.gettext("✅ Book"), callback_data=callback("ap", "ok", service_id, stamp(starts_at))
    )
    await show(update, context, text, keyboard([book_button], [back]), edit=True)


async def book(
    update: Update, context: BotContext, patron: PatronRow, t: Translator, args: list[str]
) -> None:
    """``ap:ok:<service>:<stamp>``: request the place; the staff group gets the card."""
    service_id, starts_at = number(args[0]), parse_stamp(args[1])
    if service_id is None or starts_at is None:
        await as_it_stands(update, context, patron, t)
        return
    if staff_chat_id(context) is None:
        await refuse(
            update,
            context,
            patron,
            t,
            t.gettext("No appointments can be booked here at the moment."),
        )
        return
    try:
        appointment = await service.book(
            context.library,
            patron_id=patron.patron_id,
            service_id=service_id,
            starts_at=starts_at,
            now=now(),
        )
    except Refusal as refusal:
        await refuse(update, context, patron, t, refusal_sentence(t, refusal))
        return
    await appointment_staff.post_request(context, appointment.appointment_id)
    row = appointment.service
    notice = t.gettext(
        "📨 Request sent: <b>{service}</b>, {when}, at the {branch} library. You will get a "
        "message here when the library confirms it.",
        service=escape(row.name(t.language)),
        when=when(t, appointment.starts_at),
        branch=escape(row.branch_name),
    )
    text, markup = await main_screen(context, patron, t, notice)
    await show(update, context, text, markup, edit=True)


async def ask_cancel(
    update: Update, context: BotContext, patron: PatronRow, t: Translator, args: list[str]
) -> None:
    """``ap:cx:<id>``: are you sure? (or, past the cut-off, whom to call)."""
    appointment_id = number(args[0])
    if appointment_id is None:
        await as_it_stands(update, context, patron, t)
        return
    try:
        appointment = await service.own_appointment(
            context.library, patron.patron_id, appointment_id
        )
    except Refusal as refusal:
        await refuse(update, context, patron, t, refusal_sentence(t, refusal))
        return
    row = appointment.service
    if not appointment.active:
        await refuse(update, context, patron, t, t.gettext("That appointment is no longer active."))
        return
    if not can_cancel(row.rules, appointment.starts_at, now()):
        sentence = refusal_sentence(
            t, Refusal(AppointmentReason.PAST_CUTOFF, "cut-off"), escape(row.branch_name)
        )
        await refuse(update, context, patron, t, sentence)
        return
    text = t.gettext(
        "Cancel your appointment <b>{service}</b>, {when}?",
        service=escape(row.name(t.language)),
        when=when(t, appointment.starts_at),
    )
    markup = keyboard(
        [
            InlineKeyboardButton(
                t.gettext("Yes, cancel it"), callback_data=callback("ap", "cy", appointment_id)
            ),
            InlineKeyboardButton(t.gettext("No, keep it"), callback_data="ap:home"),
        ]
    )
    await show(update, context, text, markup, edit=True)


async def cancel(
    update: Update, context: BotContext, patron: PatronRow, t: Translator, args: list[str]
) -> None:
    """``ap:cy:<id>``: cancel, tell the staff card, show the list."""
    appointment_id = number(args[0])
    if appointment_id is None:
        await as_it_stands(update, context, patron, t)
        return
    try:
        appointment = await service.own_appointment(
            context.library, patron.patron_id, appointment_id
        )
    except Refusal as refusal:
        await refuse(update, context, patron, t, refusal_sentence(t, refusal))
        return
    try:
        cancelled = await service.cancel_by_patron(
            context.library, patron_id=patron.patron_id, appointment_id=appointment_id, now=now()
        )
    except Refusal as refusal:
        branch = escape(appointment.service.branch_name)
        await refuse(update, context, patron, t, refusal_sentence(t, refusal, branch))
        return
    await appointment_staff.refresh_card(context, cancelled.appointment_id)
    notice = t.gettext(
        "🗑 Your appointment <b>{service}</b>, {when}, is cancelled.",
        service=escape(cancelled.service.name(t.language)),
        when=when(t, cancelled.starts_at),
    )
    text, markup = await main_screen(context, patron, t, notice)
    await show(update, context, text, markup, edit=True)


# (action, number of parts after it) → step
STEPS: dict[tuple[str, int], Step] = {
    ("ls", 0): show_main,
    ("home", 0): show_main,
    ("s", 2): choose_day,
    ("d", 2): choose_time,
    ("t", 2): confirm_time,
    ("ok", 2): book,
    ("cx", 1): ask_cancel,
    ("cy", 1): cancel,
}


async def appointment_button(update: Update, context: BotContext) -> None:
    """Every ``ap:…`` button: parse, check who is pressing, then the step asked for."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    pieces = (query.data or "").split(":")
    step = STEPS.get((pieces[1], len(pieces) - 2)) if len(pieces) > 1 else None
    if step is None:
        return  # not a button the bot made
    found = await patron_here(update, context)
    if found is not None:
        await step(update, context, *found, pieces[2:])


def register(app: BotApplication) -> None:
    app.add_handler(CommandHandler("appointment", appointment_command))
    app.add_handler(CallbackQueryHandler(appointment_button, pattern=r"^ap:"))
