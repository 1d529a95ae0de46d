"""How an interlibrary request reads: to the patron (her list, her notices) and to staff (the card).

Staff read the card in the library's default language; a patron reads her notices in her own.
Notices go through the outbox as HTML (the dispatcher sends them so), so what the patron typed
(the title) is escaped there; live replies are plain text.
"""

from __future__ import annotations

import html

from bot.circulation import IllScope, Policy
from bot.handlers import render
from bot.handlers.context import callback
from bot.i18n import N_, Translator
from bot.reminders.outgoing import Button, OutgoingMessage
from bot.services.interlibrary import IllView

TITLE_IN_TEXT = 120
TITLE_ON_CARD = 300

# TRANSLATORS: the networks an interlibrary loan can come from (G18).
SCOPE_NAMES = {
    IllScope.PROVINCIAL: N_("provincial network"),
    IllScope.REGIONAL: N_("regional network"),
    IllScope.NATIONAL: N_("national network"),
    IllScope.INTERNATIONAL: N_("international (from abroad)"),
}


def scope_name(t: Translator, scope: str) -> str:
    try:
        return t.gettext(SCOPE_NAMES[IllScope(scope)])
    except ValueError:
        return scope


def offered_scopes(policy: Policy) -> list[tuple[IllScope, bool]]:
    """The scopes the regulation offers, nearest first, with whether the patron pays."""
    ill = policy.interlibrary
    if ill is None:
        return []
    return [(scope, ill.scopes[scope].patron_pays) for scope in IllScope if scope in ill.scopes]


def offers_interlibrary(policy: Policy) -> bool:
    return policy.interlibrary is not None and bool(policy.interlibrary.scopes)


def scope_label(t: Translator, scope: IllScope, pays: bool) -> str:
    name = scope_name(t, scope)
    if pays:
        return t.gettext("💶 {network} — at your cost", network=name)
    return t.gettext("🆓 {network} — free", network=name)


def quoted(title: str, limit: int = TITLE_IN_TEXT) -> str:
    return f"«{render.clip(title, limit)}»"


def money(t: Translator, cents: int | None) -> str:
    return t.format_money(cents or 0)


# -- the patron's side -------------------------------------------------------------------------


def patron_state(t: Translator, request: IllView, branch: str) -> str:
    """One line: where the request stands, for the patron."""
    state = request.state
    if state == "awaiting_consent":
        if request.cost_cents is None:
            return t.gettext("⏳ The library will tell you the cost: nothing is ordered until then")
        return t.gettext(
            "💶 It costs {cost}: the library waits for your answer",
            cost=money(t, request.cost_cents),
        )
    if state == "requested":
        if request.consented:
            return t.gettext(
                "⏳ You agreed to pay {cost}: the library will order it",
                cost=money(t, request.cost_cents),
            )
        return t.gettext("⏳ Asked: the library will order it")
    if state == "ordered":
        return t.gettext("🚚 Ordered: on its way")
    if state == "arrived":
        return t.gettext("✅ Arrived: collect it at {branch}", branch=branch)
    if state == "not_available":
        return t.gettext("❌ Not available")
    if state == "returned":
        # A state, not the staff's button of the same English words (Italian tells them apart).
        return t.pgettext("interlibrary state", "✔ Returned")
    return t.gettext("✖ Withdrawn")


def consent_buttons(t: Translator, request: IllView) -> list[tuple[str, str]]:
    """(label, callback data) of "I agree to pay €X" and "No thanks", when they apply."""
    if request.state != "awaiting_consent" or request.cost_cents is None:
        return []
    return [
        (
            t.gettext("✅ I agree to pay {cost}", cost=money(t, request.cost_cents)),
            callback("ill", "ok", request.request_id, request.cost_cents),
        ),
        (t.gettext("✖ No thanks"), callback("ill", "no", request.request_id)),
    ]


def patron_notice(t: Translator, request: IllView, branch: str) -> OutgoingMessage | None:
    """What the patron is told when staff move her request on (HTML, for the outbox)."""
    title = html.escape(quoted(request.title))
    network = scope_name(t, request.scope)
    state = request.state
    buttons: tuple[tuple[Button, ...], ...] = ()
    if state == "awaiting_consent" and request.cost_cents is not None:
        text = t.gettext(
            "💶 The library can borrow {title} from the {network} for you. It costs {cost}, "
            "which you pay.\n\nNothing is ordered, and you owe nothing, until you agree. If you "
            "agree, the cost stays due even if you change your mind later.",
            title=title,
            network=network,
            cost=money(t, request.cost_cents),
        )
        buttons = (
            tuple(
                Button(text=label, callback_data=data)
                for label, data in consent_buttons(t, request)
            ),
        )
    elif state == "ordered":
        text = t.gettext(
            "🚚 Your request for {title} has been ordered from the {network}. I will tell you "
            "here when it arrives.",
            title=title,
            network=network,
        )
    elif state == "arrived":
        text = t.gettext(
            "✅ {title} has arrived from another library: you can collect it at {branch}.",
            title=title,
            branch=html.escape(branch),
        )
    elif state == "not_available":
        text = t.gettext(
            "❌ Sorry: {title} could not be found in the {network}. The request is closed and "
            "you owe nothing.",
            title=title,
            network=network,
        )
    elif state == "returned":
        text = t.gettext(
            "✔ {title} has gone back to the library that lent it. Thank you!", title=title
        )
    else:
        return None
    holds = (Button(text=t.gettext("📌 My holds"), callback_data="holds:list"),)
    return OutgoingMessage(text=text, buttons=(*buttons, holds) if buttons else (holds,))


# -- the staff card ----------------------------------------------------------------------------


def staff_state(t: Translator, request: IllView) -> str:
    state = request.state
    cost = money(t, request.cost_cents)
    if state == "awaiting_consent":
        if request.cost_cents is None:
            return t.gettext("💶 To price: set the cost; the patron then decides")
        return t.gettext("⏳ Cost {cost}: waiting for the patron's consent", cost=cost)
    if state == "requested":
        if request.consented:
            return t.gettext("📝 The patron agreed to pay {cost}: to order", cost=cost)
        return t.gettext("📝 New: to order")
    if state == "ordered":
        return t.gettext("🚚 Ordered")
    if state == "arrived":
        return t.gettext("✅ Arrived: the patron has been told")
    if state == "not_available":
        return t.gettext("❌ Not available: closed")
    if state == "returned":
        return t.gettext("✔ Returned: closed")
    if request.consented and request.cost_cents:
        return t.gettext("✖ Withdrawn by the patron after agreeing: {cost} charged", cost=cost)
    return t.gettext("✖ Withdrawn by the patron: closed")


def staff_card_text(t: Translator, request: IllView, pays: bool) -> str:
    lines = [
        t.gettext("📨 Interlibrary request #{number}", number=request.request_id),
        "",
        render.clip(request.title, TITLE_ON_CARD),
    ]
    if request.author:
        lines.append(t.gettext("Author: {author}", author=render.clip(request.author, 120)))
    if request.isbn:
        lines.append(t.gettext("ISBN: {isbn}", isbn=request.isbn))
    network = scope_name(t, request.scope)
    if pays:
        lines.append(t.gettext("From: {network} (at the patron's cost)", network=network))
    else:
        lines.append(t.gettext("From: {network} (free)", network=network))
    lines.append(
        t.gettext(
            "Patron: {name} (card {card})",
            name=render.clip(request.patron_name, 80),
            card=request.card,
        )
    )
    lines += ["", staff_state(t, request)]
    return "\n".join(lines)


def staff_card_buttons(t: Translator, request: IllView, pays: bool) -> list[tuple[str, str]]:
    """What staff may do now, as (label, callback data): ``ills:<step>:<request id>``."""
    number = request.request_id
    state = request.state
    buttons: list[tuple[str, str]] = []
    if state == "awaiting_consent" and pays:
        label = (
            t.gettext("💶 Set cost") if request.cost_cents is None else t.gettext("💶 Change cost")
        )
        buttons.append((label, callback("ills", "cost", number)))
    if state == "requested":
        buttons.append((t.gettext("🚚 Ordered"), callback("ills", "ord", number)))
    if state == "ordered":
        buttons.append((t.gettext("✅ Arrived"), callback("ills", "arr", number)))
    if state in ("requested", "awaiting_consent", "ordered"):
        buttons.append((t.gettext("❌ Not available"), callback("ills", "na", number)))
    if state == "arrived":
        buttons.append((t.gettext("✔ Returned"), callback("ills", "ret", number)))
    return buttons
