"""The Telegram side of a conversation that both directions share: its topic in the staff group
(created once, with a header about the patron), and what a relayed message carried.

A topic is created when the first message of a conversation arrives, under the patron's lock
(:class:`~bot.handlers.handoff_state.HandoffState`), so five messages sent at once make one
topic. Its header follows; the store remembers once it is posted, so a header Telegram failed
to take is posted before the patron's next messages are relayed. A topic can disappear under
the bot (a librarian deletes it, or closes it by hand): sending there fails with "message
thread not found" (or TOPIC_CLOSED), the conversation is replaced by a successor with a new
topic, and every message of the patron not yet relayed is sent again — a patron's message is
never dropped silently.
"""

from __future__ import annotations

import html
import logging

from telegram import Message
from telegram.error import BadRequest, TelegramError

from bot.handlers import render
from bot.handlers.context import BotContext, now
from bot.handlers.staff_access import staff_chat_id, staff_translator
from bot.i18n import Translator
from bot.services import handoff, patrons
from bot.services.errors import Refusal
from db import circulation as circulation_repo
from db.handoff import ConversationRow

log = logging.getLogger("bibliobot.handoff")

TOPIC_NAME_LIMIT = 128  # characters, createForumTopic


def topic_gone(error: TelegramError) -> bool:
    """Telegram's ways of saying a topic is no longer there to post in."""
    text = str(error).lower()
    return isinstance(error, BadRequest) and (
        "thread not found" in text
        or "topic_closed" in text
        or "topic_deleted" in text
        or "topic_id_invalid" in text
    )


def content_of(message: Message) -> handoff.Content:
    """What a message carried, for the transcript."""
    if message.text is not None:
        return handoff.Content("text", message.text, None)
    caption = message.caption
    if message.photo:
        return handoff.Content("photo", caption, message.photo[-1].file_id)
    for kind in ("document", "voice", "audio", "video", "animation", "video_note"):
        media = getattr(message, kind)
        if media is not None:
            return handoff.Content(kind, caption, media.file_id)
    if message.sticker is not None:
        return handoff.Content("sticker", message.sticker.emoji, message.sticker.file_id)
    return handoff.Content("other", caption, None)


def theme_name(t: Translator, theme: handoff.Theme | None, key: str) -> str:
    if theme is None:
        return key
    if theme.msgid is not None:
        return t.gettext(theme.msgid)
    return theme.names.get(t.language) or next(iter(theme.names.values()), theme.key)


async def name_of_theme(context: BotContext, t: Translator, key: str) -> str:
    return theme_name(t, await handoff.theme(context.library, key), key)


def topic_link(chat_id: int, topic_id: int) -> str:
    """t.me/c/… for a topic of a supergroup (its id without the -100 prefix)."""
    internal = str(chat_id).removeprefix("-100").lstrip("-")
    return f"https://t.me/c/{internal}/{topic_id}"


async def ensure_topic(
    context: BotContext, conversation: ConversationRow, who: str
) -> ConversationRow:
    """The conversation with its topic: created when it has none yet. Call with the patron's
    lock held; :func:`ensure_header` then opens it with the header."""
    if conversation.topic_id is not None:
        return conversation
    chat_id = staff_chat_id(context)
    assert chat_id is not None, "the handoff is offered only with a staff group"
    t = staff_translator(context)
    theme = await name_of_theme(context, t, conversation.theme)
    card = await _card(context, conversation)
    parts = [conversation.branch or "—", card or who, theme]
    name = render.clip(" · ".join(parts), TOPIC_NAME_LIMIT)
    topic = await context.bot.create_forum_topic(chat_id, name)
    await handoff.set_topic(context.library, conversation.conversation_id, topic.message_thread_id)
    updated = await handoff.conversation(context.library, conversation.conversation_id)
    assert updated is not None
    return updated


async def ensure_header(
    context: BotContext, conversation: ConversationRow, who: str
) -> ConversationRow:
    """Post the topic's header unless it is there already. The store remembers it once
    posted, so a header Telegram failed to take (right after the topic was made, or before a
    restart) is posted by the next relay, ahead of the patron's messages. Raises Telegram's
    error when it failed (the caller keeps the messages for later, so the order holds); a
    header Telegram refuses as a bad request (other than a lost topic) is skipped this time
    rather than holding the patron's messages back. Call with the patron's lock held."""
    if conversation.header_posted or conversation.topic_id is None:
        return conversation
    chat_id = staff_chat_id(context)
    assert chat_id is not None, "the handoff is offered only with a staff group"
    t = staff_translator(context)
    theme = await name_of_theme(context, t, conversation.theme)
    try:
        await context.bot.send_message(
            chat_id,
            await header(context, t, conversation, who, theme),
            parse_mode="HTML",
            message_thread_id=conversation.topic_id,
            disable_web_page_preview=True,
        )
    except BadRequest as error:
        if topic_gone(error):
            raise
        log.error("conversation %s: header refused: %s", conversation.conversation_id, error)
        return conversation
    await handoff.header_posted(context.library, conversation.conversation_id)
    updated = await handoff.conversation(context.library, conversation.conversation_id)
    assert updated is not None
    return updated


async def _card(context: BotContext, conversation: ConversationRow) -> str | None:
    """The card of the conversation's patron (None: not linked, or forgotten since)."""
    if conversation.patron_id is None:
        return None
    patron = await circulation_repo.patron_by_id(
        context.library.store.reader, conversation.patron_id
    )
    return patron.card if patron else None


async def header(
    context: BotContext, t: Translator, conversation: ConversationRow, who: str, theme: str
) -> str:
    """The topic's first message: who is asking, her standing at the library, her history."""
    names = await render.branch_names(context.library)
    branch = conversation.branch
    # TRANSLATORS: who answers a patron without a card asking a general question.
    anyone = t.gettext("any library")
    lines = [
        t.gettext("💬 <b>Conversation #{number}</b>", number=conversation.conversation_id),
        t.gettext(
            "Theme: {theme} · Answered by: {branch}",
            theme=html.escape(theme),
            branch=html.escape(names.get(branch, branch) if branch else anyone),
        ),
        t.gettext("Telegram: {name}", name=html.escape(who)),
    ]
    card = await _card(context, conversation)
    if card is None:
        lines.append(t.gettext("Not linked to a library card."))
    else:
        try:
            summary = await patrons.summary(context.library, card=card, now=now())
        except Refusal:
            summary = None
        if summary is not None:
            overdue = sum(1 for loan in summary.loans if loan.overdue_days > 0)
            ready = sum(1 for hold in summary.holds if hold.state == "ready")
            lines += [
                t.gettext(
                    "Patron: <b>{name}</b> · card {card} · home library: {branch}",
                    name=html.escape(summary.name),
                    card=html.escape(summary.card),
                    branch=html.escape(summary.home_branch_name),
                ),
                t.gettext("Status: {status}", status=status_name(t, summary.status)),
                t.ngettext(
                    "{n} loan ({overdue} overdue)",
                    "{n} loans ({overdue} overdue)",
                    len(summary.loans),
                    n=len(summary.loans),
                    overdue=overdue,
                )
                + " · "
                + t.ngettext(
                    "{n} hold ({ready} ready)",
                    "{n} holds ({ready} ready)",
                    len(summary.holds),
                    n=len(summary.holds),
                    ready=ready,
                )
                + " · "
                + t.gettext("fines: {amount}", amount=t.format_money(summary.fines_owed_cents)),
            ]
    earlier = await handoff.earlier(context.library, conversation)
    chat_id = staff_chat_id(context)
    if earlier and chat_id is not None:
        lines.append(t.gettext("Earlier conversations:"))
        for past in earlier:
            when = t.format_date(past.opened_at, "medium")
            past_theme = html.escape(await name_of_theme(context, t, past.theme))
            if past.topic_id is not None:
                link = topic_link(chat_id, past.topic_id)
                lines.append(f'• <a href="{link}">{when} — {past_theme}</a>')
            else:
                lines.append(f"• {when} — {past_theme}")
    else:
        lines.append(t.gettext("First conversation."))
    lines.append(
        t.gettext(
            "Reply in this topic to answer. #note at the start keeps a message among staff; "
            "/close ends the conversation, /canned lists ready answers."
        )
    )
    return "\n".join(lines)


def status_name(t: Translator, status: str) -> str:
    if status == "ok":
        return t.gettext("in good standing")
    if status == "suspended":
        return t.gettext("suspended")
    if status == "excluded":
        return t.gettext("excluded")
    return status


async def post_in_topic(context: BotContext, conversation: ConversationRow, text: str) -> None:
    """A line from the bot in the conversation's topic (best effort: the topic may be gone)."""
    chat_id = staff_chat_id(context)
    if chat_id is None or conversation.topic_id is None:
        return
    try:
        await context.bot.send_message(chat_id, text, message_thread_id=conversation.topic_id)
    except TelegramError:
        log.info("conversation %s: could not post in its topic", conversation.conversation_id)


async def reopen_topic(context: BotContext, conversation: ConversationRow) -> None:
    """A conversation open again: its topic too, with a line saying so (best effort)."""
    chat_id = staff_chat_id(context)
    if chat_id is None or conversation.topic_id is None:
        return
    try:
        await context.bot.reopen_forum_topic(chat_id, conversation.topic_id)
    except TelegramError as error:
        log.info("topic %s not reopened: %s", conversation.topic_id, error)
        return
    t = staff_translator(context)
    await post_in_topic(context, conversation, t.gettext("🔓 The conversation is open again."))
