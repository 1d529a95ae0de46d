"""How loans, renewals and a patron's standing read in the chat: text and buttons, nothing else.

``/loans``, the renew buttons and ``/account`` word the same things the same way, so the words
live here once. So do the size limits: a message is at most 4096 characters (Telegram counts
UTF-16 code units) and a patron may have 40 loans with long titles, so the list is paginated,
titles are shortened, and the "renew all" report groups refusals by reason and, if it still
does not fit, shortens titles further. Plain text only (no parse mode): titles come from MARC
records and need no escaping, and a screen can be compared with the message already on show.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest

from bot.circulation.policy import Policy
from bot.handlers.context import BotContext, callback, int_part, keyboard
from bot.handlers.start import main_menu
from bot.i18n import Translator, reason_message
from bot.services.errors import Refusal
from bot.services.loans import LoanReceipt, RenewalOutcome
from bot.services.patrons import LoanLine, PatronSummary, RestrictionLine

MESSAGE_LIMIT = 4096  # Bot API sendMessage.text, in UTF-16 code units
PAGE_SIZE = 8  # loans per page: 8 blocks of ≤ 200 characters, and a keyboard of ≤ 8 rows
TITLE_WIDTH = 90  # characters of a title in the list
BUTTON_TITLE_WIDTH = 22  # characters of a title on a renew button
BLOCKED = ("suspended", "excluded")  # refusals that the patron's restrictions explain


@dataclass(frozen=True, slots=True)
class Screen:
    """A message to show: its text and its buttons."""

    text: str
    markup: InlineKeyboardMarkup | None = None


def utf16_len(text: str) -> int:
    """The length Telegram measures (an emoji counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def shorten(text: str, width: int) -> str:
    """One line of at most ``width`` characters, with an ellipsis when cut."""
    line = " ".join(text.split())
    return line if len(line) <= width else line[: max(1, width - 1)].rstrip() + "…"


def fit(build: Callable[[int], str], widths: Sequence[int] = (60, 40, 24, 12)) -> str:
    """The first rendering (titles ``width`` wide) that fits a message; cut as a last resort."""
    text = ""
    for width in widths:
        text = build(width)
        if utf16_len(text) <= MESSAGE_LIMIT:
            return text
    while utf16_len(text) > MESSAGE_LIMIT - 1:
        text = text[: len(text) - (utf16_len(text) - MESSAGE_LIMIT) - 1]
    return text.rstrip() + "…"


def nearest_first(loans: Sequence[LoanLine]) -> list[LoanLine]:
    return sorted(loans, key=lambda loan: (loan.due_on, loan.title.casefold(), loan.loan_id))


def page_count(total: int) -> int:
    return max(1, -(-total // PAGE_SIZE))


def clamp_page(page: int, total: int) -> int:
    return min(max(page, 0), page_count(total) - 1)


# -- the list of loans ----------------------------------------------------------------------


def loans_screen(
    t: Translator, loans: Sequence[LoanLine], page: int, *, today: date, max_renewals: int
) -> Screen:
    """One page of the patron's loans, nearest due date first, with their renew buttons."""
    if not loans:
        return Screen(
            t.gettext(
                "You have no loans right now. Looking for something to read? Send me a title "
                "or an author, or tap Search."
            ),
            keyboard(*main_menu(t, True)),
        )
    ordered = nearest_first(loans)
    page = clamp_page(page, len(ordered))
    pages = page_count(len(ordered))
    first = page * PAGE_SIZE
    shown = ordered[first : first + PAGE_SIZE]
    overdue = sum(1 for loan in ordered if loan.overdue_days > 0)
    head = [
        t.ngettext("📚 You have {n} loan.", "📚 You have {n} loans.", len(ordered), n=len(ordered))
    ]
    if overdue:
        head.append(
            t.ngettext(
                "⚠️ {n} of them is overdue.", "⚠️ {n} of them are overdue.", overdue, n=overdue
            )
        )
    if pages > 1:
        head.append(t.gettext("Page {page} of {pages}.", page=page + 1, pages=pages))
    blocks = [
        loan_block(t, first + index + 1, loan, today=today, max_renewals=max_renewals)
        for index, loan in enumerate(shown)
    ]
    footer = t.gettext("Tap 🔄 to renew a loan.")
    text = "\n".join(head) + "\n\n" + "\n\n".join(blocks) + "\n\n" + footer
    return Screen(text, loans_keyboard(t, shown, first, page, pages))


def loan_block(
    t: Translator, number: int, loan: LoanLine, *, today: date, max_renewals: int
) -> str:
    """A loan in three short lines: title; due date and renewals; overdue or due today."""
    lines = [f"{number}. {shorten(loan.title, TITLE_WIDTH)}"]
    due = t.gettext("Due: {date}", date=t.format_date(loan.due_on))
    renewals = t.gettext("Renewals used: {used} of {limit}", used=loan.renewals, limit=max_renewals)
    lines.append(f"   {due} · {renewals}")
    if loan.overdue_days > 0:
        lines.append(
            "   "
            + t.ngettext(
                "⚠️ overdue by {n} day",
                "⚠️ overdue by {n} days",
                loan.overdue_days,
                n=loan.overdue_days,
            )
        )
    elif loan.due_on == today:
        lines.append("   " + t.gettext("⏰ due today"))
    if loan.short_loan:
        lines.append("   " + t.gettext("Short loan: it cannot be renewed."))
    return "\n".join(lines)


def loans_keyboard(
    t: Translator, shown: Sequence[LoanLine], first: int, page: int, pages: int
) -> InlineKeyboardMarkup:
    """Renew buttons for the loans on this page (two a row), the page switch, renew all."""
    renew = [
        InlineKeyboardButton(
            f"🔄 {first + index + 1}. {shorten(loan.title, BUTTON_TITLE_WIDTH)}",
            callback_data=callback("renew", loan.loan_id, page),
        )
        for index, loan in enumerate(shown)
    ]
    rows = [renew[i : i + 2] for i in range(0, len(renew), 2)]
    switch = []
    if page > 0:
        switch.append(
            InlineKeyboardButton(
                t.gettext("‹ Previous"), callback_data=callback("loans", "page", page - 1)
            )
        )
    if page < pages - 1:
        switch.append(
            InlineKeyboardButton(
                t.gettext("Next ›"), callback_data=callback("loans", "page", page + 1)
            )
        )
    rows.append(switch)
    rows.append(
        [
            InlineKeyboardButton(
                t.gettext("🔄 Renew all"), callback_data=callback("renew", "all", page)
            )
        ]
    )
    return keyboard(*rows)


def not_linked_screen(t: Translator) -> Screen:
    return Screen(
        t.gettext(
            "To see your loans and your account, link your library card first: you need its "
            "number and your PIN (ask at the desk if you do not have one)."
        ),
        keyboard(*main_menu(t, False)),
    )


# -- renewals -------------------------------------------------------------------------------


def receipt_text(t: Translator, receipt: LoanReceipt) -> str:
    """The renewal's receipt: G14 makes the patron's confirmation prevail, so it says so."""
    lines = [
        t.gettext("✅ Renewed: {title}", title=shorten(receipt.title, TITLE_WIDTH)),
        t.gettext("New due date: {date}", date=t.format_date(receipt.due_on)),
        t.gettext("Reference: {receipt}", receipt=receipt.receipt),
    ]
    if receipt.moved_from is not None:
        lines.append(
            t.gettext(
                "The library is closed on {date}, so the due date moved to the next opening day.",
                date=t.format_date(receipt.moved_from, "full"),
            )
        )
    lines.append(
        t.gettext("Keep this message: if there is ever a doubt, this confirmation is what counts.")
    )
    return "\n".join(lines)


def refusal_details(refusal: Refusal, loan: LoanLine | None) -> dict[str, object]:
    """What :func:`reason_message` needs to be precise, read from the refusal and the loan."""
    detail = refusal.detail or ""
    if refusal.code in ("too_early", "too_late"):
        try:
            return {"date": date.fromisoformat(detail)}
        except ValueError:
            return {}  # "would_not_extend": phrased without a date
    limit = int_part(detail)
    if refusal.code == "renewal_limit" and limit is not None:
        return {"limit": limit}
    if refusal.code == "not_renewable" and detail:
        return {"because": detail}
    if refusal.code == "on_hold" and loan is not None:
        return {"date": loan.due_on}
    return {}


def refusal_text(
    t: Translator,
    refusal: Refusal,
    loan: LoanLine,
    summary: PatronSummary,
    policy: Policy,
) -> str:
    """Why one loan was not renewed, in plain words; a suspension says why and until when."""
    lines = [
        t.gettext("❌ Not renewed: {title}", title=shorten(loan.title, TITLE_WIDTH)),
        reason_message(t, refusal.code, **refusal_details(refusal, loan)),
    ]
    if refusal.code in BLOCKED:
        lines += restriction_lines(t, summary, policy)
    lines.append(t.gettext("Due: {date}", date=t.format_date(loan.due_on)))
    return "\n".join(lines)


def renew_all_text(
    t: Translator,
    outcomes: Sequence[RenewalOutcome],
    summary: PatronSummary,
    policy: Policy,
) -> str:
    """Every loan's outcome in one message: the renewed with their receipts, the others
    grouped under the reason (said once), each with its own date when the reason has one."""
    if not outcomes:
        return t.gettext("You have no loans to renew.")
    due = {loan.barcode: loan.due_on for loan in summary.loans}
    done = [o for o in outcomes if o.receipt is not None]
    refused = [o for o in outcomes if o.refusal is not None]
    groups: dict[str, list[RenewalOutcome]] = {}
    for outcome in refused:
        assert outcome.refusal is not None
        # The reason without per-loan details, so that loans refused alike share one heading.
        heading = reason_message(t, outcome.refusal.code)
        groups.setdefault(heading, []).append(outcome)

    def build(width: int) -> str:
        parts = [
            t.ngettext(
                "Renew all: {n} loan renewed",
                "Renew all: {n} loans renewed",
                len(done),
                n=len(done),
            )
            + ", "
            + t.ngettext("{n} not renewed.", "{n} not renewed.", len(refused), n=len(refused))
        ]
        if done:
            lines = [t.gettext("✅ Renewed (keep these references, they count if in doubt):")]
            for outcome in done:
                assert outcome.receipt is not None
                lines.append(
                    t.gettext(
                        "• {title} · New due date: {date} · Ref. {receipt}",
                        title=shorten(outcome.title, width),
                        date=t.format_date(outcome.receipt.due_on),
                        receipt=outcome.receipt.receipt,
                    )
                )
            parts.append("\n".join(lines))
        for heading, members in groups.items():
            lines = ["❌ " + heading]
            if any(m.refusal is not None and m.refusal.code in BLOCKED for m in members):
                lines += restriction_lines(t, summary, policy)  # why, and until when
            for outcome in members:
                lines.append(_refused_line(t, outcome, width, due.get(outcome.barcode)))
            parts.append("\n".join(lines))
        return "\n\n".join(parts)

    return fit(build)


def _refused_line(t: Translator, outcome: RenewalOutcome, width: int, due_on: date | None) -> str:
    assert outcome.refusal is not None
    title = shorten(outcome.title, width)
    when = refusal_details(outcome.refusal, None).get("date")
    if outcome.refusal.code == "too_early" and isinstance(when, date):
        return t.gettext(
            "• {title} · First day to renew: {date}", title=title, date=t.format_date(when)
        )
    if outcome.refusal.code == "too_late" and isinstance(when, date):
        return t.gettext(
            "• {title} · Last day to renew was: {date}", title=title, date=t.format_date(when)
        )
    if due_on is not None:
        return t.gettext("• {title} · Due: {date}", title=title, date=t.format_date(due_on))
    return f"• {title}"


# -- standing -------------------------------------------------------------------------------


def status_line(t: Translator, status: str) -> str:
    if status == "suspended":
        return t.gettext("Status: ⛔ suspended")
    if status == "excluded":
        return t.gettext("Status: ⛔ excluded from the library's services")
    return t.gettext("Status: ✅ in good standing")


def restriction_lines(t: Translator, summary: PatronSummary, policy: Policy) -> list[str]:
    """Each restriction in force: why (in plain words), the rule, and what lifts it."""
    money = [r for r in summary.restrictions if r.reason in ("unpaid_fines", "unpaid_service")]
    lines = []
    for restriction in summary.restrictions:
        details = _restriction_details(restriction, summary, policy, len(money) == 1)
        lines.append("• " + reason_message(t, restriction.reason, **details))
        lines.append("  " + lifted_by(t, restriction))
    return lines


def _restriction_details(
    restriction: RestrictionLine, summary: PatronSummary, policy: Policy, one_debt: bool
) -> dict[str, object]:
    standing = policy.standing
    if restriction.reason == "overdue" and standing.suspend_after_days_late is not None:
        return {"days": standing.suspend_after_days_late}
    if restriction.reason == "long_overdue" and standing.exclude_after_days_late is not None:
        return {"days": standing.exclude_after_days_late}
    if restriction.reason in ("unpaid_fines", "unpaid_service") and one_debt:
        return {"cents": summary.fines_owed_cents}
    if restriction.reason == "short_loan_late" and policy.short_loan is not None:
        return {"days": policy.short_loan.short_loan_exclusion_after_days_late}
    return {}


def lifted_by(t: Translator, restriction: RestrictionLine) -> str:
    """Until when a restriction lasts, with the rule that imposes it."""
    rule = restriction.rule
    if restriction.lifted_by == "return":
        return t.gettext("Rule {rule}: until the late items are returned.", rule=rule)
    if restriction.lifted_by == "payment":
        return t.gettext("Rule {rule}: until it is paid.", rule=rule)
    if restriction.lifted_by == "regular":
        return t.gettext(
            "Rule {rule}: until the late items are returned and what is owed is paid.", rule=rule
        )
    return t.gettext("Rule {rule}: until the library lifts it.", rule=rule)


# -- privacy --------------------------------------------------------------------------------


def private_chat_pointer(t: Translator, bot_username: str | None) -> str:
    """What a group gets instead of personal data."""
    if bot_username:
        return t.gettext(
            "For your privacy, I show loans and account details only in our private chat: {link}",
            link=f"https://t.me/{bot_username}",
        )
    return t.gettext("For your privacy, I show loans and account details only in our private chat.")


# -- showing a screen -----------------------------------------------------------------------


async def show(update: Update, context: BotContext, screen: Screen, *, edit: bool = False) -> None:
    """Send ``screen``, or with ``edit`` put it in place of the message whose button was
    pressed, so that an old list updates itself instead of piling up copies. An edit that
    would change nothing is skipped (Telegram refuses it)."""
    query = update.callback_query
    message = query.message if query is not None else None
    if edit and isinstance(message, Message):
        if message.text == screen.text and _markup(message.reply_markup) == _markup(screen.markup):
            return
        try:
            await context.bot.edit_message_text(
                screen.text,
                chat_id=message.chat.id,
                message_id=message.message_id,
                reply_markup=screen.markup,
            )
        except BadRequest as error:
            if "not modified" not in str(error).lower():
                raise
        return
    chat = update.effective_chat
    if chat is not None:
        await context.bot.send_message(chat.id, screen.text, reply_markup=screen.markup)


def _markup(markup: InlineKeyboardMarkup | None) -> object:
    return markup.to_dict() if markup is not None else None


def is_loans_list(message: object) -> bool:
    """Whether a message is a loans list (it carries renew or page buttons)."""
    if not isinstance(message, Message) or message.reply_markup is None:
        return False
    return any(
        isinstance(button.callback_data, str)
        and button.callback_data.startswith(("renew:", "loans:page:"))
        for row in message.reply_markup.inline_keyboard
        for button in row
    )
