"""What the search and holds screens share: branch names, availability, hold states, replies.

Everything a patron reads here goes through the translator with English msgids. Texts are
plain (no parse mode): titles and authors come from catalogs and patrons' queries, and plain
text can never be broken by a stray ``<`` or ``*`` in them.

Telegram counts a message's 4096 characters in UTF-16 code units (an emoji in a title counts
twice), so :func:`fits` measures that way, and long lists are cut with :func:`fit_blocks`
rather than left for the Bot API to refuse.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest

from bot.catalog.search import Hit, RecordDetail
from bot.circulation import Policy
from bot.handlers.context import BotContext, keyboard
from bot.i18n import Translator, reason_message
from bot.services.context import Library
from bot.services.errors import Refusal
from bot.services.holds import HoldStatus
from db import catalog as catalog_repo
from db.catalog import CopyRow

MESSAGE_LIMIT = 4096  # UTF-16 code units, Bot API sendMessage/editMessageText
# What our own texts may use: a margin under the limit for the odd line added after fitting
# (a footer under a record's copies is measured, but a translation may run longer).
MESSAGE_BUDGET = 3900
BUTTON_TITLE = 36  # characters of a title on a button: phones show about this many
SHELF_NAMES_SHOWN = 3  # "2 on the shelf: Brugherio, Vimodrone and 2 other libraries"


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def fits(text: str, budget: int = MESSAGE_BUDGET) -> bool:
    return utf16_len(text) <= budget


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis: titles can be paragraphs."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def fit_blocks(
    head: str,
    blocks: Sequence[str],
    more: Callable[[int], str] | None = None,
    budget: int = MESSAGE_BUDGET,
    separator: str = "\n\n",
) -> tuple[str, int]:
    """``head`` and as many ``blocks`` as fit in ``budget``, then ``more(n)`` (n: how many
    were left out) when some did not; returns the text and how many blocks it shows."""
    text = head
    for shown, block in enumerate(blocks):
        candidate = f"{text}{separator}{block}" if text else block
        left = len(blocks) - shown - 1
        closing = more(left) if more and left else ""
        if not fits(f"{candidate}{separator}{closing}" if closing else candidate, budget):
            cut = more(len(blocks) - shown) if more else ""
            return (f"{text}{separator}{cut}" if cut else text), shown
        text = candidate
    return text, len(blocks)


# -- branches ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Branch:
    code: str
    name: str
    pickup: bool  # open some day of the week: the services refuse pickups elsewhere


async def branches(library: Library) -> list[Branch]:
    """Every branch of the network by name; a branch without opening hours cannot be a pickup
    library (``Moment.branch_id`` refuses it with ``no_opening_hours``)."""
    return [
        Branch(code, name, has_hours)
        for code, name, has_hours in await catalog_repo.branch_list(library.store.reader)
    ]


async def branch_names(library: Library) -> dict[str, str]:
    return {branch.code: branch.name for branch in await branches(library)}


def not_loanable_sections(policy: Policy) -> list[str]:
    """The sections the policy does not lend, for the catalog's "reading room only" counts."""
    return sorted(code for code, rule in policy.sections.items() if not rule.loanable)


def not_loanable_types(policy: Policy) -> list[str]:
    """The material types the policy never lends (Ginestra's periodicals, G3)."""
    return sorted(kind.value for kind in policy.loanability.material_types)


# -- dates -------------------------------------------------------------------------------------


def iso_date(value: str | None) -> date | None:
    """A date the catalog returns as ISO text; None for anything else."""
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def short_date(t: Translator, day: date, today: date) -> str:
    """ "12 Dec" this year, "12 Dec 2027" otherwise."""
    return t.format_date(day, "day" if day.year == today.year else "medium")


# -- records -----------------------------------------------------------------------------------


def availability(t: Translator, hit: Hit, day: date) -> str:
    """Where a title can be had, in one line: the best news first."""
    if hit.on_shelf:
        names = [branch.name for branch in hit.branches if branch.on_shelf]
        return t.ngettext(
            "✅ {n} on the shelf: {branches}",
            "✅ {n} on the shelf: {branches}",
            hit.on_shelf,
            n=hit.on_shelf,
            branches=branch_list(t, names),
        )
    if hit.on_loan:
        due = iso_date(hit.earliest_due)
        if due is not None:
            # TRANSLATORS: keep a colon before {date} in Italian ("rientro previsto: 12 dic"):
            # an article before a date elides ("entro l'8").
            return t.gettext("📕 On loan, back by {date}", date=short_date(t, due, day))
        return t.gettext("📕 On loan")
    if any(branch.elsewhere for branch in hit.branches):
        return t.gettext("🚚 Not on the shelf now: in transit, or set aside for a reservation")
    if hit.not_loanable:
        return t.gettext("📖 Reading room only")
    return t.gettext("— No copies")


def branch_list(t: Translator, names: Sequence[str]) -> str:
    if len(names) <= SHELF_NAMES_SHOWN:
        return t.format_list(names)
    rest = len(names) - SHELF_NAMES_SHOWN
    return t.ngettext(
        "{branches} and {n} other library",
        "{branches} and {n} other libraries",
        rest,
        n=rest,
        branches=", ".join(names[:SHELF_NAMES_SHOWN]),
    )


def record_text(t: Translator, detail: RecordDetail, day: date, footer: str) -> str:
    """Title, authors, publisher, year, ISBN, and every branch's copies.

    Copy by copy when it fits in a message; else one line per branch with the counts; else
    as many branches as fit and how many more there are.
    """
    head = describe(t, detail)
    tail = f"\n\n{footer}" if footer else ""
    budget = MESSAGE_BUDGET - utf16_len(tail)
    copies = detail.copies
    if not copies:
        none = t.gettext("No copies in the libraries of the network.")
        return f"{head}\n\n{none}{tail}"
    top = f"{head}\n\n" + t.ngettext("📚 {n} copy:", "📚 {n} copies:", len(copies), n=len(copies))
    by_branch = group_by_branch(copies)
    full = [
        "\n".join([branch, *(copy_line(t, copy, day) for copy in branch_copies)])
        for branch, branch_copies in by_branch.items()
    ]
    text, shown = fit_blocks(top, full, budget=budget)
    if shown < len(full):
        summary = [branch_summary(t, branch, items, day) for branch, items in by_branch.items()]
        text, _ = fit_blocks(top, summary, more_branches(t), budget, separator="\n")
    return text + tail


def more_branches(t: Translator) -> Callable[[int], str]:
    def more(n: int) -> str:
        return t.ngettext("… and {n} more library", "… and {n} more libraries", n, n=n)

    return more


def describe(t: Translator, detail: RecordDetail) -> str:
    record = detail.record
    lines = [f"📖 {clip(record.title, 300)}"]
    if record.subtitle:
        lines.append(clip(record.subtitle, 300))
    if record.authors:
        authors = record.authors[:6]
        lines.append(
            t.ngettext(
                "Author: {names}",
                "Authors: {names}",
                len(authors),
                n=len(authors),
                names="; ".join(clip(name, 80) for name in authors),
            )
        )
    elif record.responsibility:
        lines.append(clip(record.responsibility, 200))
    if record.publisher:
        lines.append(t.gettext("Publisher: {publisher}", publisher=clip(record.publisher, 120)))
    if record.year:
        lines.append(t.gettext("Year: {year}", year=record.year))
    if record.isbns:
        lines.append(t.gettext("ISBN: {isbn}", isbn=", ".join(record.isbns[:4])))
    return "\n".join(lines)


def group_by_branch(copies: Sequence[CopyRow]) -> dict[str, list[CopyRow]]:
    grouped: dict[str, list[CopyRow]] = defaultdict(list)
    for copy in copies:
        grouped[copy.branch_name].append(copy)
    return dict(grouped)


def copy_line(t: Translator, copy: CopyRow, day: date) -> str:
    shelf = clip(copy.shelf_mark, 40) if copy.shelf_mark else t.gettext("no shelf mark")
    return f"• {shelf} — {copy_status(t, copy, day)}"


def copy_status(t: Translator, copy: CopyRow, day: date) -> str:
    if copy.status == "available":
        if copy.not_loanable:
            return t.gettext("reading room only")
        return t.gettext("on the shelf")
    if copy.status == "on_loan":
        due = iso_date(copy.due_on)
        if due is not None:
            return t.gettext("on loan, due back: {date}", date=short_date(t, due, day))
        return t.gettext("on loan")
    if copy.status == "in_transit":
        return t.gettext("in transit")
    if copy.status == "on_hold_shelf":
        return t.gettext("on the hold shelf, kept for a reader")
    return t.gettext("not available")


def branch_summary(t: Translator, branch: str, copies: Sequence[CopyRow], day: date) -> str:
    """ "• Brugherio (853.914 ECO): 3 on the shelf, 2 on loan (first back: 12 Dec)"."""
    shelf = next((copy.shelf_mark for copy in copies if copy.shelf_mark), None)
    place = f"{branch} ({clip(shelf, 30)})" if shelf else branch
    on_shelf = sum(1 for c in copies if c.status == "available" and not c.not_loanable)
    reading = sum(1 for c in copies if c.status == "available" and c.not_loanable)
    on_loan = [c for c in copies if c.status == "on_loan"]
    away = sum(1 for c in copies if c.status in ("in_transit", "on_hold_shelf"))
    counts: list[str] = []
    if on_shelf:
        counts.append(t.ngettext("{n} on the shelf", "{n} on the shelf", on_shelf, n=on_shelf))
    if on_loan:
        dues = [due for c in on_loan if (due := iso_date(c.due_on)) is not None]
        loaned = t.ngettext("{n} on loan", "{n} on loan", len(on_loan), n=len(on_loan))
        if dues:
            first = short_date(t, min(dues), day)
            loaned += " " + t.gettext("(first back: {date})", date=first)
        counts.append(loaned)
    if away:
        counts.append(t.ngettext("{n} in transit", "{n} in transit", away, n=away))
    if reading:
        counts.append(
            t.ngettext("{n} reading room only", "{n} reading room only", reading, n=reading)
        )
    return f"• {place}: {', '.join(counts)}"


# -- holds -------------------------------------------------------------------------------------


def hold_state(t: Translator, hold: HoldStatus, names: dict[str, str]) -> str:
    """One line: where the hold stands and where it will be collected."""
    branch = names.get(hold.pickup, hold.pickup)
    if hold.state == "ready":
        if hold.expires_on is None:
            return t.gettext("✅ Ready to collect at {branch}", branch=branch)
        return t.gettext(
            "✅ Ready to collect at {branch} · Collect by: {date}",
            branch=branch,
            date=t.format_date(hold.expires_on),
        )
    if hold.state == "in_transit":
        return t.gettext("🚚 On its way to {branch}", branch=branch)
    parts: list[str] = []
    if hold.state == "suspended":
        if hold.suspended_until is not None:
            until = t.format_date(hold.suspended_until)
            parts.append(t.gettext("⏸ Suspended until: {date}", date=until))
        else:
            parts.append(t.gettext("⏸ Suspended"))
    else:
        parts.append(t.gettext("⏳ Waiting"))
    if hold.position is not None:
        parts.append(t.gettext("number {position} in the queue", position=hold.position))
    parts.append(t.gettext("Pickup: {branch}", branch=branch))
    return " · ".join(parts)


# The order a patron wants to read her holds in: what to collect first.
_STATE_ORDER = {"ready": 0, "in_transit": 1, "waiting": 2, "suspended": 3}


def holds_in_order(holds: Sequence[HoldStatus]) -> list[HoldStatus]:
    return sorted(holds, key=lambda hold: _STATE_ORDER.get(hold.state, 9))


# -- refusals ----------------------------------------------------------------------------------

# Reasons whose one-word detail is a number the sentence can use.
_LIMIT_REASONS = frozenset(
    {"hold_limit", "loan_limit", "renewal_limit", "short_loan_limit", "document_delivery_limit"}
)


def refusal_text(t: Translator, refusal: Refusal, names: dict[str, str], **extra: object) -> str:
    """The plain-words sentence for a refusal, with the details it carries.

    The service packs one word into ``detail`` (a limit, a branch code); ``extra`` adds what
    only the handler knows (the branch where a copy is on the shelf).
    """
    details: dict[str, object] = {}
    if refusal.detail:
        if refusal.code in _LIMIT_REASONS:
            details["limit"] = refusal.detail
        elif refusal.code in ("unknown_branch", "item_available"):
            details["branch"] = names.get(refusal.detail, refusal.detail)
        elif refusal.code in ("suspended", "too_early", "too_late", "staff_restriction"):
            details["date"] = refusal.detail
    details.update(extra)
    return reason_message(t, refusal.code, **details)


# -- replies -----------------------------------------------------------------------------------


def private_chat_url(context: BotContext) -> str:
    return f"https://t.me/{context.bot.username}"


def private_only_markup(t: Translator, context: BotContext) -> InlineKeyboardMarkup:
    return keyboard(
        [
            InlineKeyboardButton(
                t.gettext("💬 Open a private chat with me"), url=private_chat_url(context)
            )
        ]
    )


def private_only_text(t: Translator) -> str:
    return t.gettext(
        "Loans, holds and your card are personal, so I show them only in a private chat "
        "with me. Here in the group I can search the catalog: /search followed by a title."
    )


def ask_librarian_row(t: Translator, context: BotContext) -> list[InlineKeyboardButton]:
    """A "talk to a librarian" button, where the bot cannot help (nothing when the library
    has no staff group to answer)."""
    settings = context.bot_data.settings
    if settings is None or settings.telegram.staff_chat_id is None:
        return []
    return [InlineKeyboardButton(t.gettext("💬 Talk to a librarian"), callback_data="ho:ask")]


def link_first(t: Translator) -> tuple[str, InlineKeyboardMarkup]:
    """What an unlinked user reads when she asks for something that needs her card."""
    return (
        t.gettext(
            "To place holds and see them, link your library card first: you need its number "
            "and your PIN (ask at the desk if you do not have one)."
        ),
        keyboard(
            [
                InlineKeyboardButton(
                    t.gettext("🪪 Link my library card"), callback_data="link:start"
                )
            ],
            [InlineKeyboardButton(t.gettext("🔎 Search the catalog"), callback_data="search:help")],
        ),
    )


async def reply(
    update: Update,
    context: BotContext,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
    *,
    edit: bool = False,
) -> None:
    """Answer in the chat: edit the message whose button was pressed (``edit``), else send.

    Editing to the same content is not an error for the patron (she pressed the same page
    twice); a message Telegram will not edit any more (too old, deleted) gets a new one.
    """
    query = update.callback_query
    if edit and query is not None and isinstance(query.message, Message):
        try:
            await query.edit_message_text(text, reply_markup=markup)
            return
        except BadRequest as error:
            if "not modified" in str(error).lower():
                return
    chat = update.effective_chat
    if chat is None:
        return
    await context.bot.send_message(chat.id, text, reply_markup=markup)
